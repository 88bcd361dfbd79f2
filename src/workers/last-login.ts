/**
 * Applies a login: `lastLogin` moves forward only (`$max`, so jobs arriving
 * out of order never move it back), and one login event per session is
 * stored (its `_id` is the session id, so a second delivery inserts nothing).
 * Device details come from the session document, not from the job payload,
 * which carries ids only.
 */
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import type { LastLoginJob } from '../jobs/last-login.js';
import { funnelEvents, loginEvents, sessions, users } from '../models/collections.js';
import { insertOnce } from '../models/write-once.js';
import type { JobContext } from './context.js';

export async function processLastLogin(job: Job<LastLoginJob>, ctx: JobContext): Promise<{ eventRecorded: boolean }> {
  const userId = new Types.ObjectId(job.data.userId);
  const sessionId = new Types.ObjectId(job.data.sessionId);
  const at = new Date(job.data.loginAt);
  if (Number.isNaN(at.getTime())) throw new Error('last-login job without a valid loginAt');

  const [, session] = await Promise.all([
    users().updateOne({ _id: userId }, { $max: { lastLogin: at } }),
    sessions().findOne({ _id: sessionId }),
  ]);
  if (!session)
    ctx.log.warn(
      { sessionId: job.data.sessionId },
      'last-login: session not found; event stored without device details',
    );
  const [eventRecorded] = await Promise.all([
    insertOnce(loginEvents(), {
      _id: sessionId,
      userId,
      at,
      ip: session?.ip ?? null,
      platform: session?.platform ?? null,
      deviceId: session?.deviceId ?? null,
      appVersion: session?.appVersion ?? null,
      userAgent: session?.userAgent ?? null,
    }),
    // The funnel's login step: no personal data, kept when the account is deleted.
    insertOnce(funnelEvents(), {
      _id: `login-${job.data.sessionId}`,
      step: 'login',
      day: at.toISOString().slice(0, 10),
      at,
      channel: null,
      country: null,
      platform: session?.platform ?? null,
      source: null,
      campaign: null,
    }),
  ]);
  return { eventRecorded };
}
