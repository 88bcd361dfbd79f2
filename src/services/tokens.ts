/**
 * Access tokens are JWTs signed with HS256 (pinned on both sides) carrying
 * `iss`, `aud`, `sub` (user id), `sid` (session id), `roles`, `iat` and `exp`;
 * verification refuses a token without any one of them (roles aside).
 * Refresh tokens are opaque random strings; only their hash is stored.
 */
import jwt from 'jsonwebtoken';
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { randomToken, sha256Hex } from '../lib/crypto.js';

export const JWT_ALGORITHM = 'HS256' as const;

export interface AccessClaims {
  sub: string;
  sid: string;
  roles: string[];
}

/**
 * The secret as a key object, made once per secret. Given a string, jsonwebtoken first tries to read it as a
 * PEM private (or public) key and only then as a secret, on every token: that failed parse cost about 1.9 ms
 * of CPU per login.
 */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    if (keys.size >= 8) keys.clear(); // a process has one secret; tests a few
    keys.set(secret, key);
  }
  return key;
}

export function signAccessToken(config: Config, claims: AccessClaims, now: Date): string {
  return jwt.sign(
    { sid: claims.sid, roles: claims.roles, iat: Math.floor(now.getTime() / 1000) },
    keyOf(config.jwt.secret),
    {
      algorithm: JWT_ALGORITHM,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      subject: claims.sub,
      expiresIn: config.tokens.accessTtlSeconds,
    },
  );
}

/** @throws jsonwebtoken's errors for anything but a valid token of ours. */
export function verifyAccessToken(config: Config, token: string, now: Date): AccessClaims & { exp: number } {
  const payload = jwt.verify(token, keyOf(config.jwt.secret), {
    algorithms: [JWT_ALGORITHM],
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    clockTimestamp: Math.floor(now.getTime() / 1000),
  });
  // jsonwebtoken checks `exp` only when a token has one, and nothing requires `iat`: a token without them,
  // signed with our secret (by a tool, a test, a leaked script), would otherwise never expire.
  if (
    typeof payload === 'string' ||
    typeof payload.sub !== 'string' ||
    typeof payload.sid !== 'string' ||
    typeof payload.exp !== 'number' ||
    typeof payload.iat !== 'number'
  ) {
    throw new jwt.JsonWebTokenError('malformed claims: sub, sid, iat and exp are required');
  }
  return {
    sub: payload.sub,
    sid: payload.sid,
    roles: Array.isArray(payload.roles) ? payload.roles : [],
    exp: payload.exp,
  };
}

export function newRefreshToken(): { token: string; hash: string } {
  const token = randomToken();
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return sha256Hex(token);
}
