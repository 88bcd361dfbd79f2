/**
 * The audit trail (docs/api.md#audit-events): recording events and reading them back, for support
 * (`GET /api/v1/admin/users/{id}/events`) and for the user (`GET /api/v1/users/me/security-events`).
 *
 * Staff actions are recorded here by the request, before it answers (`recordStaffAction`); the worker
 * records the rest through `recordOnce` and `recordFailedVerify`, both idempotent.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import type { ClientInfo } from '../lib/client-info.js';
import { badRequest } from '../lib/errors.js';
import { auditEvents, type AuditEventDoc } from '../models/collections.js';
import { SECURITY_EVENT_TYPES, type ActorKind, type AuditType, type SecurityEventType } from '../models/audit-event.js';
import { insertOnce, isDuplicateKey } from '../models/write-once.js';

/** Where an action came from: the request and its client. */
export type AuditOrigin = Pick<AuditEventDoc, 'reqId' | 'ip' | 'userAgent' | 'platform' | 'deviceId' | 'appVersion'>;

export const originOf = (client: ClientInfo, reqId: string): AuditOrigin => ({
  reqId,
  ip: client.ip,
  userAgent: client.userAgent,
  platform: client.platform,
  deviceId: client.deviceId,
  appVersion: client.appVersion,
});

/** A caller of the admin API. */
export interface StaffActor {
  userId: Types.ObjectId;
  roles: string[];
  origin: AuditOrigin;
}

export interface AuditFact {
  type: AuditType;
  at: Date;
  actorKind: ActorKind;
  actorId?: Types.ObjectId | null;
  actorRoles?: string[];
  targetUserId: Types.ObjectId | null;
  sessionId?: Types.ObjectId | null;
  origin?: Partial<AuditOrigin>;
  reason?: string | null;
  count?: number | null;
  details?: Record<string, unknown> | null;
}

const DAY_MS = 86_400_000;

function documentOf(config: Config, _id: string, f: AuditFact): AuditEventDoc {
  const o = f.origin ?? {};
  return {
    _id,
    type: f.type,
    at: f.at,
    actorKind: f.actorKind,
    actorId: f.actorId ?? null,
    actorRoles: f.actorRoles ?? [],
    targetUserId: f.targetUserId,
    sessionId: f.sessionId ?? null,
    reqId: o.reqId ?? null,
    ip: o.ip ?? null,
    userAgent: o.userAgent ?? null,
    platform: o.platform ?? null,
    deviceId: o.deviceId ?? null,
    appVersion: o.appVersion ?? null,
    reason: f.reason ?? null,
    count: f.count ?? null,
    details: f.details ?? null,
    expiresAt: new Date(f.at.getTime() + config.audit.retentionDays * DAY_MS),
  };
}

/**
 * Records a staff action of the admin API, on the request path: the route awaits it before answering,
 * so an action that answered 200 is on record. @returns the event's id.
 */
export async function recordStaffAction(
  config: Config,
  actor: StaffActor,
  fact: Omit<AuditFact, 'actorKind' | 'actorId' | 'actorRoles' | 'origin'>,
): Promise<string> {
  const id = new Types.ObjectId().toHexString();
  await auditEvents().insertOne(
    documentOf(config, id, {
      ...fact,
      actorKind: 'staff',
      actorId: actor.userId,
      actorRoles: actor.roles,
      origin: actor.origin,
    }),
  );
  return id;
}

/** Records a fact once under `id` (a repeated delivery inserts nothing). @returns whether this call recorded it. */
export async function recordOnce(config: Config, id: string, fact: AuditFact): Promise<boolean> {
  return insertOnce(auditEvents(), documentOf(config, id, fact));
}

/**
 * Counts a wrong code into the code's one `verify-failed` event: the attempt's number goes into a set
 * (`$addToSet`, under a filter on `_id` alone), so a repeated delivery of one attempt counts it once and
 * the count is the set's size. The event's time is its latest attempt.
 * @returns whether this call counted the attempt.
 */
