/**
 * Records an audit event (src/jobs/audit.ts) once: under its deterministic `_id` (`insertOnce`), or, for a
 * wrong code, as one more attempt counted into the code's event (a set of attempt numbers). The IP and
 * device are read from the actor's session, never carried in the job. (A login's event is recorded by the
 * `last-login` job, which reads that session anyway: see src/workers/last-login.ts.)
 */
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import { auditEventId, type AuditJob } from '../jobs/audit.js';
import { sessions } from '../models/collections.js';
import type { SessionRecord } from '../models/session.js';
import { recordFailedVerify, recordOnce, type AuditFact } from '../services/audit.js';
import type { JobContext } from './context.js';

const oid = (id: string | undefined) => (id ? new Types.ObjectId(id) : null);

/** The device details an audit event takes from the actor's session. */
type SessionOrigin = Pick<SessionRecord, 'ip' | 'userAgent' | 'platform' | 'deviceId' | 'appVersion'>;

/** The stored fact of an audit job, its origin read from the actor's session (`session`, if found). */
export function auditFactOf(d: AuditJob, session: SessionOrigin | null): AuditFact {
  return {
    type: d.type,
    at: new Date(d.at),
    actorKind: d.actorKind,
    actorId: d.actorKind === 'user' ? new Types.ObjectId(d.userId) : null,
    targetUserId: new Types.ObjectId(d.userId),
    sessionId: oid(d.sessionId),
    origin: {
      reqId: d.reqId ?? null,
      ip: session?.ip ?? null,
      userAgent: session?.userAgent ?? null,
      platform: session?.platform ?? d.platform ?? null,
      deviceId: session?.deviceId ?? null,
      appVersion: session?.appVersion ?? null,
    },
    count: d.count ?? null,
    details: d.channel ? { channel: d.channel } : null,
  };
}

export async function processAudit(job: Job<AuditJob>, ctx: JobContext): Promise<{ recorded: boolean }> {
  const d = job.data;
  const deviceSessionId = oid(d.actorSessionId ?? d.sessionId);
  const session = deviceSessionId
    ? await sessions().findOne(
        { _id: deviceSessionId },
        { projection: { ip: 1, userAgent: 1, platform: 1, deviceId: 1, appVersion: 1 } },
      )
    : null;
  const fact = auditFactOf(d, session);
  const id = auditEventId(d);
  const recorded =
    d.type === 'verify-failed'
      ? await recordFailedVerify(ctx.config, id, d.attempt!, fact)
      : await recordOnce(ctx.config, id, fact);
  return { recorded };
}
