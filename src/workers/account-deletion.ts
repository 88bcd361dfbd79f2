/**
 * The scheduled sweep: finalizes deletion requests whose grace period has
 * passed. Overlapping or repeated sweeps finalize each account once (see
 * `finalizeAccount`), and each finalization is recorded once in the audit trail.
 */
import type { Job } from 'bullmq';
import { auditEventId } from '../jobs/audit.js';
import { finalizeDue } from '../services/account-deletion.js';
import { recordOnce } from '../services/audit.js';
import type { JobContext } from './context.js';

export async function processAccountDeletionSweep(
  _job: Job,
  ctx: JobContext,
): Promise<{ finalized: number; seen: number }> {
  const now = ctx.now();
  const result = await finalizeDue(now, 100, (userId) =>
    recordOnce(
      ctx.config,
      auditEventId({ type: 'deletion-finalized', userId: userId.toHexString(), at: now.toISOString() }),
      {
        type: 'deletion-finalized',
        at: now,
        actorKind: 'system',
        targetUserId: userId,
        details: { scheduled: true },
      },
    ),
  );
  if (result.seen > 0) ctx.log.info(result, 'account deletion sweep');
  return result;
}
