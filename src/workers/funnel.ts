/**
 * Records a funnel step (`otp-sent`, `otp-verified`) once per code, and counts it in the funnel rollup once.
 */
import type { Job } from 'bullmq';
import type { FunnelJob } from '../jobs/funnel.js';
import { funnelJobId } from '../jobs/funnel.js';
import { recordFact } from '../services/rollups.js';
import { writerOf, type JobContext } from './context.js';

export async function processFunnel(job: Job<FunnelJob>, ctx: JobContext): Promise<{ recorded: boolean }> {
  const d = job.data;
  const at = new Date(d.at);
  if (Number.isNaN(at.getTime())) throw new Error('funnel job without a valid time');
  const recorded = await recordFact(
    'funnel',
    {
      _id: funnelJobId(d.step, d.codeId),
      step: d.step,
      day: at.toISOString().slice(0, 10),
      at,
      channel: d.channel,
      country: d.country,
      platform: d.platform,
      source: d.source,
      campaign: d.campaign,
      medium: d.medium ?? null,
    },
    writerOf(job, ctx),
  );
  return { recorded };
}
