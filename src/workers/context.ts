/**
 * What every processor of `src/workers/` gets besides its job: kept apart from `processors.ts` (the queue →
 * processor table), which imports the processors, so no processor imports it back.
 */
import type { Job } from 'bullmq';
import type { Config } from '../../config/index.js';
import type { AuditJob } from '../jobs/audit.js';
import type { FunnelJob } from '../jobs/funnel.js';
import type { LastLoginJob } from '../jobs/last-login.js';
import type { QueueName, Queues } from '../jobs/queues.js';
import type { RegistrationCompletedJob } from '../jobs/registration-completed.js';
import type { SignupAttributionJob } from '../jobs/signup-attribution.js';
import type { Logger } from '../lib/logger.js';
import type { FactWriter } from '../services/rollups.js';

export interface JobContext {
  log: Logger;
  config: Config;
  now: () => Date;
  /** Producers, for the processors that enqueue (the outbox relay). */
  queues: Queues;
}

/**
 * The payload of each queue's jobs (the schedulers' queues carry none). The worker checks every payload
 * against its queue's schema (src/jobs/payloads.ts) before its processor sees it.
 */
export interface JobPayloads {
  'signup-attribution': SignupAttributionJob;
  'last-login': LastLoginJob;
  'registration-completed': RegistrationCompletedJob;
  funnel: FunnelJob;
  audit: AuditJob;
  'account-deletion': unknown;
  'outbox-relay': unknown;
  'expiry-sweep': unknown;
}

/** A queue's processor: its own payload type, the shared context. */
export type Processor<Q extends QueueName> = (job: Job<JobPayloads[Q]>, ctx: JobContext) => Promise<unknown>;
/** The queue → processor table: each processor typed by its queue's payload. */
export type Processors = { [Q in QueueName]: Processor<Q> };

/** The attempt of `job` as the writer of the facts it records (src/services/rollups.ts). */
export const writerOf = (job: Job, ctx: JobContext): FactWriter => ({
  job: `${job.queueName}:${String(job.id)}`,
  attempt: job.attemptsMade,
  now: ctx.now(),
  takeoverMs: 2 * ctx.config.worker.lockDurationMs,
});
