/**
 * Support and security operations (docs/api.md#admin): finding a user, seeing why they cannot log in
 * (sessions, limits, codes, the audit trail), and acting: suspend, end sessions, reset limits, change
 * roles, erase. Rights: `support` and `admin` look up and act on accounts; only `admin` changes roles and
 * erases (the routes gate those), and only `admin` suspends an admin. Nobody suspends, erases or removes
 * `admin` from their own account.
 *
 * Every call is recorded in the audit trail by the request itself, after the action and before the
 * answer (`recordStaffAction`), so an action that answered 200 is on record. Writes to a user are single
 * atomic updates under a filter stating the state they expect; nothing is read, changed and written back.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { conflict, forbidden, notFound } from '../lib/errors.js';
import { otpCodes, sessions, usernameClaims, users, type SessionDoc } from '../models/collections.js';
import { toPrivateUser, User, type PrivateUser, type Role, type UserRecord } from '../models/user.js';
import type { LookupCriterion } from '../schemas/admin.js';
import { deletionStatusOf, finalizeUser, type DeletionStatus } from './account-deletion.js';
import { eventsAbout, recordStaffAction, staffView, type Page, type StaffActor, type StaffEventView } from './audit.js';
import type { AuditType } from '../models/audit-event.js';
import { subjectKey } from './auth.js';
import { RECIPIENT_LIMITS, type LimitState, type RateLimits } from './rate-limits.js';
import { setRoles } from './roles.js';
import { revokeSessions } from './sessions.js';

export interface AdminDeps {
  config: Config;
  limits: RateLimits;
  clock: () => Date;
}

/** Sessions shown per user: the most recent ones. */
export const SESSIONS_SHOWN = 50;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const isAdmin = (actor: StaffActor) => actor.roles.includes('admin');

const userNotFound = () => notFound({ errorCode: 'USER_NOT_FOUND', messages: ['id: no such user'] });
const erased = () => conflict({ errorCode: 'ACCOUNT_DELETED', messages: ['account: already deleted'] });
const notOnYourself = (what: string) =>
  forbidden({ errorCode: 'SELF_ACTION_REFUSED', messages: [`id: you cannot ${what} your own account`] });

async function requireUser(userId: Types.ObjectId): Promise<UserRecord> {
  const user = await User.findById(userId).lean<UserRecord>();
  if (!user) throw userNotFound();
  return user;
}

// ---------------------------------------------------------------------------------------------
// Views.

/** A user in a look-up: the private user object plus what only staff see. */
export function summaryOf(user: UserRecord) {
  return {
    user: toPrivateUser(user) as PrivateUser,
    suspended: !!user.suspendedAt,
    suspendedAt: iso(user.suspendedAt),
    createdAt: user.createdAt.toISOString(),
  };
}
export type UserSummary = ReturnType<typeof summaryOf>;

function sessionView(s: SessionDoc, now: Date) {
  return {
    id: s._id.toHexString(),
    createdAt: s.createdAt.toISOString(),
    lastUsedAt: s.lastUsedAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    revokedAt: iso(s.revokedAt),
    revokedReason: s.revokedReason ?? null,
    live: !s.revokedAt && s.expiresAt.getTime() > now.getTime(),
    ip: s.ip ?? null,
    userAgent: s.userAgent ?? null,
    platform: s.platform ?? null,
    deviceId: s.deviceId ?? null,
    appVersion: s.appVersion ?? null,
  };
}

/** The identities a user logs in with, and what their codes and per-recipient limits are keyed by. */
function channelsOf(
  user: Pick<UserRecord, 'phoneKey' | 'emailKey'>,
): { channel: 'phone' | 'email'; subject: string }[] {
  return [
    ...(user.phoneKey ? [{ channel: 'phone' as const, subject: subjectKey('phone', user.phoneKey) }] : []),
    ...(user.emailKey ? [{ channel: 'email' as const, subject: subjectKey('email', user.emailKey) }] : []),
  ];
}

export interface ChannelLimits {
  channel: 'phone' | 'email';
  limits: LimitState[];
  /** The recipient's current code (one at a time), or null. */
  code: {
    sentAt: string;
    expiresAt: string;
    attempts: number;
    maxAttempts: number;
    attemptsRemaining: number;
    expired: boolean;
    /** Out of attempts: not even the right code works; a new one must be sent. */
    dead: boolean;
    boundToDevice: boolean;
  } | null;
}

