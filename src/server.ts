/**
 * The web dyno: connect, listen, and shut down gracefully. Never runs jobs.
 */
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { loadConfig } from '../config/index.js';
import { createApp } from './app.js';
import { Publisher } from './jobs/outbox.js';
import { closeQueues, createQueues } from './jobs/queues.js';
import { createHttpServer } from './lib/http-server.js';
import { installLifecycle, bootOrExit } from './lib/lifecycle.js';
import { createLogger } from './lib/logger.js';
import { createMailer } from './lib/mail/index.js';
import { connectMongo, disconnectMongo } from './lib/mongo.js';
import { closeRedis, createRedis, redisReady } from './lib/redis.js';

const config = await bootOrExit(() => loadConfig());
const logger = createLogger({ level: config.logLevel, name: 'web' });

const redis = createRedis(config, 'client');
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));

const queues = createQueues(config, redis);
const mailer = createMailer(config.mail, logger);
const publisher = new Publisher(queues, () => new Date());
const app = createApp({ config, logger, mongo: mongoose.connection, redis, queues, mailer, publisher });
const server = createHttpServer(app);
// Longer than Heroku's router idle timeout (55 s) so the router closes first.
server.keepAliveTimeout = 65_000;

let draining = false;
/** How long responses announce `Connection: close` before the listener closes. */
/** How long boot waits for Redis before listening anyway. */
const REDIS_BOOT_WAIT_MS = 5000;
const DRAIN_MS = Math.min(2000, config.shutdownTimeoutMs / 4);
server.on('request', (_req, res) => {
  if (draining) res.setHeader('Connection', 'close');
});

const lifecycle = installLifecycle({
  logger,
  timeoutMs: config.shutdownTimeoutMs,
  steps: () => [
    {
      name: 'http',
      run: () =>
        new Promise<void>((resolve) => {
          // First every response says `Connection: close`, so clients drop their keep-alive
          // sockets after their current request; only then stop listening. (Node's close()
          // also closes idle keep-alive sockets, and closing one while a client is sending on
          // it fails that request.) In-flight requests finish either way.
          draining = true;
          setTimeout(() => {
            server.close(() => resolve());
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            server.once('close', () => clearInterval(sweep));
          }, DRAIN_MS);
        }),
    },
    // Events still on their fast path are enqueued now (or left to the outbox relay).
    { name: 'publisher', run: () => publisher.drain() },
    { name: 'queues', run: () => closeQueues(queues) },
    { name: 'mailer', run: async () => mailer.close() },
    { name: 'redis', run: () => closeRedis(redis) },
    { name: 'mongodb', run: () => disconnectMongo() },
  ],
});

try {
  await connectMongo(config);
} catch (err) {
  logger.fatal({ err }, 'cannot connect to MongoDB');
  await lifecycle.shutdown('boot failed', 1);
}
// Give Redis (a cluster client first reads the slot map and connects to each master) a moment before
// taking traffic, so a fresh dyno's first requests find it ready. Without Redis the web still serves
// logins (limits in memory, events through the outbox), so it listens anyway after the wait.
await redisReady(redis, REDIS_BOOT_WAIT_MS).catch((err: Error) =>
  logger.warn({ err: err.message }, 'listening before Redis is ready'),
);

server.listen(config.port, () => {
  const { port } = server.address() as AddressInfo;
  logger.info({ port, env: config.nodeEnv }, 'web listening');
});
