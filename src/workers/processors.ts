/**
 * The processor of each queue, and the wrapper that runs them. Every
 * processor is idempotent: BullMQ delivers at least once, so running a job
 * twice must not count twice.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { Config } from '../../config/index.js';
import { payloadProblems } from '../jobs/payloads.js';
import type { QueueName, Queues } from '../jobs/queues.js';
import type { Logger } from '../lib/logger.js';
import { processAccountDeletionSweep } from './account-deletion.js';
import { processAudit } from './audit.js';
import type { Processors } from './context.js';
import { processExpirySweep } from './expiry-sweep.js';
import { processFunnel } from './funnel.js';
import { processOutboxRelay } from './outbox-relay.js';
import { processLastLogin } from './last-login.js';
import { processRegistrationCompleted } from './registration-completed.js';
import { processSignupAttribution } from './signup-attribution.js';

export const processors: Processors = {
  'signup-attribution': processSignupAttribution,
  'last-login': processLastLogin,
  'registration-completed': processRegistrationCompleted,
  funnel: processFunnel,
  audit: processAudit,
  'account-deletion': processAccountDeletionSweep,
  'outbox-relay': processOutboxRelay,
  'expiry-sweep': processExpirySweep,
};

export interface JobHandlerDeps {
  logger: Logger;
  config: Config;
  queues: Queues;
  /** The worker's clock (tests that move time pass theirs). */
  now: () => Date;
}

/**
 * The one wrapper every job of `queue` runs through (the worker's `new Worker(queue, …)` callback): the
 * payload is checked against its queue's schema (`src/jobs/payloads.ts`) first, and a payload that does not
 * fit fails the job for good (`UnrecoverableError`: BullMQ makes no further attempt), with an error naming
 * the bad fields and none of their values. Then a child logger per job, and the processor.
 */
export function jobHandler(queue: QueueName, deps: JobHandlerDeps): (job: Job) => Promise<unknown> {
  const processor = processors[queue];
  return async (job) => {
    const problems = payloadProblems(queue, job.data, deps.now());
    if (problems) throw new UnrecoverableError(`${queue} job payload refused: ${problems}`);
    // `reqId` is logged only now that the schema has vouched for it.
    const log = deps.logger.child({
      queue,
      jobId: job.id,
      attempt: job.attemptsMade + 1,
      reqId: (job.data as { reqId?: string }).reqId,
    });
    log.debug('job started');
    // The payload has passed its queue's schema: it is the `JobPayloads[queue]` the processor is typed for.
    const result = await processor(job, { log, config: deps.config, now: deps.now, queues: deps.queues });
    log.debug('job done'); // per-job lines only at debug: failures are logged at warn
    return result;
  };
}
