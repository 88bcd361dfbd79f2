/**
 * `GET /healthz`: the process is alive (no dependency checked, so a Redis or
 * MongoDB outage never gets the dyno restarted).
 * `GET /readyz`: MongoDB and Redis both answer; 503 in the envelope when not.
 */
import { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Config } from '../../config/index.js';
import { sendData } from '../lib/envelope.js';
import { serviceUnavailable } from '../lib/errors.js';
import { pingMongo } from '../lib/mongo.js';
import type { Redis } from '../lib/redis.js';
import { withTimeout } from '../lib/timeout.js';
import { defineRoute } from './define.js';

/** What the probes check (a subset of the app's deps). */
export interface HealthDeps {
  config: Config;
  mongo: Connection;
  redis: Redis;
}

export function healthRouter(deps: HealthDeps): Router {
  const router = Router();

  defineRoute(router, '/healthz', {
    get: [(_req, res) => sendData(res, 200, { status: 'ok', uptimeSeconds: Math.round(process.uptime()) })],
  });

  defineRoute(router, '/readyz', {
    get: [
      async (req, res) => {
        const timeout = deps.config.readinessTimeoutMs;
        const [mongo, redis] = await Promise.allSettled([
          pingMongo(deps.mongo, timeout),
          withTimeout(deps.redis.ping(), timeout, 'redis ping timed out'),
        ]);
        const checks = {
          mongodb: mongo.status === 'fulfilled' ? 'up' : 'down',
          redis: redis.status === 'fulfilled' ? 'up' : 'down',
        };
        const down = Object.entries(checks)
          .filter(([, v]) => v === 'down')
          .map(([k]) => k);
        if (down.length > 0) {
          req.log.warn({ checks, mongoError: errText(mongo), redisError: errText(redis) }, 'not ready');
          throw serviceUnavailable({ messages: down.map((d) => `${d}: not reachable`), details: { checks } });
        }
        sendData(res, 200, { status: 'ready', checks });
      },
    ],
  });
  return router;
}

function errText(r: PromiseSettledResult<unknown>): string | undefined {
  return r.status === 'rejected' ? String((r.reason as Error)?.message ?? r.reason) : undefined;
}
