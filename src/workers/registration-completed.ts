/**
 * Records a registration completion for the funnel, once per user (the
 * record's `_id` is the user's id), with the user's first-touch attribution.
 */
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import type { RegistrationCompletedJob } from '../jobs/registration-completed.js';
import { RegistrationCompletion } from '../models/analytics.js';
import { User, type UserRecord } from '../models/user.js';
import type { JobContext } from './processors.js';
import { NONE } from './signup-attribution.js';

export async function processRegistrationCompleted(job: Job<RegistrationCompletedJob>, ctx: JobContext): Promise<{ recorded: boolean }> {
  const userId = new Types.ObjectId(job.data.userId);
  const user = await User.collection.findOne<Pick<UserRecord, 'signupSource' | 'signupCampaign'>>({ _id: userId }, { projection: { signupSource: 1, signupCampaign: 1 } });
  if (!user) {
    ctx.log.warn({ userId: job.data.userId }, 'registration-completed: user no longer exists; nothing to record');
    return { recorded: false };
  }
  const completedAt = new Date(job.data.completedAt);
  try {
    await RegistrationCompletion.collection.insertOne({
      _id: userId,
      source: user.signupSource ?? NONE,
      campaign: user.signupCampaign ?? NONE,
      day: completedAt.toISOString().slice(0, 10),
      completedAt,
      recordedAt: ctx.now(),
    });
    return { recorded: true };
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return { recorded: false };
    throw err;
  }
}
