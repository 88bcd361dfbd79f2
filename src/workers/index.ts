/**
 * The worker dyno: consumes every queue of `src/jobs/queues.ts`. It is the
 * only process that runs jobs. It upserts the job schedulers (the outbox
 * relay, the account-deletion sweep, the expiry sweep) at start; upserting is idempotent, so
 * any number of workers may. On SIGTERM it stops taking new jobs, lets the
 * active ones finish, then closes Redis and MongoDB.
 */
import { Worker } from 'bullmq';
import { loadConfig } from '../../config/index.js';
import { scheduleAccountDeletionSweep } from '../jobs/account-deletion.js';
import { scheduleExpirySweep } from '../jobs/expiry-sweep.js';
import { scheduleOutboxRelay } from '../jobs/outbox.js';
import { closeQueues, createQueues, QUEUE_NAMES } from '../jobs/queues.js';
import { bootOrExit, installLifecycle } from '../lib/lifecycle.js';
import { createLogger } from '../lib/logger.js';
import { startWorkerMetricsServer, workerMetrics } from '../lib/metrics.js';
import { connectMongo, disconnectMongo } from '../lib/mongo.js';
import { closeRedis, createRedis } from '../lib/redis.js';
import { registerModels } from '../models/index.js';
import { flushMarkers } from '../services/rollups.js';
import { jobHandler } from './processors.js';

const config = await bootOrExit(() => loadConfig());
const logger = createLogger({ level: config.logLevel, name: 'worker' });

const connection = createRedis(config, 'bullmq');
connection.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
const producers = createQueues(config, connection);

const workers: Worker[] = [];
const metrics = workerMetrics(QUEUE_NAMES);
/** Set once the worker runs (WORKER_METRICS_PORT); a shutdown during boot finds none. */
let metricsServer: Awaited<ReturnType<typeof startWorkerMetricsServer>> = undefined;
/** Removes counted facts' markers from their rollup cells every few seconds (src/services/rollups.ts). */
const markerFlush = setInterval(() => {
  flushMarkers().catch((err: unknown) => logger.warn({ err }, 'rollup markers: flush failed; retried later'));
}, 5_000);
markerFlush.unref();
const lifecycle = installLifecycle({
  logger,
  timeoutMs: config.shutdownTimeoutMs,
  steps: () => [
    // close() waits for the active jobs of each worker to finish.
    { name: 'workers', run: () => Promise.all(workers.map((w) => w.close())) },
    { name: 'rollup markers', run: () => (clearInterval(markerFlush), flushMarkers()) },
    { name: 'queues', run: () => closeQueues(producers) },
    { name: 'redis', run: () => closeRedis(connection) },
    { name: 'mongodb', run: () => disconnectMongo() },
    {
      name: 'metrics',
      run: () => new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve())),
    },
  ],
});

try {
  await connectMongo(config);
  registerModels();
} catch (err) {
  logger.fatal({ err }, 'cannot connect to MongoDB');
  await lifecycle.shutdown('boot failed', 1);
}

for (const name of QUEUE_NAMES) {
  // Checks the payload, then runs the queue's processor (see `jobHandler`).
  const worker = new Worker(name, jobHandler(name, { logger, config, queues: producers, now: () => new Date() }), {
    connection,
    prefix: config.redis.queuePrefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
  });
  worker.on('completed', () => metrics.completed.inc({ queue: name }));
  worker.on('failed', (job, err) => {
    metrics.failed.inc({ queue: name });
    logger.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err }, 'job failed');
  });
  worker.on('error', (err) => logger.error({ queue: name, err }, 'worker error'));
  workers.push(worker);
}

await scheduleAccountDeletionSweep(producers, config.accounts.deletionSweepEveryMs);
await scheduleOutboxRelay(producers, config.outbox.relayEveryMs);
await scheduleExpirySweep(producers, config.expirySweepEveryMs);
metricsServer = await startWorkerMetricsServer(config, logger, metrics); // WORKER_METRICS_PORT; off by default
logger.info({ queues: QUEUE_NAMES, concurrency: config.workerConcurrency }, 'worker started');
