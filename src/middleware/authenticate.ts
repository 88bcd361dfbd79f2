/**
 * The `JWT-auth` scheme (docs/api.md#authentication): `Authorization: Bearer <accessToken>`.
 * 401 for a missing, malformed, expired, wrongly signed (any algorithm but
 * HS256, `none` included), wrong-issuer, wrong-audience or revoked token;
 * 403 when the token is fine but lacks a required role.
 */
import type { RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { forbidden, unauthorized } from '../lib/errors.js';
import type { Role } from '../models/user.js';
import type { SessionGuard } from '../services/session-guard.js';
import { verifyAccessToken } from '../services/tokens.js';

export interface AuthContext {
  userId: Types.ObjectId;
  sessionId: string;
  roles: string[];
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthContext;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;
const challenge = { 'WWW-Authenticate': 'Bearer realm="allmine"' };

export interface AuthenticateDeps {
  config: Config;
  guard: SessionGuard;
  clock: () => Date;
}

export function authenticate(deps: AuthenticateDeps, ...roles: Role[]): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header)
      throw unauthorized({
        errorCode: 'TOKEN_MISSING',
        messages: ['Authorization: a Bearer access token is required'],
        headers: challenge,
      });
    const match = BEARER.exec(header.trim());
    if (!match)
      throw unauthorized({
        errorCode: 'TOKEN_INVALID',
        messages: ['Authorization: not a Bearer JWT'],
        headers: challenge,
      });

    let claims;
    try {
      claims = verifyAccessToken(deps.config, match[1]!, deps.clock());
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      throw unauthorized({
        errorCode: expired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID',
        messages: [expired ? 'accessToken: expired' : 'accessToken: invalid'],
        headers: challenge,
      });
    }
    if (!Types.ObjectId.isValid(claims.sub) || !(await deps.guard.isLive(claims.sid, claims.sub))) {
      throw unauthorized({
        errorCode: 'SESSION_REVOKED',
        messages: ['accessToken: the session has ended'],
        headers: challenge,
      });
    }
    req.auth = { userId: new Types.ObjectId(claims.sub), sessionId: claims.sid, roles: claims.roles };
    if (roles.length > 0 && !roles.some((r) => claims.roles.includes(r))) {
      throw forbidden({ errorCode: 'ROLE_REQUIRED', messages: [`role: one of ${roles.join(', ')} is required`] });
    }
    next();
  };
}

/** The authenticated caller; only for handlers behind `authenticate`. */
export function authOf(req: { auth?: AuthContext }): AuthContext {
  if (!req.auth) throw unauthorized();
  return req.auth;
}
