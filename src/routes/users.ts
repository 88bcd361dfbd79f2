/**
 * The Users group: registration completion, profile, usernames (docs/api.md#users)
 * and account deletion (docs/api.md#account-deletion). All JWT-protected. Thin: validate,
 * call a service, send.
 */
import { Router, type Request } from 'express';
import { matchedData, type ParamSchema, type Schema } from 'express-validator';
import { sendData } from '../lib/envelope.js';
import { authenticate, authOf, type AuthenticateDeps } from '../middleware/authenticate.js';
import { parseTimezone } from '../middleware/client-headers.js';
import {
  charLength,
  charLengthWithin,
  emailProblem,
  normalizeEmail,
  validateBody,
  validateQuery,
} from '../middleware/validate.js';
import { AVAILABILITY, EXPERTISE, GENDERS } from '../models/user.js';
import { regex } from '../schemas/pattern.js';
import { HANDLE, PROFILE_LENGTHS, TIMEZONE } from '../schemas/users.js';
import { cancelDeletion, finalizeNow, requestDeletion, type OwnRequest } from '../services/account-deletion.js';
import { ownSecurityEvents } from '../services/audit.js';
import {
  changeUsername,
  completeRegistration,
  isUsernameAvailable,
  updateProfile,
  usernameProblem,
  type UsersDeps,
} from '../services/users.js';
import { defineRoute } from './define.js';
import { pageOf, pageParams } from './query-params.js';

type Check = (value: unknown) => true;
const fail = (message: string): never => {
  throw new Error(message);
};

/** A field that may be absent; when `nullable`, `null` clears it (PATCH). */
function field(check: Check, { required = false, nullable = false } = {}): ParamSchema {
  return {
    ...(required
      ? { exists: { errorMessage: 'is required', options: { values: 'null' as const }, bail: true } }
      : { optional: true }),
    custom: { options: (v: unknown) => (nullable && v === null ? true : check(v)) },
  };
}

const text =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'string' && charLengthWithin(v.trim(), min, max)
      ? true
      : fail(`must be a string of ${min}-${max} characters`);
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? true : fail(`must be one of ${values.join(', ')}`);
const HANDLE_RE = regex(HANDLE.inputPattern);
const handle: Check = (v) => (typeof v === 'string' && HANDLE_RE.test(v) ? true : fail(HANDLE.message));
const emailCheck: Check = (v) => {
  if (typeof v !== 'string') return fail('not a valid e-mail address');
  const problem = emailProblem(v); // the rules of the login addresses, so a profile holds no look-alike either
  if (problem) return fail(problem);
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalizeEmail(v)) ? true : fail('not a valid e-mail address');
};
const photo: Check = (v) => {
  if (typeof v !== 'string' || charLength(v) > PROFILE_LENGTHS.profilePhoto.max) fail('must be an https URL');
  try {
    return new URL(v as string).protocol === 'https:' ? true : fail('must be an https URL');
  } catch {
    return fail('must be an https URL');
  }
};
const timezone: Check = (v) => (typeof v === 'string' && parseTimezone(v) ? true : fail(TIMEZONE.message));
const stringList =
  (maxItems: number, maxLength: number): Check =>
  (v) =>
    Array.isArray(v) &&
    v.length <= maxItems &&
    v.every((s) => typeof s === 'string' && charLengthWithin(s.trim(), 1, maxLength))
      ? true
      : fail(`must be a list of at most ${maxItems} strings of 1-${maxLength} characters`);
const expertiseList: Check = (v) =>
  Array.isArray(v) &&
  v.length <= EXPERTISE.length &&
  new Set(v).size === v.length &&
  v.every((s) => (EXPERTISE as readonly unknown[]).includes(s))
    ? true
    : fail(`must be a list of distinct values of ${EXPERTISE.join(', ')}`);
const usernameCheck: Check = (v) => {
  if (typeof v !== 'string') return fail('must be a string');
  const problem = usernameProblem(v.trim().toLowerCase());
  return problem ? fail(problem) : true;
};

/**
 * A date-only field as clients send it: `YYYY-MM-DD`, or that day's midnight UTC as an ISO date-time
 * (`YYYY-MM-DDT00:00:00.000Z`, milliseconds optional), which is how the API itself returns it, so a client
 * can send back what it read. Any other time of day would silently become another day: refused.
 */
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})(T00:00:00(?:\.000)?Z)?$/;
const dayOf = (v: string) => v.slice(0, 10);

function adultBirthDate(clock: () => Date): Check {
  return (v) => {
    const m = typeof v === 'string' ? DATE_ONLY.exec(v) : null;
    if (!m && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v))
      return fail('must be a date YYYY-MM-DD or its midnight UTC YYYY-MM-DDT00:00:00.000Z; other times are refused');
    const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
    if (!date || date.toISOString().slice(0, 10) !== dayOf(v as string) || Number(m![1]) < 1900)
      return fail('must be a date YYYY-MM-DD');
    const now = clock();
    const eighteenth = new Date(Date.UTC(date.getUTCFullYear() + 18, date.getUTCMonth(), date.getUTCDate()));
    return eighteenth.getTime() <= now.getTime() ? true : fail('must be at least 18 years ago');
  };
}

/** Normalizes validated profile values for storage. */
function profileOf(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === null) out[k] = k === 'interests' || k === 'expertise' ? [] : null;
    else if (k === 'birthDate') out[k] = new Date(`${dayOf(v as string)}T00:00:00.000Z`);
    else if (k === 'email') out[k] = normalizeEmail(v as string);
    else if (['instagram', 'x', 'tiktok', 'snapchat', 'facebook'].includes(k)) out[k] = (v as string).replace(/^@/, '');
    else if (k === 'interests') out[k] = (v as string[]).map((s) => s.trim());
    else if (typeof v === 'string') out[k] = v.trim();
    else out[k] = v;
  }
  return out;
}

