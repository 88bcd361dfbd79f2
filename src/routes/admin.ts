/**
 * The admin API (docs/api.md#admin): support and security operations on user accounts under
 * `/api/v1/admin`, for roles `support` and `admin` (roles and erasure: `admin` only). Every state-changing
 * call takes a `reason`; every call is recorded in the audit trail. Thin: validate, call
 * `src/services/admin.ts`, send.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { matchedData, type ParamSchema, type Schema } from 'express-validator';
import { Types } from 'mongoose';
import { sendData } from '../lib/envelope.js';
import { badRequest } from '../lib/errors.js';
import { normalizeInternationalPhone, normalizePhone } from '../lib/phone.js';
import { authenticate, authOf, type AuthenticateDeps } from '../middleware/authenticate.js';
import { emailProblem, normalizeEmail, requiredString, validateBody, validateQuery } from '../middleware/validate.js';
import { AUDIT_TYPES, type AuditType } from '../models/audit-event.js';
import { ROLES, type Role } from '../models/user.js';
import { AUTH_LENGTHS } from '../schemas/auth.js';
import { CURSOR, LOOKUP_CRITERIA, OBJECT_ID, REASON, type LookupCriterion } from '../schemas/admin.js';
import {
  changeUserRoles,
  finalizeUserDeletion,
  lookUpUsers,
  resetUserLimits,
  revokeUserSession,
  revokeUserSessions,
  suspendUser,
  unsuspendUser,
  userCursor,
  userDetail,
  userEvents,
  type AdminDeps,
  type LookupQuery,
} from '../services/admin.js';
import { originOf, type StaffActor } from '../services/audit.js';
import { defineRoute } from './define.js';
import { isObjectId, once, pageOf, pageParams, pathId } from './query-params.js';

const fail = (message: string): never => {
  throw new Error(message);
};

const reason: Schema = { reason: requiredString(REASON.min, REASON.max) };

/** The normalized criterion of a look-up: exactly one of phone (with an optional countryCode), email, username, id. */
function lookupOf(data: Record<string, string | undefined>): LookupQuery {
  const given = LOOKUP_CRITERIA.filter((c) => data[c] !== undefined);
  if (given.length !== 1) throw badRequest([`query: give exactly one of ${LOOKUP_CRITERIA.join(', ')}`]);
  const criterion = given[0]! as LookupCriterion;
  const raw = data[criterion]!.trim();
  if (data.countryCode !== undefined && criterion !== 'phone') throw badRequest(['countryCode: only with phone']);
  switch (criterion) {
    case 'phone': {
      // Like send-otp with a countryCode; without one, the number in international format.
      const phone =
        data.countryCode !== undefined ? normalizePhone(data.countryCode, raw) : normalizeInternationalPhone(raw);
      if ('error' in phone) throw badRequest([phone.error.replace(/^phoneNumber:/, 'phone:')]);
      return { criterion, value: phone.e164 };
    }
    case 'email': {
      const problem = emailProblem(raw);
      if (problem) throw badRequest([`email: ${problem}`]);
      return { criterion, value: normalizeEmail(raw) };
    }
    case 'username':
      return { criterion, value: raw.toLowerCase() };
    case 'id':
      if (!isObjectId(raw)) throw badRequest([`id: ${OBJECT_ID.message}`]);
      return { criterion, value: raw };
  }
}

const rolesField: ParamSchema = {
  exists: { errorMessage: 'is required', options: { values: 'null' as const }, bail: true },
  custom: {
    options: (v: unknown) =>
      Array.isArray(v) &&
      v.length <= ROLES.length &&
      new Set(v).size === v.length &&
      v.every((r) => (ROLES as readonly unknown[]).includes(r))
        ? true
        : fail(`must be a list of distinct values of ${ROLES.join(', ')}`),
  },
};

const typesParam = once((v) => {
  const unknown = v.split(',').filter((t) => !(AUDIT_TYPES as readonly string[]).includes(t));
  return unknown.length === 0 ? true : fail(`"${unknown[0]}" is not one of ${AUDIT_TYPES.join(', ')}`);
});