async function limitsOf(
  deps: AdminDeps,
  user: Pick<UserRecord, 'phoneKey' | 'emailKey'>,
  now: Date,
): Promise<ChannelLimits[]> {
  const max = deps.config.otp.maxAttempts;
  return Promise.all(
    channelsOf(user).map(async ({ channel, subject }) => {
      const [limits, code] = await Promise.all([
        deps.limits.state(
          RECIPIENT_LIMITS.map((name) => [name, subject]),
          now,
        ),
        otpCodes().findOne(
          { _id: subject },
          { projection: { createdAt: 1, expiresAt: 1, attempts: 1, verificationHash: 1 } },
        ),
      ]);
      return {
        channel,
        limits,
        code: code
          ? {
              sentAt: code.createdAt.toISOString(),
              expiresAt: code.expiresAt.toISOString(),
              attempts: code.attempts,
              maxAttempts: max,
              attemptsRemaining: Math.max(0, max - code.attempts),
              expired: code.expiresAt.getTime() <= now.getTime(),
              dead: code.attempts >= max,
              boundToDevice: !!code.verificationHash,
            }
          : null,
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reads.

export interface LookupQuery {
  criterion: LookupCriterion;
  /** Normalized: E.164 for `phone`, the normalized address for `email`, lower-case for `username`. */
  value: string;
}

function lookupFilter(q: LookupQuery, claimedBy: Types.ObjectId | null): Record<string, unknown> | null {
  switch (q.criterion) {
    case 'id':
      return { _id: new Types.ObjectId(q.value) };
    case 'phone':
      return { phoneKey: q.value };
    case 'email':
      // The login identity, and the profile address (several users may have written the same one).
      return { $or: [{ emailKey: q.value }, { email: q.value }] };
    case 'username':
      // Usernames are claims (`username_claims._id`): one holder at most.
      return claimedBy ? { _id: claimedBy } : null;
  }
}

/** `GET /admin/users`: exact look-up by one criterion, in id order, a page at a time. */
export async function lookUpUsers(
  deps: AdminDeps,
  actor: StaffActor,
  q: LookupQuery,
  page: { limit: number; cursor?: Types.ObjectId },
): Promise<Page<UserSummary>> {
  const claim = q.criterion === 'username' ? await usernameClaims().findOne({ _id: q.value }) : null;
  const filter = lookupFilter(q, claim?.userId ?? null);
  const found = filter
    ? await User.find({
        ...filter,
        ...(page.cursor ? { _id: { ...(filter._id ? { $eq: filter._id } : {}), $gt: page.cursor } } : {}),
      })
        .sort({ _id: 1 })
        .limit(page.limit + 1)
        .lean<UserRecord[]>()
    : [];
  const items = found.slice(0, page.limit);
  await recordStaffAction(deps.config, actor, {
    type: 'users-searched',
    at: deps.clock(),
    targetUserId: items.length === 1 ? items[0]!._id : null,
    details: { criterion: q.criterion, found: items.length, userIds: items.map((u) => u._id.toHexString()) },
  });
  return {
    items: items.map(summaryOf),
    nextCursor:
      found.length > page.limit ? Buffer.from(items[items.length - 1]!._id.toHexString()).toString('base64url') : null,
  };
}

/** The users cursor (base64url of the last id); undefined when it is not one. */
export function userCursor(cursor: string): Types.ObjectId | undefined {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[0-9a-f]{24}$/.test(id) ? new Types.ObjectId(id) : undefined;
}

/** `GET /admin/users/{id}`: the user, their sessions, deletion state and live limits. */
export async function userDetail(deps: AdminDeps, actor: StaffActor, userId: Types.ObjectId) {
  const now = deps.clock();
  const user = await requireUser(userId);
  const [recent, limits] = await Promise.all([
    sessions().find({ userId }).sort({ createdAt: -1 }).limit(SESSIONS_SHOWN).toArray(),
    limitsOf(deps, user, now),
  ]);
  await recordStaffAction(deps.config, actor, { type: 'user-viewed', at: now, targetUserId: userId });
  return {
    ...summaryOf(user),
    deletion: deletionStatusOf(user) as DeletionStatus,
    sessions: recent.map((s) => sessionView(s, now)),
    limits,
  };
}
export type UserDetail = Awaited<ReturnType<typeof userDetail>>;

/** `GET /admin/users/{id}/events`: the user's audit trail, newest first. */
export async function userEvents(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  page: { limit: number; cursor?: string; types?: AuditType[] },
): Promise<Page<StaffEventView>> {
  await requireUser(userId);
  const events = await eventsAbout(userId, page);
  await recordStaffAction(deps.config, actor, { type: 'events-viewed', at: deps.clock(), targetUserId: userId });
  return { items: events.items.map(staffView), nextCursor: events.nextCursor };
}

// ---------------------------------------------------------------------------------------------
// Actions. Each takes the staff member's `reason`, recorded with the action.

export interface SuspensionResult {
  userId: string;
  suspended: boolean;
  suspendedAt: string | null;
  /** False when the account was already in that state (nothing changed but the sessions ended again). */
  changed: boolean;
  revokedSessions: number;
}

/** Why a conditional suspension update did not apply, now that it did not: throws, or returns the user as it is. */
async function explainSuspension(actor: StaffActor, userId: Types.ObjectId): Promise<UserRecord> {
  const user = await requireUser(userId);
  if (user.accountDeletionStatus === 'finalized') throw erased();
  if (!isAdmin(actor) && (user.roles ?? []).includes('admin')) {
    throw forbidden({
      errorCode: 'ROLE_REQUIRED',
      messages: ['role: admin is required to suspend or unsuspend an admin'],
    });
  }
  return user;
}

/**
 * Suspends the account: it can no longer log in (verify-otp: 409 ACCOUNT_SUSPENDED) or refresh, and its
 * sessions end, so its access tokens stop within `SESSION_CACHE_TTL_MS`. Suspending a suspended account
 * changes nothing but ends its sessions again.
 */
export async function suspendUser(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  reason: string,
): Promise<SuspensionResult> {
  if (actor.userId.equals(userId)) throw notOnYourself('suspend');
  const now = deps.clock();
  let changed = false;
  let suspendedAt: Date | null | undefined = null;
  // Twice at most: an unsuspension between the update and the explanation is the only way round again.
  for (let round = 0; round < 2 && !suspendedAt; round++) {
    const res = await users().updateOne(
      {
        _id: userId,
        suspendedAt: null,
        accountDeletionStatus: { $ne: 'finalized' },
        ...(isAdmin(actor) ? {} : { roles: { $ne: 'admin' } }),
      },
      { $set: { suspendedAt: now, updatedAt: now } },
    );
    changed = res.modifiedCount === 1;
    suspendedAt = changed ? now : (await explainSuspension(actor, userId)).suspendedAt;
  }
  if (!suspendedAt) throw conflict({ messages: ['account: changed while being suspended; try again'] });
  // After `suspendedAt` is written: a login racing with this either sees it, or opened its session before the revocation below.
  const revokedSessions = await revokeSessions({ userId, expiresAt: { $gt: now } }, 'suspended', now);
  await recordStaffAction(deps.config, actor, {
    type: 'suspended',
    at: now,
    targetUserId: userId,
    reason,
    count: revokedSessions,
    details: { changed },
  });
  return {
    userId: userId.toHexString(),
    suspended: true,
    suspendedAt: suspendedAt.toISOString(),
    changed,
    revokedSessions,
  };
}

/** Lifts a suspension: the user can log in again (their ended sessions stay ended). */
export async function unsuspendUser(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  reason: string,
): Promise<SuspensionResult> {
  const now = deps.clock();
  const res = await users().updateOne(
    {
      _id: userId,
      suspendedAt: { $ne: null },
      accountDeletionStatus: { $ne: 'finalized' },
      ...(isAdmin(actor) ? {} : { roles: { $ne: 'admin' } }),
    },
    { $set: { suspendedAt: null, updatedAt: now } },
  );
  const changed = res.modifiedCount === 1;
  if (!changed) await explainSuspension(actor, userId);
  await recordStaffAction(deps.config, actor, {
    type: 'unsuspended',
    at: now,
    targetUserId: userId,
    reason,
    details: { changed },
  });
  return { userId: userId.toHexString(), suspended: false, suspendedAt: null, changed, revokedSessions: 0 };
}

/** Ends every live session of the user: refresh tokens fail at once, access tokens within `SESSION_CACHE_TTL_MS`. */
export async function revokeUserSessions(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  reason: string,
): Promise<{ userId: string; revokedSessions: number }> {
  await requireUser(userId);
  const now = deps.clock();
  const revokedSessions = await revokeSessions({ userId, expiresAt: { $gt: now } }, 'staff-revoked', now);
  await recordStaffAction(deps.config, actor, {
    type: 'sessions-revoked',
    at: now,
    targetUserId: userId,
    reason,
    count: revokedSessions,
  });
  return { userId: userId.toHexString(), revokedSessions };
}

/** Ends one session of the user. `revoked: false` when it had ended already. @throws 404 when it is not theirs. */
export async function revokeUserSession(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  sessionId: Types.ObjectId,
  reason: string,
): Promise<{ userId: string; sessionId: string; revoked: boolean }> {
  await requireUser(userId);
  const session = await sessions().findOne({ _id: sessionId }, { projection: { userId: 1 } });
  if (!session || !session.userId.equals(userId))
    throw notFound({ errorCode: 'SESSION_NOT_FOUND', messages: ['sessionId: no such session of this user'] });
  const now = deps.clock();
  const revoked = (await revokeSessions({ _id: sessionId, expiresAt: { $gt: now } }, 'staff-revoked', now)) === 1;
  await recordStaffAction(deps.config, actor, {
    type: 'session-revoked',
    at: now,
    targetUserId: userId,
    sessionId,
    reason,
    count: revoked ? 1 : 0,
  });
  return { userId: userId.toHexString(), sessionId: sessionId.toHexString(), revoked };
}

/**
 * Clears the send and verify limits of the user's number and address (cooldown, hourly and daily send
 * budgets, the verify budget) and a code of theirs that is out of attempts, so the owner can ask for a
 * code at once and use it. Per-IP and per-country budgets are not the user's and stay.
 */
export async function resetUserLimits(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  reason: string,
): Promise<{ userId: string; deadCodesCleared: number; limits: ChannelLimits[] }> {
  const user = await requireUser(userId);
  const now = deps.clock();
  const channels = channelsOf(user);
  const max = deps.config.otp.maxAttempts;
  await deps.limits.reset(
    channels.flatMap(({ subject }) => RECIPIENT_LIMITS.map((name) => [name, subject] as [typeof name, string])),
  );
  const cleared = await Promise.all(
    channels.map(async ({ subject }) => {
      const code = await otpCodes().findOne({ _id: subject }, { projection: { codeId: 1, attempts: 1 } });
      // A dead code only: a live one may be the code the owner is about to type.
      if (!code || code.attempts < max) return 0;
      return (await otpCodes().deleteOne({ _id: subject, codeId: code.codeId })).deletedCount;
    }),
  );
  const deadCodesCleared = cleared.reduce((a, b) => a + b, 0);
  await recordStaffAction(deps.config, actor, {
    type: 'limits-reset',
    at: now,
    targetUserId: userId,
    reason,
    details: { channels: channels.map((c) => c.channel), deadCodesCleared },
  });
  return { userId: userId.toHexString(), deadCodesCleared, limits: await limitsOf(deps, user, now) };
}

/**
 * Sets the user's roles (admin only; `user` is always kept). A removed role ends the user's sessions,
 * so tokens carrying it stop within `SESSION_CACHE_TTL_MS`. Nobody removes `admin` from themselves.
 */
export async function changeUserRoles(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  roles: Role[],
  reason: string,
): Promise<{ userId: string; roles: Role[]; added: Role[]; removed: Role[]; revokedSessions: number }> {
  if (actor.userId.equals(userId) && !roles.includes('admin')) {
    throw forbidden({
      errorCode: 'SELF_ACTION_REFUSED',
      messages: ['roles: you cannot remove admin from your own account'],
    });
  }
  const now = deps.clock();
  const change = await setRoles(userId, roles, now);
  if (!change) {
    await requireUser(userId);
    throw erased();
  }
  await recordStaffAction(deps.config, actor, {
    type: 'roles-changed',
    at: now,
    targetUserId: userId,
    reason,
    count: change.revokedSessions,
    details: { before: change.before, after: change.after, added: change.added, removed: change.removed },
  });
  return {
    userId: userId.toHexString(),
    roles: change.after,
    added: change.added,
    removed: change.removed,
    revokedSessions: change.revokedSessions,
  };
}

/**
 * Erases the account at once (admin only), with the same erasure as the worker's sweep, whether or not
 * the user asked for it in the app (e.g. an erasure request by e-mail). @throws 409 ACCOUNT_DELETED when it is erased already.
 */
export async function finalizeUserDeletion(
  deps: AdminDeps,
  actor: StaffActor,
  userId: Types.ObjectId,
  reason: string,
): Promise<DeletionStatus & { userId: string }> {
  if (actor.userId.equals(userId)) throw notOnYourself('erase');
  const user = await requireUser(userId);
  if (user.accountDeletionStatus === 'finalized') throw erased();
  const now = deps.clock();
  return finalizeUser(userId, 'staff', now, (first) =>
    recordStaffAction(deps.config, actor, {
      type: 'deletion-finalized',
      at: now,
      targetUserId: userId,
      reason,
      details: { first },
    }),
  );
}
