/**
 * The scheduled sweep: finalizes deletion requests whose grace period has
 * passed. Overlapping or repeated sweeps finalize each account once (see
 * `finalizeAccount`).
 */
import type { Job } from 'bullmq';
import { finalizeDue } from '../services/account-deletion.js';
import type { JobContext } from './context.js';

export async function processAccountDeletionSweep(
  _job: Job,
  ctx: JobContext,
): Promise<{ finalized: number; seen: number }> {
  const result = await finalizeDue(ctx.now());
  if (result.seen > 0) ctx.log.info(result, 'account deletion sweep');
  return result;
}
