/**
 * The Authentication group: phone and e-mail codes (docs/api.md#auth-codes), refresh
 * (docs/api.md#refresh), and the JWT-protected logout, revoke-token, sessions and me
 * (docs/api.md#logout-revoke-token-sessions-me).
 * Thin: validate, call a service, send.
 */
import { Router, type Request, type Response } from 'express';
import { matchedData, type Meta, type Schema } from 'express-validator';
import { sendData } from '../lib/envelope.js';
import { badRequest, notFound } from '../lib/errors.js';
import { normalizePhone, type NormalizedPhone } from '../lib/phone.js';
import {
  ATTRIBUTION,
  AUTH_LENGTHS,
  CLICK_ID,
  CLICK_ID_PAIR,
  CLICK_ID_TYPES,
  CODE,
  VERIFICATION_ID,
} from '../schemas/auth.js';
import { regex } from '../schemas/pattern.js';
import { authenticate, authOf, type AuthenticateDeps } from '../middleware/authenticate.js';
import { loginEmail, requiredString, validateBody } from '../middleware/validate.js';
import { sendCode, verifyCode, type AuthDeps, type ClickIdType, type Identity } from '../services/auth.js';
import { listSessions, logOut, refreshSession, revokeOwnSession } from '../services/sessions.js';
import { currentUser } from '../services/users.js';
import { defineRoute } from './define.js';

const attribution = {
  optional: { options: { values: 'null' as const } },
  isString: { errorMessage: 'must be a string', bail: true },
  matches: { options: regex(ATTRIBUTION.pattern), errorMessage: ATTRIBUTION.message },
};

/** verify-otp: the ad click id and its network; each needs the other (a `null` counts as absent). */
const clickIdFields = {
  clickId: {
    optional: { options: { values: 'null' as const } },
    isString: { errorMessage: 'must be a string', bail: true },
    matches: { options: regex(CLICK_ID.pattern), errorMessage: CLICK_ID.message },
    custom: {
      options: (_v: unknown, { req }: Meta) => (req.body as Record<string, unknown>).clickIdType != null,
      errorMessage: CLICK_ID_PAIR.message,
    },
  },
  clickIdType: {
    optional: { options: { values: 'null' as const } },
    isIn: { options: [CLICK_ID_TYPES], errorMessage: `must be one of ${CLICK_ID_TYPES.join(', ')}`, bail: true },
    custom: {
      options: (_v: unknown, { req }: Meta) => (req.body as Record<string, unknown>).clickId != null,
      errorMessage: CLICK_ID_PAIR.message,
    },
  },
};

/** send-otp: bind the code to the requesting device (a JSON boolean; absent means false). */
const bindField: Schema = {
  bindToDevice: {
    optional: true,
    custom: { options: (v: unknown) => typeof v === 'boolean', errorMessage: 'must be a boolean' },
  },
};
/** verify-otp: the id send-otp returned for a bound code. */
const verificationIdField = {
  optional: true,
  isString: { errorMessage: 'must be a string', bail: true },
  matches: { options: regex(VERIFICATION_ID.pattern), errorMessage: VERIFICATION_ID.message },
};

const phoneFields: Schema = {
  countryCode: requiredString(1, 4),
  phoneNumber: requiredString(AUTH_LENGTHS.phoneNumber.min, AUTH_LENGTHS.phoneNumber.max),
};

const emailFields: Schema = { email: loginEmail };

const refreshTokenField: Schema = {
  refreshToken: requiredString(AUTH_LENGTHS.refreshToken.min, AUTH_LENGTHS.refreshToken.max),
};

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
  const codeField = requiredString(1, 16, {
    pattern: regex(CODE.pattern(deps.config.otp.length)),
    message: CODE.message(deps.config.otp.length),
  });
  const verifyFields = {
    code: codeField,
    signupSource: attribution,
    signupCampaign: attribution,
    signupMedium: attribution,
    signupContent: attribution,
    signupTerm: attribution,
    ...clickIdFields,
    verificationId: verificationIdField,
  };

  const verifyHandler =
    (identityOf: (data: Record<string, string>) => Identity) => async (req: Request, res: Response) => {
      const data = matchedData(req) as Record<string, string>;
      const identity = identityOf(data);
      const { signupSource, signupCampaign, signupMedium, signupContent, signupTerm, clickId, clickIdType } = data;
      const attribution = {
        signupSource,
        signupCampaign,
        signupMedium,
        signupContent,
        signupTerm,
        clickId,
        clickIdType: clickIdType as ClickIdType | undefined,
      };
      const input = { identity, code: data.code!, ...attribution, verificationId: data.verificationId };
      sendData(res, 200, await verifyCode(deps, input, req.client, req.log, req.id));
    };

  defineRoute(router, '/api/v1/auth/send-otp', {
    post: [
      ...validateBody({ ...phoneFields, ...bindField }),
      async (req, res) => {
        const data = matchedData(req);
        const phone = phoneOf(data);
        const sent = await sendCode(deps, { kind: 'phone', phone }, req.client, req.log, {
          bindToDevice: data.bindToDevice === true,
        });
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
        const sent = await sendCode(deps, emailIdentity(data), req.client, req.log, {
          bindToDevice: (data.bindToDevice as unknown) === true,
        });
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
        sendData(
          res,
          200,
          await refreshSession(deps.config, refreshToken, deps.clock(), {
            publisher: deps.publisher,
            reqId: req.id,
            log: req.log,
          }),
        );
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/logout', {
    post: [
      signedIn,
      ...validateBody({}),
      async (req, res) => {
        const { userId, sessionId } = authOf(req);
        const revokedSessions = await logOut(userId, sessionId, deps.clock(), {
          publisher: deps.publisher,
          reqId: req.id,
          log: req.log,
        });
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
        const { userId, sessionId } = authOf(req);
        const revoked = await revokeOwnSession(userId, sessionId, refreshToken, deps.clock(), {
          publisher: deps.publisher,
          reqId: req.id,
          log: req.log,
        });
        if (!revoked)
          throw notFound({ errorCode: 'REFRESH_TOKEN_NOT_FOUND', messages: ['refreshToken: no such token of yours'] });
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
        sendData(res, 200, await currentUser(authOf(req).userId));
      },
    ],
  });

  return router;
}
