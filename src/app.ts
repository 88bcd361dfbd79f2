/**
 * `createApp(deps)` builds the Express app and nothing else: no listening, no
 * connecting. `src/server.ts` owns the process; tests build apps directly.
 */
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Connection } from 'mongoose';
import type { Config } from '../config/index.js';
import type { Logger } from './lib/logger.js';
import type { Redis } from './lib/redis.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { healthRouter } from './routes/health.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  redis: Redis;
}

export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();

  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.set('etag', false);

  app.use(requestContext(deps.logger));
  app.use(helmet());
  app.use(
    cors({
      // Only listed origins get CORS headers; requests without an Origin (mobile apps) are unaffected.
      origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 600,
    }),
  );
  app.use(express.json({ limit: config.http.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }));

  app.use(healthRouter(deps));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
