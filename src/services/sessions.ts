/**
 * Sessions and the refresh-token lifecycle (docs/api.md#refresh,
 * docs/api.md#logout-revoke-token-sessions-me).
 *
 * - Every refresh rotates: a new refresh token is issued and the presented
 *   one is used up.
 * - Concurrent refreshes with one token (tabs, a retried request) within
 *   `REFRESH_REUSE_GRACE_SECONDS` of its first use all succeed, each with
 *   its own new refresh token, all of which work next time.
 * - A used token presented after that window is treated as stolen: the
 *   whole session is revoked and the call is 401.
 * The first use of a token is decided by an insert into a unique index, so
 * this holds under concurrency on every server.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { auditEvent } from '../jobs/audit.js';
import type { Publisher } from '../jobs/outbox.js';
import { unauthorized } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ClientInfo } from '../lib/client-info.js';
import { refreshTokens, refreshTokenUses, sessions, users } from '../models/collections.js';
import { isDuplicateKey } from '../models/write-once.js';
import type { UserRecord } from '../models/user.js';
import { hashRefreshToken, newRefreshToken, signAccessToken } from './tokens.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshExpiresIn: number;
}

export type RevokeReason =
  | 'logout'
  | 'revoke-token'
  | 'refresh-token-reuse'
  | 'account-deleted'
  | 'role-revoked'
  | 'suspended'
  | 'staff-revoked';

const expiry = (config: Config, now: Date) => new Date(now.getTime() + config.tokens.refreshTtlSeconds * 1000);

function pair(
  config: Config,
  user: Pick<UserRecord, '_id' | 'roles'>,
  sessionId: Types.ObjectId,
  refreshToken: string,
  now: Date,
): TokenPair {
  return {
    accessToken: signAccessToken(
      config,
      { sub: user._id.toHexString(), sid: sessionId.toHexString(), roles: user.roles ?? ['user'] },
      now,
    ),
    refreshToken,
    expiresIn: config.tokens.accessTtlSeconds,
    refreshExpiresIn: config.tokens.refreshTtlSeconds,
  };
}

/** Opens a session for a login: the session and its first refresh token, written in parallel. */
export async function openSession(
  config: Config,
  user: Pick<UserRecord, '_id' | 'roles'>,
  client: ClientInfo,
  now: Date,
  sessionId = new Types.ObjectId(),
): Promise<{ sessionId: Types.ObjectId; tokens: TokenPair }> {
  const refresh = newRefreshToken();
  const expiresAt = expiry(config, now);
  await Promise.all([
    sessions().insertOne({
      _id: sessionId,
      userId: user._id,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      revokedAt: null,
      revokedReason: null,
      ip: client.ip,
      userAgent: client.userAgent,
      platform: client.platform,
      deviceId: client.deviceId,
      appVersion: client.appVersion,
    }),
    refreshTokens().insertOne({
      _id: refresh.hash,
      sessionId,
      userId: user._id,
      parentId: null,
      issuedAt: now,
      expiresAt,
    }),
  ]);
  return { sessionId, tokens: pair(config, user, sessionId, refresh.token, now) };
}

const invalidRefresh = (reason = 'refreshToken: invalid, expired or revoked') =>
  unauthorized({ errorCode: 'REFRESH_TOKEN_INVALID', messages: [reason] });

export function canLogIn(user: Pick<UserRecord, 'accountDeletionStatus' | 'suspendedAt'>): boolean {
  return user.accountDeletionStatus !== 'finalized' && !user.suspendedAt;
}

/** Where a request records what it did in the audit trail (through the outbox), and its log. */
export interface AuditTrail {
  publisher: Publisher;
  reqId: string;
  log: Logger;
}

/**
 * @param audit where a detected theft is recorded.
 * @throws 401 REFRESH_TOKEN_INVALID, or 401 REFRESH_TOKEN_REUSED after revoking the session.
 */
