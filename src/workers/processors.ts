/**
 * The processor of each queue. Every processor is idempotent: BullMQ
 * delivers at least once, so running a job twice must not count twice.
 */
import type { Job } from 'bullmq';
import type { Config } from '../../config/index.js';
import type { QueueName, Queues } from '../jobs/queues.js';
import type { Logger } from '../lib/logger.js';
import { processAccountDeletionSweep } from './account-deletion.js';
import { processExpirySweep } from './expiry-sweep.js';
import { processFunnel } from './funnel.js';
import { processOutboxRelay } from './outbox-relay.js';
import { processLastLogin } from './last-login.js';
import { processRegistrationCompleted } from './registration-completed.js';
import { processSignupAttribution } from './signup-attribution.js';

export interface JobContext {
  log: Logger;
  config: Config;
  now: () => Date;
  /** Producers, for the processors that enqueue (the outbox relay). */
  queues: Queues;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Processor = (job: Job<any>, ctx: JobContext) => Promise<unknown>;

export const processors: Record<QueueName, Processor> = {
  'signup-attribution': processSignupAttribution,
  'last-login': processLastLogin,
  'registration-completed': processRegistrationCompleted,
  funnel: processFunnel,
  'account-deletion': processAccountDeletionSweep,
  'outbox-relay': processOutboxRelay,
  'expiry-sweep': processExpirySweep,
};
