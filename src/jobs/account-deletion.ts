/**
 * The account-deletion sweep: a BullMQ job scheduler (upserted by the worker
 * at start, so one schedule exists however many workers run) that finalizes
 * every deletion request whose grace period has passed.
 */
import type { Queues } from './queues.js';

export const ACCOUNT_DELETION_SCHEDULER_ID = 'account-deletion-sweep';

export async function scheduleAccountDeletionSweep(queues: Queues, everyMs: number): Promise<void> {
  await queues['account-deletion'].upsertJobScheduler(
    ACCOUNT_DELETION_SCHEDULER_ID,
    { every: everyMs },
    { name: 'finalize-due', data: {} },
  );
}
