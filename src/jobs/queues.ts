/**
 * The queues of the system and their producers. The web process only
 * enqueues; `src/workers/index.ts` consumes. Payloads carry ids, never
 * personal data, codes or tokens.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../../config/index.js';
import type { Redis } from '../lib/redis.js';

export const QUEUE_NAMES = [
  'signup-attribution',
  'last-login',
  'registration-completed',
  'funnel',
  'audit',
  'account-deletion',
  'outbox-relay',
  'expiry-sweep',
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Retries with exponential backoff; failed jobs are kept a week for inspection. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export type Queues = Record<QueueName, Queue>;

export function createQueues(config: Config, connection: Redis): Queues {
  return Object.fromEntries(
    QUEUE_NAMES.map((name) => [
      name,
      new Queue(name, { connection, prefix: config.redis.queuePrefix, defaultJobOptions: DEFAULT_JOB_OPTIONS }),
    ]),
  ) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
