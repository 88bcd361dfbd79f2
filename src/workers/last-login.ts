/**
 * Applies a login: `lastLogin` moves forward only (`$max`, so jobs arriving
 * out of order never move it back), and one login event per session is
 * stored (its `_id` is the session id, so a second delivery inserts nothing).
 * Device details come from the session document, not from the job payload,
 * which carries ids only. The login's audit event is recorded here too (once,
 * under `login-<sessionId>`): no job of its own, and the session is read once.
 */
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import type { LastLoginJob } from '../jobs/last-login.js';
import { loginEvents, sessions, signupAttributions, users } from '../models/collections.js';
import { findById, updateById } from '../models/by-id.js';
import { insertOnce } from '../models/write-once.js';
import { auditEventId } from '../jobs/audit.js';
import { recordOnce } from '../services/audit.js';
import { NONE, recordFact, type FactWriter } from '../services/rollups.js';
import { auditFactOf } from './audit.js';
import { writerOf, type JobContext } from './context.js';

/** The days after signup whose returns the retention report counts (docs/api.md#analytics). */
export const RETENTION_DAYS = [1, 7, 30] as const;
const DAY_MS = 86_400_000;

/**
 * Day n after signup is the 24 hours [signup + n days, signup + n + 1 days): a login then is a return on
 * day n, counted once per user and n (its fact's `_id` is `<userId>:<n>`).
 */
async function recordReturn(userId: Types.ObjectId, at: Date, by: FactWriter, signedUpAt?: string): Promise<void> {
  const dayOf = (since: number) => Math.floor((at.getTime() - since) / DAY_MS);
  // The job knows when the user signed up (older jobs do not): most logins are on no counted day, and read nothing.
  if (signedUpAt && !(RETENTION_DAYS as readonly number[]).includes(dayOf(Date.parse(signedUpAt)))) return;
  const signup = await signupAttributions().findOne({ _id: userId });
  if (!signup) return; // not recorded yet (a login within the first day) or a user older than the facts
  const n = dayOf(signup.signedUpAt.getTime());
  if (!(RETENTION_DAYS as readonly number[]).includes(n)) return;
  await recordFact(
    'return',
    {
      _id: `${userId.toHexString()}:${n}`,
      n,
      signedUpAt: signup.signedUpAt,
      source: signup.source,
      campaign: signup.campaign,
      medium: signup.medium ?? NONE,
      country: signup.country,
      platform: signup.platform,
      at,
    },
    by,
  );
}

export async function processLastLogin(job: Job<LastLoginJob>, ctx: JobContext): Promise<{ eventRecorded: boolean }> {
  const userId = new Types.ObjectId(job.data.userId);
  const sessionId = new Types.ObjectId(job.data.sessionId);
  const at = new Date(job.data.loginAt);
  if (Number.isNaN(at.getTime())) throw new Error('last-login job without a valid loginAt');
  const by = writerOf(job, ctx);

  const [, session] = await Promise.all([
    updateById(users(), userId, { $max: { lastLogin: at } }),
    findById(sessions(), sessionId),
  ]);
  const audit = {
    type: 'login',
    at: job.data.loginAt,
    userId: job.data.userId,
    actorKind: 'user',
    sessionId: job.data.sessionId,
    reqId: job.data.reqId,
  } as const;
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
    recordFact(
      'funnel',
      {
        _id: `login-${job.data.sessionId}`,
        step: 'login',
        day: at.toISOString().slice(0, 10),
        at,
        channel: null,
        country: null,
        platform: session?.platform ?? null,
        source: null,
        campaign: null,
      },
      by,
    ),
    recordReturn(userId, at, by, job.data.signedUpAt),
    recordOnce(ctx.config, auditEventId(audit), auditFactOf(audit, session)),
  ]);
  return { eventRecorded };
}
