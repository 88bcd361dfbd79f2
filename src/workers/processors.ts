/**
 * The processor of each queue. Every processor is idempotent: BullMQ
 * delivers at least once, so running a job twice must not count twice.
 */
import type { Job } from 'bullmq';
import type { Config } from '../../config/index.js';
import type { QueueName } from '../jobs/queues.js';
import type { Logger } from '../lib/logger.js';

export interface JobContext {
  log: Logger;
  config: Config;
}

export type Processor = (job: Job, ctx: JobContext) => Promise<unknown>;

export const processors: Record<QueueName, Processor> = {
  'signup-attribution': async () => undefined,
  'last-login': async () => undefined,
};
