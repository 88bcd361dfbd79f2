/**
 * Records a registration completion for the funnel, once per user (the
 * record's `_id` is the user's id), with the user's signup facts so that
 * cohort reports (by signup day, source, campaign) need no join.
 */
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import type { RegistrationCompletedJob } from '../jobs/registration-completed.js';
import { users } from '../models/collections.js';
import type { UserRecord } from '../models/user.js';
import { NONE, recordFact } from '../services/rollups.js';
import { writerOf, type JobContext } from './context.js';

export async function processRegistrationCompleted(
  job: Job<RegistrationCompletedJob>,
  ctx: JobContext,
): Promise<{ recorded: boolean }> {
  const userId = new Types.ObjectId(job.data.userId);
  const user = await users().findOne<
    Pick<
      UserRecord,
      'signupSource' | 'signupCampaign' | 'signupMedium' | 'signupCountry' | 'signupPlatform' | 'createdAt'
    >
  >(
    { _id: userId },
    {
      projection: {
        signupSource: 1,
        signupCampaign: 1,
        signupMedium: 1,
        signupCountry: 1,
        signupPlatform: 1,
        createdAt: 1,
      },
    },
  );
  if (!user) {
    ctx.log.warn({ userId: job.data.userId }, 'registration-completed: user no longer exists; nothing to record');
    return { recorded: false };
  }
  const completedAt = new Date(job.data.completedAt);
  const recorded = await recordFact(
    'completion',
    {
      _id: userId,
      signupDay: user.createdAt.toISOString().slice(0, 10),
      signedUpAt: user.createdAt,
      source: user.signupSource ?? NONE,
      campaign: user.signupCampaign ?? NONE,
      medium: user.signupMedium ?? NONE,
      country: user.signupCountry ?? null,
      platform: user.signupPlatform ?? null,
      day: completedAt.toISOString().slice(0, 10),
      completedAt,
      recordedAt: ctx.now(),
    },
    writerOf(job, ctx),
  );
  return { recorded };
}
