/**
 * The expiry sweep: a BullMQ job scheduler (upserted by every worker at start;
 * one schedule exists however many run) that deletes expired documents. See
 * `sweepExpired` in src/services/expiry.ts.
 */
import type { Queues } from './queues.js';

export const EXPIRY_SWEEP_SCHEDULER_ID = 'expiry-sweep';

export async function scheduleExpirySweep(queues: Queues, everyMs: number): Promise<void> {
  await queues['expiry-sweep'].upsertJobScheduler(
    EXPIRY_SWEEP_SCHEDULER_ID,
    { every: everyMs },
    { name: 'sweep', data: {} },
  );
}
