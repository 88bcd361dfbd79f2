/**
 * The scheduled expiry sweep (src/services/expiry.ts), which also seals the
 * rollups' closed days (`sealClosedDays`, src/services/rollups.ts). Idempotent:
 * a second run finds nothing more to delete or seal.
 */
import type { Job } from 'bullmq';
import mongoose from 'mongoose';
import { sweepExpired, type SweepReport } from '../services/expiry.js';
import { sealClosedDays } from '../services/rollups.js';
import type { JobContext } from './context.js';

export async function processExpirySweep(_job: Job, ctx: JobContext): Promise<SweepReport> {
  const report = await sweepExpired(mongoose.connection, ctx.now());
  if (Object.keys(report.deleted).length > 0) ctx.log.info(report, 'expired documents deleted');
  const sealed = await sealClosedDays();
  if (Object.keys(sealed).length > 0) ctx.log.info({ sealed }, 'rollup days sealed');
  return report;
}
