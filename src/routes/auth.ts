/**
 * `POST /api/v1/auth/send-otp` and `POST /api/v1/auth/verify-otp`
 * (contract §2.1, §2.2). Thin: validate, call the service, send.
 */
import { Router, type Request } from 'express';
import { matchedData, type Schema } from 'express-validator';
import { sendData } from '../lib/envelope.js';
import { badRequest } from '../lib/errors.js';
import { normalizePhone, type NormalizedPhone } from '../lib/phone.js';
import { requiredString, validateBody } from '../middleware/validate.js';
import { sendPhoneOtp, verifyPhoneOtp, type AuthDeps } from '../services/auth.js';
import { defineRoute } from './define.js';

const ATTRIBUTION = /^[A-Za-z0-9._-]{1,64}$/;
const attribution = {
  optional: { options: { values: 'null' as const } },
  isString: { errorMessage: 'must be a string', bail: true },
  matches: { options: ATTRIBUTION, errorMessage: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' },
};

const phoneFields: Schema = {
  countryCode: requiredString(1, 4),
  phoneNumber: requiredString(1, 32),
};

function phoneOf(data: Record<string, string>): NormalizedPhone {
  const phone = normalizePhone(data.countryCode!, data.phoneNumber!);
  if ('error' in phone) throw badRequest([phone.error]);
  return phone;
}

export function authRouter(deps: AuthDeps): Router {
  const router = Router();

  defineRoute(router, '/api/v1/auth/send-otp', {
    post: [
      ...validateBody(phoneFields),
      async (req: Request, res) => {
        const phone = phoneOf(matchedData(req));
        sendData(res, 201, await sendPhoneOtp(deps, phone, req.client, req.log));
      },
    ],
  });

  defineRoute(router, '/api/v1/auth/verify-otp', {
    post: [
      ...validateBody({
        ...phoneFields,
        code: {
          ...requiredString(1, 16),
          matches: { options: new RegExp(`^\\d{${deps.config.otp.length}}$`), errorMessage: `must be ${deps.config.otp.length} digits` },
        },
        signupSource: attribution,
        signupCampaign: attribution,
      }),
      async (req: Request, res) => {
        const data = matchedData(req) as Record<string, string>;
        const result = await verifyPhoneOtp(
          deps,
          { phone: phoneOf(data), code: data.code!, signupSource: data.signupSource, signupCampaign: data.signupCampaign },
          req.client,
          req.log,
          req.id,
        );
        sendData(res, 200, result);
      },
    ],
  });

  return router;
}