export function adminRouter(deps: AdminDeps & AuthenticateDeps): Router {
  const router = Router();
  const staff = authenticate(deps, 'admin', 'support');
  const adminOnly = authenticate(deps, 'admin');

  const actorOf = (req: Request): StaffActor => ({
    userId: authOf(req).userId,
    roles: authOf(req).roles,
    origin: originOf(req.client, req.id),
  });
  const idOf = (req: Request, key = 'id') => new Types.ObjectId((matchedData(req) as Record<string, string>)[key]);
  const reasonOf = (req: Request) => (matchedData(req) as { reason: string }).reason;

  defineRoute(router, '/api/v1/admin/users', {
    get: [
      staff,
      ...validateQuery({
        phone: once((v) =>
          v.length <= AUTH_LENGTHS.phoneNumber.max
            ? true
            : fail(`must be at most ${AUTH_LENGTHS.phoneNumber.max} characters`),
        ),
        countryCode: once(),
        email: once(),
        username: once(),
        id: once(),
        ...pageParams,
      }),
      async (req, res) => {
        const data = matchedData(req) as Record<string, string | undefined>;
        const page = pageOf(data);
        const cursor = page.cursor === undefined ? undefined : userCursor(page.cursor);
        if (page.cursor !== undefined && !cursor) throw badRequest([`cursor: ${CURSOR.message}`]);
        sendData(res, 200, await lookUpUsers(deps, actorOf(req), lookupOf(data), { limit: page.limit, cursor }));
      },
    ],
  });

  defineRoute(router, '/api/v1/admin/users/:id', {
    get: [
      staff,
      ...validateQuery({ id: pathId() }),
      async (req, res) => sendData(res, 200, await userDetail(deps, actorOf(req), idOf(req))),
    ],
  });

  defineRoute(router, '/api/v1/admin/users/:id/events', {
    get: [
      staff,
      ...validateQuery({ id: pathId(), types: typesParam, ...pageParams }),
      async (req, res) => {
        const data = matchedData(req) as Record<string, string | undefined>;
        const types = data.types ? ([...new Set(data.types.split(','))] as AuditType[]) : undefined;
        sendData(
          res,
          200,
          await userEvents(deps, actorOf(req), idOf(req), { ...pageOf(data), ...(types ? { types } : {}) }),
        );
      },
    ],
  });

  /**
   * A state-changing call on user `:id`: `schema` (with `reason`) checked, then `run` with the caller, the
   * user's id, the reason and the request. `endsSessions`: this process forgets its session cache, so the
   * ended sessions' tokens stop here at once (elsewhere within `SESSION_CACHE_TTL_MS`).
   */
  const action = (
    gate: RequestHandler,
    schema: Schema,
    run: (actor: StaffActor, userId: Types.ObjectId, reason: string, req: Request) => Promise<unknown>,
    endsSessions = false,
  ): RequestHandler[] => [
    gate,
    ...validateBody({ id: pathId(), ...schema, ...reason }),
    async (req, res) => {
      const result = await run(actorOf(req), idOf(req), reasonOf(req), req);
      if (endsSessions) deps.guard.forget();
      sendData(res, 200, result);
    },
  ];

  defineRoute(router, '/api/v1/admin/users/:id/suspend', {
    post: action(staff, {}, (actor, id, why) => suspendUser(deps, actor, id, why), true),
  });

  defineRoute(router, '/api/v1/admin/users/:id/unsuspend', {
    post: action(staff, {}, (actor, id, why) => unsuspendUser(deps, actor, id, why)),
  });

  defineRoute(router, '/api/v1/admin/users/:id/sessions/revoke', {
    post: action(staff, {}, (actor, id, why) => revokeUserSessions(deps, actor, id, why), true),
  });

  defineRoute(router, '/api/v1/admin/users/:id/sessions/:sessionId', {
    delete: action(
      staff,
      { sessionId: pathId() },
      (actor, id, why, req) => revokeUserSession(deps, actor, id, idOf(req, 'sessionId'), why),
      true,
    ),
  });

  defineRoute(router, '/api/v1/admin/users/:id/limits/reset', {
    post: action(staff, {}, (actor, id, why) => resetUserLimits(deps, actor, id, why)),
  });

  defineRoute(router, '/api/v1/admin/users/:id/roles', {
    put: action(
      adminOnly,
      { roles: rolesField },
      (actor, id, why, req) => changeUserRoles(deps, actor, id, (matchedData(req) as { roles: Role[] }).roles, why),
      true,
    ),
  });

  defineRoute(router, '/api/v1/admin/users/:id/account-deletion/finalize', {
    post: action(adminOnly, {}, (actor, id, why) => finalizeUserDeletion(deps, actor, id, why), true),
  });

  return router;
}
