/**
 * What every processor of `src/workers/` gets besides its job: kept apart from `processors.ts` (the queue →
 * processor table), which imports the processors, so no processor imports it back.
 */
import type { Job } from 'bullmq';
import type { Config } from '../../config/index.js';
import type { Queues } from '../jobs/queues.js';
import type { Logger } from '../lib/logger.js';

export interface JobContext {
  log: Logger;
  config: Config;
  now: () => Date;
  /** Producers, for the processors that enqueue (the outbox relay). */
  queues: Queues;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Processor = (job: Job<any>, ctx: JobContext) => Promise<unknown>;