function profileSchema(clock: () => Date, nullable: boolean): Schema {
  const opt = { nullable };
  return {
    name: field(text(PROFILE_LENGTHS.name.min, PROFILE_LENGTHS.name.max), opt),
    surname: field(text(PROFILE_LENGTHS.surname.min, PROFILE_LENGTHS.surname.max), opt),
    birthDate: field(adultBirthDate(clock), opt),
    gender: field(oneOf(GENDERS), opt),
    availabilityStatus: field(oneOf(AVAILABILITY), opt),
    interests: field(stringList(PROFILE_LENGTHS.interests.maxItems, PROFILE_LENGTHS.interests.maxLength), opt),
    expertise: field(expertiseList, opt),
    email: field(emailCheck, opt),
    bio: field(text(PROFILE_LENGTHS.bio.min, PROFILE_LENGTHS.bio.max), opt),
    instagram: field(handle, opt),
    x: field(handle, opt),
    tiktok: field(handle, opt),
    snapchat: field(handle, opt),
    facebook: field(handle, opt),
    timezone: field(timezone, opt),
    profilePhoto: field(photo, opt),
  };
}

const version = text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max);
const isTrue: Check = (v) => (v === true ? true : fail('must be true'));
const isBoolean: Check = (v) => (typeof v === 'boolean' ? true : fail('must be true or false'));

export function usersRouter(deps: UsersDeps & AuthenticateDeps): Router {
  const router = Router();
  const signedIn = authenticate(deps);
  const { clock, config } = deps;

  defineRoute(router, '/api/v1/users/me/complete-registration', {
    post: [
      signedIn,
      ...validateBody({
        ...profileSchema(clock, false),
        name: field(text(PROFILE_LENGTHS.name.min, PROFILE_LENGTHS.name.max), { required: true }),
        surname: field(text(PROFILE_LENGTHS.surname.min, PROFILE_LENGTHS.surname.max), { required: true }),
        username: field(usernameCheck, { required: true }),
        birthDate: field(adultBirthDate(clock), { required: true }),
        gender: field(oneOf(GENDERS), { required: true }),
        privacyPolicyAccepted: field(isTrue, { required: true }),
        privacyPolicyVersion: field(version, { required: true }),
        termsOfUseAccepted: field(isTrue, { required: true }),
        termsOfUseVersion: field(version, { required: true }),
        consentFormAccepted: field(isBoolean),
        consentFormVersion: field(version),
      }),
      async (req, res) => {
        const {
          username,
          privacyPolicyAccepted: _p,
          termsOfUseAccepted: _t,
          ...rest
        } = matchedData(req) as Record<string, unknown>;
        const input = {
          ...profileOf(rest),
          username: (username as string).trim().toLowerCase(),
        } as Parameters<typeof completeRegistration>[2];
        sendData(res, 200, await completeRegistration(deps, authOf(req).userId, input, req.log, req.id));
      },
    ],
  });

  defineRoute(router, '/api/v1/users/me', {
    patch: [
      signedIn,
      ...validateBody(profileSchema(clock, true)),
      async (req, res) => {
        const fields = profileOf(matchedData(req) as Record<string, unknown>);
        sendData(res, 200, await updateProfile(deps, authOf(req).userId, fields));
      },
    ],
  });

  defineRoute(router, '/api/v1/users/check-username', {
    post: [
      signedIn,
      ...validateBody({
        username: {
          exists: { errorMessage: 'is required', options: { values: 'null' } },
          isString: { errorMessage: 'must be a string' },
        },
      }),
      async (req, res) => {
        const name = String(matchedData(req).username).trim().toLowerCase();
        const problem = usernameProblem(name);
        const available = !problem && (await isUsernameAvailable(name, authOf(req).userId));
        sendData(res, 200, { available, ...(problem ? { reason: problem } : {}) });
      },
    ],
  });

  defineRoute(router, '/api/v1/users/username', {
    patch: [
      signedIn,
      ...validateBody({ newUsername: field(usernameCheck, { required: true }) }),
      async (req, res) => {
        const name = String(matchedData(req).newUsername).trim().toLowerCase();
        sendData(res, 200, await changeUsername(deps, authOf(req).userId, name));
      },
    ],
  });

  /** The caller's request, as the audit trail records it. */
  const own = (req: Request): OwnRequest => ({
    publisher: deps.publisher,
    reqId: req.id,
    log: req.log,
    sessionId: authOf(req).sessionId,
  });

  defineRoute(router, '/api/v1/users/me/account-deletion', {
    post: [
      signedIn,
      ...validateBody({}),
      async (req, res) => sendData(res, 200, await requestDeletion(config, authOf(req).userId, clock(), own(req))),
    ],
    delete: [
      signedIn,
      async (req, res) => sendData(res, 200, await cancelDeletion(authOf(req).userId, clock(), own(req))),
    ],
  });

  defineRoute(router, '/api/v1/users/me/account-deletion/finalize-now', {
    post: [
      signedIn,
      ...validateBody({}),
      async (req, res) => {
        const result = await finalizeNow(config, authOf(req).userId, clock(), own(req));
        deps.guard.forget();
        req.log.info({ userId: result.userId }, 'account finalized (finalize-now)');
        sendData(res, 200, result);
      },
    ],
  });

  defineRoute(router, '/api/v1/users/me/security-events', {
    get: [
      signedIn,
      ...validateQuery(pageParams),
      async (req, res) => {
        const { userId, sessionId } = authOf(req);
        sendData(res, 200, await ownSecurityEvents(userId, sessionId, pageOf(matchedData(req))));
      },
    ],
  });

  return router;
}
