/**
 * Records a new user's first-touch attribution once, and counts it in the signups rollup once. Idempotent:
 * the record's `_id` is the user's id, so a second delivery inserts nothing (src/services/rollups.ts).
 */
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import type { SignupAttributionJob } from '../jobs/signup-attribution.js';
import { findById } from '../models/by-id.js';
import { users } from '../models/collections.js';
import { NONE, recordFact } from '../services/rollups.js';
import { writerOf, type JobContext } from './context.js';

export { NONE };

export async function processSignupAttribution(
  job: Job<SignupAttributionJob>,
  ctx: JobContext,
): Promise<{ recorded: boolean }> {
  const userId = new Types.ObjectId(job.data.userId);
  const user = await findById(users(), userId, {
    signupSource: 1,
    signupCampaign: 1,
    signupMedium: 1,
    clickIdType: 1,
    signupCountry: 1,
    signupPlatform: 1,
    createdAt: 1,
  });
  if (!user) {
    ctx.log.warn({ userId: job.data.userId }, 'signup attribution: user no longer exists; nothing to record');
    return { recorded: false };
  }
  const recorded = await recordFact(
    'signup',
    {
      _id: userId,
      source: user.signupSource ?? NONE,
      campaign: user.signupCampaign ?? NONE,
      medium: user.signupMedium ?? NONE,
      ...(user.clickIdType ? { clickIdType: user.clickIdType } : {}),
      country: user.signupCountry ?? null,
      platform: user.signupPlatform ?? null,
      day: user.createdAt.toISOString().slice(0, 10),
      signedUpAt: user.createdAt,
      recordedAt: ctx.now(),
    },
    writerOf(job, ctx),
  );
  return { recorded };
}
