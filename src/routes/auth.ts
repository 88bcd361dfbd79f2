/**
 * The Authentication group: phone and e-mail codes (docs/api.md#auth-codes), refresh
 * (docs/api.md#refresh), and the JWT-protected logout, revoke-token, sessions and me
 * (docs/api.md#logout-revoke-token-sessions-me).
 * Thin: validate, call a service, send.
 */
import { Router, type Request, type Response } from 'express';
import { matchedData, type Schema } from 'express-validator';
import { sendData } from '../lib/envelope.js';
import { badRequest, notFound, unauthorized } from '../lib/errors.js';
import { normalizePhone, type NormalizedPhone } from '../lib/phone.js';
import { authenticate, authOf, type AuthenticateDeps } from '../middleware/authenticate.js';
import { loginEmail, requiredString, validateBody } from '../middleware/validate.js';
import { toPrivateUser, User, type UserRecord } from '../models/user.js';
import { sendCode, verifyCode, type AuthDeps, type Identity } from '../services/auth.js';
import { listSessions, refreshSession, revokeByRefreshToken, revokeSessions } from '../services/sessions.js';
import { defineRoute } from './define.js';

const ATTRIBUTION = /^[A-Za-z0-9._-]{1,64}$/;
const attribution = {
  optional: { options: { values: 'null' as const } },
  isString: { errorMessage: 'must be a string', bail: true },
  matches: { options: ATTRIBUTION, errorMessage: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' },
};

/** send-otp: bind the code to the requesting device (a JSON boolean; absent means false). */
const bindField: Schema = {
  bindToDevice: { optional: true, custom: { options: (v: unknown) => typeof v === 'boolean', errorMessage: 'must be a boolean' } },
};
/** verify-otp: the id send-otp returned for a bound code. */
const verificationIdField = {
  optional: true,
  isString: { errorMessage: 'must be a string', bail: true },
  matches: { options: /^[A-Za-z0-9_-]{43}$/, errorMessage: 'must be the verificationId send-otp returned' },
};

const phoneFields: Schema = {
  countryCode: requiredString(1, 4),
  phoneNumber: requiredString(1, 32),
};

const emailFields: Schema = { email: loginEmail };

const refreshTokenField: Schema = { refreshToken: requiredString(1, 256) };

function phoneOf(data: Record<string, string>): NormalizedPhone {
  const phone = normalizePhone(data.countryCode!, data.phoneNumber!);
  if ('error' in phone) throw badRequest([phone.error]);
  return phone;
}

const phoneIdentity = (data: Record<string, string>): Identity => ({ kind: 'phone', phone: phoneOf(data) });

const emailIdentity = (data: Record<string, string>): Identity => ({ kind: 'email', email: data.email! });

export function authRouter(deps: AuthDeps & AuthenticateDeps): Router {
  const router = Router();
  const signedIn = authenticate(deps);
  const codeField = {
    ...requiredString(1, 16),
    matches: { options: new RegExp(`^\\d{${deps.config.otp.length}}$`), errorMessage: `must be ${deps.config.otp.length} digits` },
  };
  const verifyFields = { code: codeField, signupSource: attribution, signupCampaign: attribution, verificationId: verificationIdField };

  const verifyHandler = (identityOf: (data: Record<string, string>) => Identity) => async (req: Request, res: Response) => {
    const data = matchedData(req) as Record<string, string>;
    const identity = identityOf(data);
    const input = { identity, code: data.code!, signupSource: data.signupSource, signupCampaign: data.signupCampaign, verificationId: data.verificationId };
    sendData(res, 200, await verifyCode(deps, input, req.client, req.log, req.id));
  };

  defineRoute(router, '/api/v1/auth/send-otp', {
    post: [
      ...validateBody({ ...phoneFields, ...bindField }),
      async (req, res) => {
        const data = matchedData(req);
        const phone = phoneOf(data);
        const sent = await sendCode(deps, { kind: 'phone', phone }, req.client, req.log, { bindToDevice: data.bindToDevice === true });
        sendData(res, 201, { countryCode: `+${phone.countryCode}`, phoneNumber: phone.phoneNumber, ...sent });
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/verify-otp', {
    post: [...validateBody({ ...phoneFields, ...verifyFields }), verifyHandler(phoneIdentity)],
  });

  defineRoute(router, '/api/v1/auth/send-otp-email', {
    post: [
      ...validateBody({ ...emailFields, ...bindField }),
      async (req, res) => {
        const data = matchedData(req) as Record<string, string>;
        const sent = await sendCode(deps, emailIdentity(data), req.client, req.log, { bindToDevice: (data.bindToDevice as unknown) === true });
        sendData(res, 201, { email: data.email, ...sent });
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/verify-otp-email', {
    post: [...validateBody({ ...emailFields, ...verifyFields }), verifyHandler(emailIdentity)],
  });

  defineRoute(router, '/api/v1/auth/refresh', {
    post: [
      ...validateBody(refreshTokenField),
      async (req, res) => {
        const { refreshToken } = matchedData(req) as { refreshToken: string };
        sendData(res, 200, await refreshSession(deps.config, refreshToken, deps.clock(), req.log));
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/logout', {
    post: [
      signedIn,
      ...validateBody({}),
      async (req, res) => {
        const { userId } = authOf(req);
        const now = deps.clock();
        // Only live sessions count: an expired one ended by itself.
        const revokedSessions = await revokeSessions({ userId, expiresAt: { $gt: now } }, 'logout', now);
        deps.guard.forget();
        req.log.info({ userId: userId.toHexString(), revokedSessions }, 'logout');
        sendData(res, 200, { revokedSessions });
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/revoke-token', {
    post: [
      signedIn,
      ...validateBody(refreshTokenField),
      async (req, res) => {
        const { refreshToken } = matchedData(req) as { refreshToken: string };
        const revoked = await revokeByRefreshToken(authOf(req).userId, refreshToken, deps.clock());
        if (!revoked) throw notFound({ errorCode: 'REFRESH_TOKEN_NOT_FOUND', messages: ['refreshToken: no such token of yours'] });
        deps.guard.forget();
        sendData(res, 200, { revoked: true });
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/sessions', {
    get: [
      signedIn,
      async (req, res) => {
        const { userId, sessionId } = authOf(req);
        sendData(res, 200, await listSessions(userId, sessionId, deps.clock()));
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/me', {
    get: [
      signedIn,
      async (req, res) => {
        const user = await User.findById(authOf(req).userId).lean<UserRecord>();
        if (!user) throw unauthorized({ errorCode: 'SESSION_REVOKED', messages: ['accessToken: the account no longer exists'] });
        sendData(res, 200, toPrivateUser(user));
      },
    ],
  });

  return router;
}
