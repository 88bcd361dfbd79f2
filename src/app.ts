/**
 * `createApp(deps)` builds the Express app and nothing else: no listening, no
 * connecting. `src/server.ts` owns the process; tests build apps directly.
 */
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Connection } from 'mongoose';
import type { Config } from '../config/index.js';
import { Publisher } from './jobs/outbox.js';
import type { Queues } from './jobs/queues.js';
import type { Logger } from './lib/logger.js';
import type { Mailer } from './lib/mail/index.js';
import { httpMetrics, otpMetrics } from './lib/metrics.js';
import type { Redis } from './lib/redis.js';
import { createSmsProvider, type SmsProvider } from './lib/sms/index.js';
import { clientHeaders } from './middleware/client-headers.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { adminRouter } from './routes/admin.js';
import { analyticsRouter } from './routes/analytics.js';
import { authRouter } from './routes/auth.js';
import { dashboardRouter } from './routes/dashboard.js';
import { docsRouter } from './routes/docs.js';
import { healthRouter } from './routes/health.js';
import { metricsRouter } from './routes/metrics.js';
import { queueDashboardRouter } from './routes/queue-dashboard.js';
import { usersRouter } from './routes/users.js';
import { RateLimits } from './services/rate-limits.js';
import { SessionGuard } from './services/session-guard.js';

/** Every operation of the API lives under it; each of its responses is `Cache-Control: no-store`. */
export const API_PREFIX = '/api/v1';

export interface AppDeps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  /** Fail-fast client (no offline queue): rate limits and readiness. */
  redis: Redis;
  /** Producers only; the worker process consumes. */
  queues: Queues;
  /** Outbox + enqueue; defaults to one over `queues` (the server passes its own to drain it at shutdown). */
  publisher?: Publisher;
  /** Defaults to the provider named by the config. */
  sms?: SmsProvider;
  /** Owned by the caller (it holds connections): `createMailer(config.mail, logger)`. */
  mailer: Mailer;
  /** Injected in tests that move time. */
  clock?: () => Date;
}

export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();

  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.set('etag', false);

  app.use(requestContext(deps.logger));
  app.use(httpMetrics(deps)); // first, so it times every request
  app.use(helmet());
  app.use(
    cors({
      // Only listed origins get CORS headers; requests without an Origin (mobile apps) are unaffected.
      origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 600,
    }),
  );
  // Tokens, codes and signed-in users' data: no browser, proxy or CDN may keep an API response (RFC 9111
  // §5.2.2.5). Ahead of the body parser, so its 400/413/415 on these paths say so too.
  app.use(API_PREFIX, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(
    express.json({ limit: config.http.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }),
  );

  app.use(clientHeaders);

  app.use(healthRouter(deps));
  const clock = deps.clock ?? (() => new Date());
  const guard = new SessionGuard(config.sessions.cacheTtlMs, clock);
  const publisher = deps.publisher ?? new Publisher(deps.queues, clock);
  const limits = new RateLimits(deps.redis, config);
  app.use(
    authRouter({
      config,
      publisher,
      limits,
      sms: deps.sms ?? createSmsProvider(config.sms, deps.logger),
      mailer: deps.mailer,
      guard,
      clock,
      otpMetrics: otpMetrics(deps),
    }),
  );
  app.use(usersRouter({ config, publisher, guard, clock }));
  app.use(analyticsRouter({ config, guard, clock }));
  app.use(adminRouter({ config, limits, guard, clock }));
  app.use(dashboardRouter());
  app.use(docsRouter(config));
  app.use(metricsRouter(deps));
  app.use(queueDashboardRouter({ config, queues: deps.queues, guard, clock }));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
