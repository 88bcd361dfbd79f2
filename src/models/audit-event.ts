/**
 * The audit trail (docs/api.md#audit-events): one document per security-relevant fact about a user, with
 * who did it, from where (request id, IP, device) and, for staff actions, why. Never a code, a token or a
 * hash of one.
 *
 * Written twice over, both idempotent: staff actions of the admin API by the request itself, before it
 * answers (an action that answered 200 is always on record); everything else by the worker's `audit` job,
 * under a deterministic `_id` (`insertOnce`), so a job delivered twice records once. Failed code attempts
 * are one document per code, counted with `$inc` under a filter that names the attempt, so a repeated
 * delivery of one attempt does not count it twice.
 *
 * Each event expires at `expiresAt` (`AUDIT_RETENTION_DAYS` after it happened): a TTL index on MongoDB, the
 * worker's expiry sweep on the embedded server.
 */
import { model, Schema } from 'mongoose';

/** What happened. The web's admin API writes the staff ones; the worker the rest. */
export const AUDIT_TYPES = [
  'login',
  'verify-failed',
  'refresh-token-reuse',
  'logout',
  'session-revoked',
  'sessions-revoked',
  'roles-changed',
  'suspended',
  'unsuspended',
  'limits-reset',
  'deletion-requested',
  'deletion-cancelled',
  'deletion-finalized',
  'user-viewed',
  'users-searched',
  'events-viewed',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/** What a user is not shown of their own trail: staff reads, limit resets, and the erasure (after which nobody signs in). */
const NOT_SHOWN_TO_USER = [
  'limits-reset',
  'deletion-finalized',
  'user-viewed',
  'users-searched',
  'events-viewed',
] as const;
export type SecurityEventType = Exclude<AuditType, (typeof NOT_SHOWN_TO_USER)[number]>;
/** A user's own security activity (`GET /users/me/security-events`): sign-ins, wrong codes, sessions ended, roles, the account's state. */
export const SECURITY_EVENT_TYPES = AUDIT_TYPES.filter(
  (t): t is SecurityEventType => !(NOT_SHOWN_TO_USER as readonly string[]).includes(t),
);

/**
 * Who acted: `user` the account holder (on their own account), `staff` a caller of the admin API,
 * `cli` an operator command, `system` the worker (a scheduled erasure), `anonymous` someone unknown
 * (wrong codes, a stolen refresh token).
 */
export const ACTOR_KINDS = ['user', 'staff', 'cli', 'system', 'anonymous'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

const auditEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, enum: AUDIT_TYPES, required: true },
    at: { type: Date, required: true },
    actorKind: { type: String, enum: ACTOR_KINDS, required: true },
    actorId: { type: Schema.Types.ObjectId, default: null },
    /** The actor's roles when it acted (staff). */
    actorRoles: { type: [String], default: [] },
    /** The user the event is about; null for a staff search that found nobody. */
    targetUserId: { type: Schema.Types.ObjectId, default: null },
    /** The session the event is about (the one opened, ended or reused). */
    sessionId: { type: Schema.Types.ObjectId, default: null },
    reqId: { type: String, default: null },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
    platform: { type: String, default: null },
    deviceId: { type: String, default: null },
    appVersion: { type: String, default: null },
    /** Staff actions: the reason given. */
    reason: { type: String, default: null },
    /** `verify-failed`: wrong codes so far; session revocations: sessions ended. */
    count: { type: Number, default: null },
    /** `verify-failed`: the attempts counted (1-based), so a repeated delivery does not count one twice. */
    attempts: { type: [Number], default: undefined },
    /** Non-secret particulars: roles added/removed, the search criterion, the channel, … */
    details: { type: Schema.Types.Mixed, default: null },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'audit_events', versionKey: false },
);
auditEventSchema.index({ targetUserId: 1, at: -1 });
auditEventSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const AuditEvent = model('AuditEvent', auditEventSchema);
