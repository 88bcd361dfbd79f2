/**
 * `GET /metrics`: Prometheus text format (process, HTTP, OTP and queue metrics; see `src/lib/metrics.ts`).
 * Protected by `METRICS_TOKEN` as a bearer token (401 in the envelope without it); open only outside
 * production when no token is set. Not mounted when `METRICS_ENABLED=false`.
 */
import { Router } from 'express';
import { unauthorized } from '../lib/errors.js';
import { appMetrics, bearerMatches, type MetricsDeps } from '../lib/metrics.js';
import { defineRoute } from './define.js';

const challenge = { 'WWW-Authenticate': 'Bearer realm="metrics"' };

export function metricsRouter(deps: MetricsDeps): Router {
  const router = Router();
  if (!deps.config.metrics.enabled) return router;
  const metrics = appMetrics(deps);
  const token = deps.config.metrics.token;

  defineRoute(router, '/metrics', {
    get: [
      async (req, res) => {
        if (token !== undefined) {
          const header = req.get('authorization');
          if (!header)
            throw unauthorized({
              errorCode: 'TOKEN_MISSING',
              messages: ['Authorization: the metrics bearer token is required'],
              headers: challenge,
            });
          if (!bearerMatches(header, token))
            throw unauthorized({
              errorCode: 'TOKEN_INVALID',
              messages: ['Authorization: wrong metrics token'],
              headers: challenge,
            });
        }
        const body = await metrics.render();
        res.status(200).set({ 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).send(body);
      },
    ],
  });
  return router;
}