export async function recordFailedVerify(
  config: Config,
  id: string,
  attempt: number,
  fact: AuditFact,
): Promise<boolean> {
  const { _id, at, expiresAt, ...insertOnly } = documentOf(config, id, fact);
  const update = {
    $addToSet: { attempts: attempt },
    $max: { at, expiresAt },
    $setOnInsert: { ...insertOnly, details: { ...fact.details, firstAt: at } },
  };
  for (let round = 0; ; round++) {
    try {
      const before = await auditEvents().findOneAndUpdate({ _id }, update, {
        upsert: true,
        returnDocument: 'before',
        projection: { attempts: 1 },
      });
      return !before || !(before.attempts ?? []).includes(attempt);
    } catch (err) {
      // Two first attempts raced to create the event: the loser's upsert hit the winner's insert.
      // Once more, as an update of the event that now exists.
      if (!isDuplicateKey(err) || round > 0) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the trail.

export const PAGE = { defaultLimit: 20, maxLimit: 100 } as const;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** An opaque cursor: the time and id of the last event of a page. */
const encodeCursor = (d: Pick<AuditEventDoc, 'at' | '_id'>) =>
  Buffer.from(JSON.stringify([d.at.getTime(), d._id])).toString('base64url');

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof id === 'string') return { at: new Date(ms), id };
  } catch {
    // refused below
  }
  throw badRequest(['cursor: not a cursor this API returned']);
}

/** The events about `userId`, newest first (ties by id), a page at a time. */
export async function eventsAbout(
  userId: Types.ObjectId,
  opts: { limit: number; cursor?: string; types?: readonly AuditType[] },
): Promise<Page<AuditEventDoc>> {
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const docs = await auditEvents()
    .find({
      targetUserId: userId,
      ...(opts.types ? { type: { $in: [...opts.types] } } : {}),
      ...(after ? { $or: [{ at: { $lt: after.at } }, { at: after.at, _id: { $lt: after.id } }] } : {}),
    })
    .sort({ at: -1, _id: -1 })
    .limit(opts.limit + 1)
    .toArray();
  const items = docs.slice(0, opts.limit);
  return { items, nextCursor: docs.length > opts.limit ? encodeCursor(items[items.length - 1]!) : null };
}

const hex = (id: Types.ObjectId | null | undefined) => (id ? id.toHexString() : null);
/** Wrong codes counted into a `verify-failed` event, or the stored count of other events. */
const countOf = (d: AuditEventDoc) => (d.attempts ? d.attempts.length : d.count);

/** An event as support sees it: everything recorded. */
export function staffView(d: AuditEventDoc) {
  return {
    id: d._id,
    type: d.type,
    at: d.at.toISOString(),
    actor: { kind: d.actorKind, userId: hex(d.actorId), roles: d.actorRoles ?? [] },
    targetUserId: hex(d.targetUserId),
    sessionId: hex(d.sessionId),
    reqId: d.reqId,
    ip: d.ip,
    userAgent: d.userAgent,
    platform: d.platform,
    deviceId: d.deviceId,
    appVersion: d.appVersion,
    reason: d.reason,
    count: countOf(d),
    details: detailsOf(d),
  };
}
export type StaffEventView = ReturnType<typeof staffView>;

function detailsOf(d: AuditEventDoc): Record<string, unknown> | null {
  const details = d.details ? { ...d.details } : null;
  if (details && details.firstAt instanceof Date) details.firstAt = details.firstAt.toISOString();
  return details;
}

/** Who acted, as the user is told: themselves, staff (never which member, nor from where), the system, or someone unknown. */
const SELF_ACTOR: Record<ActorKind, 'you' | 'staff' | 'system' | 'unknown'> = {
  user: 'you',
  staff: 'staff',
  cli: 'staff',
  system: 'system',
  anonymous: 'unknown',
};

/**
 * An event as its user sees it. The device and address are the user's own (their session's); on staff
 * actions they would be the staff member's, so they are left out, and so are the reason and request id.
 */
export function selfView(d: AuditEventDoc, currentSessionId: string) {
  const own = d.actorKind === 'user' || d.actorKind === 'anonymous';
  const details =
    d.type === 'roles-changed' && d.details ? { added: d.details.added ?? [], removed: d.details.removed ?? [] } : null;
  const sessionId = hex(d.sessionId);
  return {
    id: d._id,
    type: d.type as SecurityEventType,
    at: d.at.toISOString(),
    actor: SELF_ACTOR[d.actorKind],
    sessionId,
    currentSession: sessionId !== null && sessionId === currentSessionId,
    ip: own ? d.ip : null,
    platform: own ? d.platform : null,
    deviceId: own ? d.deviceId : null,
    appVersion: own ? d.appVersion : null,
    userAgent: own ? d.userAgent : null,
    count: countOf(d),
    details,
  };
}
export type SelfEventView = ReturnType<typeof selfView>;

/** `GET /users/me/security-events`: the user's own security activity, newest first. */
export async function ownSecurityEvents(
  userId: Types.ObjectId,
  currentSessionId: string,
  page: { limit: number; cursor?: string },
): Promise<Page<SelfEventView>> {
  const events = await eventsAbout(userId, { ...page, types: SECURITY_EVENT_TYPES });
  return { items: events.items.map((d) => selfView(d, currentSessionId)), nextCursor: events.nextCursor };
}
