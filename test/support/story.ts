/**
 * Queues and in-process workers of a test's own (a fresh `QUEUE_PREFIX`), running every queue's job handler
 * on the test's clock: for stories dated away from the real clock, whose jobs the shared worker would refuse
 * (a login dated ahead of the worker's clock) and no other test should see.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Config } from '../../config/index.js';
import { closeQueues, createQueues, QUEUE_NAMES, type Queues } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/lib/logger.js';
import { closeRedis, createRedis } from '../../src/lib/redis.js';
import { eventually } from './auth.js';
import { jobHandler } from '../../src/workers/processors.js';
import { testConfig } from './env.js';
import { redis } from './hooks.js';

export interface Story {
  prefix: string;
  config: Config;
  queues: Queues;
  /** Resolves once no job of the story's queues waits, runs or is delayed. */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function storyWorkers(name: string, now: () => Date): Story {
  const prefix = `{${name}-${randomBytes(4).toString('hex')}}`;
  const config = testConfig({ QUEUE_PREFIX: prefix });
  const queues = createQueues(config, redis());
  const connection = createRedis(config, 'bullmq');
  const logger = createLogger({ level: 'silent' });
  const workers = QUEUE_NAMES.map(
    (q) => new Worker(q, jobHandler(q, { logger, config, queues, now }), { connection, prefix }),
  );
  return {
    prefix,
    config,
    queues,
    async drained(timeoutMs = 60_000) {
      await eventually(
        async () => {
          const counts = await Promise.all(
            Object.values(queues).map((q) => q.getJobCounts('waiting', 'active', 'delayed')),
          );
          return counts.every((c) => (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0);
        },
        timeoutMs,
        'the queues drained',
      );
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })));
      await closeQueues(queues);
      await closeRedis(connection);
    },
  };
}