export async function refreshSession(
  config: Config,
  refreshToken: string,
  now: Date,
  audit: AuditTrail,
): Promise<TokenPair> {
  const { log } = audit;
  const hash = hashRefreshToken(refreshToken);
  const token = await refreshTokens().findOne({ _id: hash });
  if (!token || token.expiresAt <= now) throw invalidRefresh();

  const [session, user] = await Promise.all([
    sessions().findOne({ _id: token.sessionId }),
    users().findOne({ _id: token.userId }, { projection: { roles: 1, accountDeletionStatus: 1, suspendedAt: 1 } }),
  ]);
  if (!session || session.revokedAt || session.expiresAt <= now || !user || !canLogIn(user)) throw invalidRefresh();

  try {
    await refreshTokenUses().insertOne({ _id: hash, at: now, expiresAt: token.expiresAt });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const firstUse = await refreshTokenUses().findOne({ _id: hash });
    const sinceFirstUse = firstUse ? now.getTime() - firstUse.at.getTime() : Infinity;
    if (sinceFirstUse > config.sessions.refreshReuseGraceSeconds * 1000) {
      await revokeSessions({ _id: session._id }, 'refresh-token-reuse', now);
      await audit.publisher.publish(
        [
          auditEvent({
            type: 'refresh-token-reuse',
            at: now.toISOString(),
            userId: user._id.toHexString(),
            actorKind: 'anonymous',
            sessionId: session._id.toHexString(),
            reqId: audit.reqId,
          }),
        ],
        log,
      );
      log.warn(
        { sessionId: session._id.toHexString(), userId: user._id.toHexString(), sinceFirstUseMs: sinceFirstUse },
        'refresh token reused after the grace window; session revoked',
      );
      throw unauthorized({
        errorCode: 'REFRESH_TOKEN_REUSED',
        messages: ['refreshToken: already used; the session has been ended'],
      });
    }
  }

  const next = newRefreshToken();
  const expiresAt = expiry(config, now);
  await Promise.all([
    refreshTokens().insertOne({
      _id: next.hash,
      sessionId: session._id,
      userId: user._id,
      parentId: hash,
      issuedAt: now,
      expiresAt,
    }),
    sessions().updateOne({ _id: session._id }, { $max: { lastUsedAt: now, expiresAt } }),
  ]);
  return pair(config, user, session._id, next.token, now);
}

/** Revokes the matching sessions that are not revoked yet. @returns how many it revoked. */
export async function revokeSessions(
  filter: Record<string, unknown>,
  reason: RevokeReason,
  now: Date,
): Promise<number> {
  const res = await sessions().updateMany(
    { ...filter, revokedAt: null },
    { $set: { revokedAt: now, revokedReason: reason } },
  );
  return res.modifiedCount;
}

/**
 * `POST /auth/logout`: ends every live session of the user (an expired one ended by itself), and records it.
 * @returns how many it ended.
 */
export async function logOut(userId: Types.ObjectId, sessionId: string, now: Date, audit: AuditTrail): Promise<number> {
  const revoked = await revokeSessions({ userId, expiresAt: { $gt: now } }, 'logout', now);
  await audit.publisher.publish(
    [
      auditEvent({
        type: 'logout',
        at: now.toISOString(),
        userId: userId.toHexString(),
        actorKind: 'user',
        actorSessionId: sessionId,
        count: revoked,
        reqId: audit.reqId,
      }),
    ],
    audit.log,
  );
  return revoked;
}

/**
 * `POST /auth/revoke-token`: ends the session of a refresh token of the caller's, and records it.
 * @returns false when the token is unknown or someone else's.
 */
export async function revokeOwnSession(
  userId: Types.ObjectId,
  callerSessionId: string,
  refreshToken: string,
  now: Date,
  audit: AuditTrail,
): Promise<boolean> {
  const sessionId = await revokeByRefreshToken(userId, refreshToken, now);
  if (!sessionId) return false;
  await audit.publisher.publish(
    [
      auditEvent({
        type: 'session-revoked',
        at: now.toISOString(),
        userId: userId.toHexString(),
        actorKind: 'user',
        sessionId: sessionId.toHexString(),
        actorSessionId: callerSessionId,
        reqId: audit.reqId,
      }),
    ],
    audit.log,
  );
  return true;
}

/**
 * Ends the session a refresh token belongs to, only when it is the caller's.
 * @returns the session's id, or null when the token is unknown or someone else's (the route answers 404 either way).
 */
export async function revokeByRefreshToken(
  userId: Types.ObjectId,
  refreshToken: string,
  now: Date,
): Promise<Types.ObjectId | null> {
  const token = await refreshTokens().findOne(
    { _id: hashRefreshToken(refreshToken) },
    { projection: { sessionId: 1, userId: 1 } },
  );
  if (!token || !token.userId.equals(userId)) return null;
  await revokeSessions({ _id: token.sessionId, expiresAt: { $gt: now } }, 'revoke-token', now);
  return token.sessionId;
}

export interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  platform: string | null;
  deviceId: string | null;
  appVersion: string | null;
  current: boolean;
}

/** The user's live sessions, most recently used first. */
export async function listSessions(
  userId: Types.ObjectId,
  currentSessionId: string,
  now: Date,
): Promise<SessionView[]> {
  const live = await sessions()
    .find({ userId, revokedAt: null, expiresAt: { $gt: now } })
    .sort({ lastUsedAt: -1 })
    .toArray();
  return live.map((s) => ({
    id: s._id.toHexString(),
    createdAt: s.createdAt.toISOString(),
    lastUsedAt: s.lastUsedAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    ip: s.ip ?? null,
    userAgent: s.userAgent ?? null,
    platform: s.platform ?? null,
    deviceId: s.deviceId ?? null,
    appVersion: s.appVersion ?? null,
    current: s._id.toHexString() === currentSessionId,
  }));
}
