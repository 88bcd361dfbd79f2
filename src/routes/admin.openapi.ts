/**
 * The OpenAPI part of the Admin group (`./admin.ts`): its component schemas (the staff view of a user, its
 * sessions and limits, audit events, the results of the actions, the request bodies) and its paths, one
 * function per operation. Built with the shared blocks of `src/openapi/`; the rules come from
 * `src/schemas/admin.ts`, the enumerations from the models and services, as the routes' do.
 * `src/openapi/spec.ts` adds it to the document.
 */
import { PLATFORMS } from '../lib/client-info.js';
import { ACTOR_KINDS, AUDIT_TYPES } from '../models/audit-event.js';
import { ROLES } from '../models/user.js';
import {
  DATE_TIME,
  errorBody,
  errorResponse,
  jsonBody,
  JWT,
  NULLABLE_DATE_TIME,
  OBJECT_ID,
  okBody,
  operation,
  schemaRef,
  signedIn,
  strictObject,
  successResponse,
  TS,
  validationFailed,
} from '../openapi/builders.js';
import { PAGING, pageParameters, pageSchema, type ResourceSchemas } from '../openapi/components.js';
import { exampleUser } from '../openapi/examples.js';
import type {
  ExampleObject,
  JsonSchema,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ResponseObject,
} from '../openapi/types.js';
import { LOOKUP_CRITERIA, REASON } from '../schemas/admin.js';
import { SESSIONS_SHOWN } from '../services/admin.js';
import { RECIPIENT_LIMITS } from '../services/rate-limits.js';

const USER_ID = '65a4f0c2e4b0a1b2c3d4e5f6';
const STAFF_ID = '65a4f0c2e4b0a1b2c3d4e5aa';
const SESSION_ID = '65a4f0c2e4b0a1b2c3d4e5f7';
const LATER = '2026-01-15T11:30:00.000Z';
const nullableString = { type: ['string', 'null'] };

/** Who may call what, said once for the operations' descriptions. */
const STAFF = 'Roles `support` or `admin`.';
const ADMIN_ONLY = 'Role `admin` only (`support` gets `403 ROLE_REQUIRED`).';
const AUDITED =
  'Recorded in the audit trail (the caller, the request id, IP and device, and the reason) before the answer: an action that answered 200 is always on record.';

// ---------------------------------------------------------------------------------------------
// Schemas.

function dataSchemas(): Record<string, JsonSchema> {
  const summaryProperties = {
    user: schemaRef('PrivateUser'),
    suspended: { type: 'boolean', description: 'Whether the account is suspended: it cannot log in or refresh.' },
    suspendedAt: NULLABLE_DATE_TIME,
    createdAt: DATE_TIME,
  };
  const summaryRequired = ['user', 'suspended', 'suspendedAt', 'createdAt'];
  const limitState = strictObject(
    {
      name: {
        enum: [...RECIPIENT_LIMITS],
        description:
          '`send-cooldown` (the wait between codes), `send-recipient-hour` / `send-recipient-day` (codes sent), `verify-recipient-hour` (verify attempts that reached a code).',
      },
      limit: { type: 'integer', minimum: 1, description: 'Points per window.' },
      used: { type: 'integer', minimum: 0, description: 'Points taken in the current window (0 when none is open).' },
      remaining: { type: 'integer', minimum: 0 },
      blocked: { type: 'boolean', description: 'The next attempt would be refused (429).' },
      resetsAt: { ...NULLABLE_DATE_TIME, description: 'When the current window ends; `null` when none is open.' },
    },
    ['name', 'limit', 'used', 'remaining', 'blocked', 'resetsAt'],
  );
  const codeState = strictObject(
    {
      sentAt: DATE_TIME,
      expiresAt: DATE_TIME,
      attempts: { type: 'integer', minimum: 0 },
      maxAttempts: { type: 'integer', minimum: 1 },
      attemptsRemaining: { type: 'integer', minimum: 0 },
      expired: { type: 'boolean' },
      dead: { type: 'boolean', description: 'Out of attempts: not even the right code works; a new one must be sent.' },
      boundToDevice: { type: 'boolean' },
    },
    ['sentAt', 'expiresAt', 'attempts', 'maxAttempts', 'attemptsRemaining', 'expired', 'dead', 'boundToDevice'],
    'The recipient’s current code (never the code itself).',
  );
  return {
    AdminUserSummary: strictObject(summaryProperties, summaryRequired, 'A user as staff see them in a look-up.'),
    AdminUserPage: pageSchema(schemaRef('AdminUserSummary'), 'A page of look-up results, in id order.'),
    AdminSession: strictObject(
      {
        id: OBJECT_ID,
        createdAt: DATE_TIME,
        lastUsedAt: DATE_TIME,
        expiresAt: DATE_TIME,
        revokedAt: NULLABLE_DATE_TIME,
        revokedReason: {
          ...nullableString,
          description:
            '`logout`, `revoke-token`, `refresh-token-reuse`, `account-deleted`, `role-revoked`, `suspended`, `staff-revoked`.',
        },
        live: { type: 'boolean', description: 'Not revoked and not expired.' },
        ip: nullableString,
        userAgent: nullableString,
        platform: { type: ['string', 'null'], enum: [...PLATFORMS, null] },
        deviceId: nullableString,
        appVersion: nullableString,
      },
      [
        'id',
        'createdAt',
        'lastUsedAt',
        'expiresAt',
        'revokedAt',
        'revokedReason',
        'live',
        'ip',
        'userAgent',
        'platform',
        'deviceId',
        'appVersion',
      ],
    ),
    RecipientLimits: strictObject(
      {
        channel: { enum: ['phone', 'email'], description: 'The login identity: the number or the address.' },
        limits: {
          type: 'array',
          items: limitState,
          description: 'The limits configured on (a resend cooldown of 0 is left out).',
        },
        code: { anyOf: [codeState, { type: 'null' }] },
      },
      ['channel', 'limits', 'code'],
      'The live send and verify limits of one login identity, and its current code.',
    ),
    AdminUserDetail: strictObject(
      {
        ...summaryProperties,
        deletion: schemaRef('AccountDeletionStatus'),
        sessions: {
          type: 'array',
          maxItems: SESSIONS_SHOWN,
          items: schemaRef('AdminSession'),
          description: `The ${SESSIONS_SHOWN} most recent sessions, newest first, ended ones included (ended sessions are deleted a week after they expire).`,
        },
        limits: {
          type: 'array',
          items: schemaRef('RecipientLimits'),
          description: 'One entry per login identity (phone number, e-mail address); none for an erased account.',
        },
      },
      [...summaryRequired, 'deletion', 'sessions', 'limits'],
      'A user as support sees them: the private user object, the suspension, the deletion state, the sessions and the live limits.',
    ),
    AuditEvent: strictObject(
      {
        id: { type: 'string', minLength: 1 },
        type: { enum: [...AUDIT_TYPES] },
        at: { ...DATE_TIME, description: 'When it happened (a `verify-failed` event: its latest wrong code).' },
        actor: strictObject(
          {
            kind: {
              enum: [...ACTOR_KINDS],
              description:
                '`user` the account holder, `staff` a caller of this API, `cli` an operator command, `system` the worker, `anonymous` someone unknown (wrong codes, a reused refresh token).',
            },
            userId: { ...OBJECT_ID, type: ['string', 'null'] },
            roles: {
              type: 'array',
              items: { type: 'string' },
              description: 'The staff member’s roles when they acted.',
            },
          },
          ['kind', 'userId', 'roles'],
        ),
        targetUserId: { ...OBJECT_ID, type: ['string', 'null'] },
        sessionId: { ...OBJECT_ID, type: ['string', 'null'], description: 'The session opened, ended or reused.' },
        reqId: nullableString,
        ip: {
          ...nullableString,
          description:
            'The actor’s address: the request’s for staff actions, the session’s for the user’s own; none for wrong codes (jobs carry no addresses).',
        },
        userAgent: nullableString,
        platform: nullableString,
        deviceId: nullableString,
        appVersion: nullableString,
        reason: { ...nullableString, description: 'Staff actions: the reason given.' },
        count: {
          type: ['integer', 'null'],
          minimum: 0,
          description: '`verify-failed`: wrong codes so far; session revocations: sessions ended.',
        },
        details: {
          type: ['object', 'null'],
          description:
            'By type: `roles-changed` `{ before, after, added, removed }`; `users-searched` `{ criterion, found, userIds }` (never the value searched for); `limits-reset` `{ channels, deadCodesCleared }`; `verify-failed` `{ channel, firstAt }`; `suspended` / `unsuspended` `{ changed }`. Never a code or a token.',
        },
      },
      [
        'id',
        'type',
        'at',
        'actor',
        'targetUserId',
        'sessionId',
        'reqId',
        'ip',
        'userAgent',
        'platform',
        'deviceId',
        'appVersion',
        'reason',
        'count',
        'details',
      ],
      'An event of the audit trail, as support sees it.',
    ),
    AuditEventPage: pageSchema(schemaRef('AuditEvent'), 'A page of audit events, newest first.'),
    SuspensionResult: strictObject(
      {
        userId: OBJECT_ID,
        suspended: { type: 'boolean' },
        suspendedAt: NULLABLE_DATE_TIME,
        changed: { type: 'boolean', description: '`false` when the account was already in that state.' },
        revokedSessions: { type: 'integer', minimum: 0, description: 'Sessions ended by this call.' },
      },
      ['userId', 'suspended', 'suspendedAt', 'changed', 'revokedSessions'],
    ),
    SessionsRevoked: strictObject({ userId: OBJECT_ID, revokedSessions: { type: 'integer', minimum: 0 } }, [
      'userId',
      'revokedSessions',
    ]),
    SessionRevoked: strictObject(
      {
        userId: OBJECT_ID,
        sessionId: OBJECT_ID,
        revoked: { type: 'boolean', description: '`false` when the session had ended already.' },
      },
      ['userId', 'sessionId', 'revoked'],
    ),
    LimitsReset: strictObject(
      {
        userId: OBJECT_ID,
        deadCodesCleared: {
          type: 'integer',
          minimum: 0,
          description: 'Codes out of attempts that were deleted (a live code is left alone).',
        },
        limits: { type: 'array', items: schemaRef('RecipientLimits'), description: 'The limits after the reset.' },
      },
      ['userId', 'deadCodesCleared', 'limits'],
    ),
    RoleChange: strictObject(
      {
        userId: OBJECT_ID,
        roles: { type: 'array', uniqueItems: true, items: { enum: [...ROLES] }, description: 'The roles now.' },
        added: { type: 'array', uniqueItems: true, items: { enum: [...ROLES] } },
        removed: { type: 'array', uniqueItems: true, items: { enum: [...ROLES] } },
        revokedSessions: { type: 'integer', minimum: 0, description: 'Sessions ended because a role was removed.' },
      },
      ['userId', 'roles', 'added', 'removed', 'revokedSessions'],
    ),
  };
}

function requestSchemas(): Record<string, JsonSchema> {
  const reason = {
    type: 'string',
    minLength: REASON.min,
    maxLength: REASON.max,
    pattern: '\\S(?:.*\\S)?',
    description: `Why (recorded in the audit trail): ${REASON.min}–${REASON.max} characters after trimming.`,
  };
  return {
    AdminActionRequest: strictObject({ reason }, ['reason'], 'Every state-changing admin call says why.'),
    SetRolesRequest: strictObject(
      {
        roles: {
          type: 'array',
          uniqueItems: true,
          maxItems: ROLES.length,
          items: { enum: [...ROLES] },
          description: 'The roles the user should have; `user` is always kept (added when absent).',
        },
        reason,
      },
      ['roles', 'reason'],
    ),
  };
}

/** The schemas of the group: `data` types with their envelopes, and request bodies. */
export function adminSchemas(): ResourceSchemas {
  return {
    data: dataSchemas(),
    envelopes: [
      ['AdminUserPage', 200],
      ['AdminUserDetail', 200],
      ['AuditEventPage', 200],
      ['SuspensionResult', 200],
      ['SessionsRevoked', 200],
      ['SessionRevoked', 200],
      ['LimitsReset', 200],
      ['RoleChange', 200],
    ],
    requests: requestSchemas(),
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters, examples and responses the operations share.

const idParam = (name: 'id' | 'sessionId', description: string): ParameterObject => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: OBJECT_ID,
});
const userIdParam = () => idParam('id', 'The user’s id.');

const reasonBody = (reason = 'User called support: phone stolen') =>
  jsonBody('AdminActionRequest', { reason: { summary: 'A reason', value: { reason } } });

const summaryExample = (extra: Record<string, unknown> = {}) => ({
  user: { ...exampleUser(), ...extra },
  suspended: false,
  suspendedAt: null,
  createdAt: TS,
});
const limitExamples = () => [
  { name: 'send-cooldown', limit: 1, used: 0, remaining: 1, blocked: false, resetsAt: null },
  { name: 'send-recipient-hour', limit: 5, used: 2, remaining: 3, blocked: false, resetsAt: LATER },
  {
    name: 'send-recipient-day',
    limit: 10,
    used: 2,
    remaining: 8,
    blocked: false,
    resetsAt: '2026-01-16T10:30:00.000Z',
  },
  { name: 'verify-recipient-hour', limit: 10, used: 10, remaining: 0, blocked: true, resetsAt: LATER },
];
const deadCode = {
  sentAt: TS,
  expiresAt: '2026-01-15T10:33:00.000Z',
  attempts: 5,
  maxAttempts: 5,
  attemptsRemaining: 0,
  expired: false,
  dead: true,
  boundToDevice: false,
};

/** 400: a bad path id, query or body (these examples, and the shared ones). */
const invalid = (what: string, examples: Record<string, ExampleObject> = {}) =>
  validationFailed(`${what} An unknown query parameter is \`<name>: unknown query parameter\`.`, {
    ...examples,
    badId: { summary: 'Not an id', value: errorBody(400, ['id: must be an id (24 hex digits, lower-case)']) },
  });
const invalidAction = () =>
  invalid('The id or the body is malformed, or the reason is missing or too short.', {
    noReason: { summary: 'No reason', value: errorBody(400, ['reason: is required']) },
    shortReason: {
      summary: 'Too short',
      value: errorBody(400, [`reason: must be ${REASON.min}-${REASON.max} characters`]),
    },
  });

/** 403 for a caller without the role (and, where it applies, for acting on their own account or on an admin). */
function forbiddenFor(roles: string, extra: { self?: string; adminTarget?: boolean } = {}): ResponseObject {
  const examples: Record<string, ExampleObject> = {
    role: {
      summary: 'Not staff',
      value: errorBody(403, [`role: one of ${roles} is required`], { errorCode: 'ROLE_REQUIRED' }),
    },
  };
  if (extra.adminTarget)
    examples.adminTarget = {
      summary: 'support acting on an admin',
      value: errorBody(403, ['role: admin is required to suspend or unsuspend an admin'], {
        errorCode: 'ROLE_REQUIRED',
      }),
    };
  if (extra.self)
    examples.self = {
      summary: 'On your own account',
      value: errorBody(403, [extra.self], { errorCode: 'SELF_ACTION_REFUSED' }),
    };
  return errorResponse(403, {
    description: `The caller lacks the role (\`ROLE_REQUIRED\`: ${roles === 'admin' ? 'role `admin`' : 'roles `support` or `admin`'}${extra.adminTarget ? '; `admin` to act on an admin' : ''})${extra.self ? ', or the call would act on their own account (`SELF_ACTION_REFUSED`)' : ''}.`,
    errorCodes: ['ROLE_REQUIRED', ...(extra.self ? ['SELF_ACTION_REFUSED'] : [])],
    examples,
  });
}

const userNotFound = (also = '') =>
  errorResponse(404, {
    description: `No user has this id${also}.`,
    errorCodes: ['USER_NOT_FOUND', ...(also ? ['SESSION_NOT_FOUND'] : [])],
    examples: {
      user: { summary: 'No such user', value: errorBody(404, ['id: no such user'], { errorCode: 'USER_NOT_FOUND' }) },
      ...(also
        ? {
            session: {
              summary: 'Not a session of this user',
              value: errorBody(404, ['sessionId: no such session of this user'], { errorCode: 'SESSION_NOT_FOUND' }),
            },
          }
        : {}),
    },
  });

const erased = (description = 'The account is erased (its deletion finalized).') =>
  errorResponse(409, {
    description,
    errorCodes: ['ACCOUNT_DELETED'],
    examples: {
      deleted: {
        summary: 'Erased',
        value: errorBody(409, ['account: already deleted'], { errorCode: 'ACCOUNT_DELETED' }),
      },
    },
  });

const staffErrors = (roles = 'admin, support') => ({
  '403': forbiddenFor(roles),
  ...signedIn({ db: true, bodyValidated: true }),
});

// ---------------------------------------------------------------------------------------------
// Operations.

function lookUpUsers(): OperationObject {
  return operation({
    operationId: 'adminLookUpUsers',
    summary: 'Look users up',
    description: `Exact look-up by exactly one of ${LOOKUP_CRITERIA.map((c) => `\`${c}\``).join(', ')} (none, or two, is a 400). \`phone\` is normalized like send-otp: with \`countryCode\`, \`phone\` is the national number (\`countryCode=90&phone=0555 123 45 67\`); without, it is the number in international format (\`+905551234567\`, \`00905551234567\`, or the digits alone: a \`+\` not percent-encoded as \`%2B\` arrives as a space, which is ignored). \`email\` is trimmed and lower-cased and finds both the login address and the profile address (several users may have the same profile address). \`username\` is case-insensitive. An erased account has no phone, address or username any more; find it by \`id\`. ${PAGING} ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [
      {
        name: 'phone',
        in: 'query',
        description: 'A phone number (see above).',
        schema: { type: 'string', minLength: 1, maxLength: 32 },
        example: '+905551234567',
      },
      {
        name: 'countryCode',
        in: 'query',
        description: 'Only with `phone`: its calling code (`90` or `+90`); `phone` is then the national number.',
        schema: { type: 'string', pattern: '^\\+?[0-9]{1,3}$' },
      },
      {
        name: 'email',
        in: 'query',
        description: 'An e-mail address.',
        schema: { type: 'string', minLength: 3, maxLength: 254 },
      },
      {
        name: 'username',
        in: 'query',
        description: 'A username (any case).',
        schema: { type: 'string', minLength: 1, maxLength: 30 },
      },
      { name: 'id', in: 'query', description: 'A user id.', schema: OBJECT_ID },
      ...pageParameters(),
    ],
    responses: {
      '200': successResponse('The matching users (none: an empty page).', 'AdminUserPageEnvelope', {
        one: { summary: 'Found by phone', value: okBody({ items: [summaryExample()], nextCursor: null }) },
        none: { summary: 'Nobody', value: okBody({ items: [], nextCursor: null }) },
      }),
      '400': invalid('No criterion, more than one, or an invalid value or parameter.', {
        none: {
          summary: 'No criterion',
          value: errorBody(400, [`query: give exactly one of ${LOOKUP_CRITERIA.join(', ')}`]),
        },
        badPhone: {
          summary: 'Not a number',
          value: errorBody(400, ['phone: not a mobile number in international format (+<country code><number>)']),
        },
      }),
      ...staffErrors(),
    },
    'x-mutating': false,
  });
}

function getUser(): OperationObject {
  const detail = {
    ...summaryExample(),
    deletion: { status: null, requestedAt: null, scheduledFor: null, cancelledAt: null, finalizedAt: null },
    sessions: [
      {
        id: SESSION_ID,
        createdAt: TS,
        lastUsedAt: TS,
        expiresAt: '2026-02-14T10:30:00.000Z',
        revokedAt: null,
        revokedReason: null,
        live: true,
        ip: '203.0.113.7',
        userAgent: 'Allmine/2.4.1 iOS',
        platform: 'mobile_ios',
        deviceId: 'device-A1',
        appVersion: '2.4.1',
      },
    ],
    limits: [{ channel: 'phone', limits: limitExamples(), code: deadCode }],
  };
  return operation({
    operationId: 'adminGetUser',
    summary: 'A user, their sessions and limits',
    description: `The private user object, whether the account is suspended, its deletion state, its ${SESSIONS_SHOWN} most recent sessions (device, platform, IP, created, last used, revoked), and, per login identity, the live send and verify limits with the time each resets, and the current code’s state (attempts, dead or not; never the code). The per-IP and per-country budgets are not the user’s and are not shown. ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam()],
    responses: {
      '200': successResponse('The user as support sees them.', 'AdminUserDetailEnvelope', {
        lockedOut: { summary: 'Locked out by strangers’ guesses', value: okBody(detail) },
      }),
      '400': invalid('The id is malformed.'),
      '404': userNotFound(),
      ...staffErrors(),
    },
    'x-mutating': false,
  });
}

function listUserEvents(): OperationObject {
  const event = {
    id: `verify-failed-${SESSION_ID}`,
    type: 'verify-failed',
    at: LATER,
    actor: { kind: 'anonymous', userId: null, roles: [] },
    targetUserId: USER_ID,
    sessionId: null,
    reqId: 'req-abc-12345678',
    ip: null,
    userAgent: null,
    platform: 'web',
    deviceId: null,
    appVersion: null,
    reason: null,
    count: 5,
    details: { channel: 'phone', firstAt: TS },
  };
  const staffEvent = {
    ...event,
    id: '65a4f0c2e4b0a1b2c3d4e5b1',
    type: 'limits-reset',
    actor: { kind: 'staff', userId: STAFF_ID, roles: ['user', 'support'] },
    ip: '198.51.100.20',
    userAgent: 'Mozilla/5.0',
    reason: 'Locked out by strangers’ guesses; identity checked by phone',
    count: null,
    details: { channels: ['phone'], deadCodesCleared: 1 },
  };
  return operation({
    operationId: 'adminListUserEvents',
    summary: 'A user’s audit trail',
    description: `The audit events about the user, newest first: logins, wrong codes (one event per code, counting its wrong attempts), refresh-token reuse, logouts and ended sessions, role changes, suspensions, limit resets, deletion requests, cancellations and erasure, and every staff call about them (look-ups and views included). \`types\` (comma-separated) keeps only those types. Events are kept \`AUDIT_RETENTION_DAYS\` (180). ${PAGING} ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [
      userIdParam(),
      {
        name: 'types',
        in: 'query',
        description: 'Only these event types, comma-separated.',
        style: 'form',
        explode: false,
        schema: { type: 'array', minItems: 1, items: { enum: [...AUDIT_TYPES] } },
        example: ['login', 'verify-failed'],
      },
      ...pageParameters(),
    ],
    responses: {
      '200': successResponse('A page of events.', 'AuditEventPageEnvelope', {
        page: {
          summary: 'A reset after wrong codes',
          value: okBody({ items: [staffEvent, event], nextCursor: 'WzE3Njg0NzMwMDAwMDAsInZlcmlmeS1mYWlsZWQiXQ' }),
        },
      }),
      '400': invalid('The id, `types`, `limit` or `cursor` is invalid.', {
        badType: {
          summary: 'An unknown type',
          value: errorBody(400, [`types: "nope" is not one of ${AUDIT_TYPES.join(', ')}`]),
        },
      }),
      '404': userNotFound(),
      ...staffErrors(),
    },
    'x-mutating': false,
  });
}

function suspension(suspend: boolean): OperationObject {
  const self = 'id: you cannot suspend your own account';
  return operation({
    operationId: suspend ? 'adminSuspendUser' : 'adminUnsuspendUser',
    summary: suspend ? 'Suspend a user' : 'Lift a suspension',
    description: suspend
      ? `The account can no longer log in (verify-otp and verify-otp-email answer \`409 ACCOUNT_SUSPENDED\` even with the right code) nor refresh (\`401 REFRESH_TOKEN_INVALID\`), and every live session is ended (\`revokedReason: suspended\`): its access tokens stop within \`SESSION_CACHE_TTL_MS\` (3 s, at most 5 s). Suspending a suspended account changes nothing (\`changed: false\`) but ends its sessions again. Only \`admin\` may suspend an admin; nobody suspends themselves. ${STAFF} ${AUDITED}`
      : `The user can log in again; the sessions the suspension ended stay ended. Lifting a suspension that is not there changes nothing (\`changed: false\`). Only \`admin\` may unsuspend an admin. ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam()],
    requestBody: reasonBody(suspend ? 'Account compromised: reported by the owner' : 'Owner verified; account secured'),
    responses: {
      '200': successResponse(suspend ? 'Suspended.' : 'Not suspended.', 'SuspensionResultEnvelope', {
        done: {
          summary: suspend ? 'Suspended, two sessions ended' : 'Lifted',
          value: okBody(
            suspend
              ? { userId: USER_ID, suspended: true, suspendedAt: TS, changed: true, revokedSessions: 2 }
              : { userId: USER_ID, suspended: false, suspendedAt: null, changed: true, revokedSessions: 0 },
          ),
        },
      }),
      '400': invalidAction(),
      '403': forbiddenFor('admin, support', { adminTarget: true, ...(suspend ? { self } : {}) }),
      '404': userNotFound(),
      '409': suspend
        ? errorResponse(409, {
            description:
              'The account is erased (`ACCOUNT_DELETED`), or it was unsuspended while being suspended (try again).',
            errorCodes: ['ACCOUNT_DELETED'],
            examples: {
              deleted: {
                summary: 'Erased',
                value: errorBody(409, ['account: already deleted'], { errorCode: 'ACCOUNT_DELETED' }),
              },
            },
          })
        : erased(),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function revokeSessions(): OperationObject {
  return operation({
    operationId: 'adminRevokeUserSessions',
    summary: 'End every session of a user',
    description: `Ends every live session of the user (\`revokedReason: staff-revoked\`): their refresh tokens are refused at once, their access tokens within \`SESSION_CACHE_TTL_MS\` (3 s, at most 5 s). The account itself is untouched: its owner logs in again with a code. (After a phone is stolen, whoever holds the SIM still receives codes until it is blocked: suspend the account meanwhile.) ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam()],
    requestBody: reasonBody(),
    responses: {
      '200': successResponse('The sessions are ended.', 'SessionsRevokedEnvelope', {
        ended: { summary: 'Three sessions ended', value: okBody({ userId: USER_ID, revokedSessions: 3 }) },
      }),
      '400': invalidAction(),
      '404': userNotFound(),
      ...staffErrors(),
    },
    'x-mutating': true,
  });
}

function revokeSession(): OperationObject {
  return operation({
    operationId: 'adminRevokeUserSession',
    summary: 'End one session of a user',
    description: `Ends one session of the user (\`revokedReason: staff-revoked\`), as \`sessions/revoke\` does for all. \`revoked: false\` when it had ended already. The reason is sent as a JSON body, as on every state-changing admin call. ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam(), idParam('sessionId', 'The session’s id (`sessions[].id` of the user).')],
    requestBody: reasonBody('Unknown device the owner does not recognise'),
    responses: {
      '200': successResponse('The session is ended.', 'SessionRevokedEnvelope', {
        ended: { summary: 'Ended', value: okBody({ userId: USER_ID, sessionId: SESSION_ID, revoked: true }) },
      }),
      '400': invalidAction(),
      '404': userNotFound(', or the session is not one of theirs'),
      ...staffErrors(),
    },
    'x-mutating': true,
  });
}

function resetLimits(): OperationObject {
  return operation({
    operationId: 'adminResetUserLimits',
    summary: 'Reset a user’s send and verify limits',
    description: `Clears the limits of the user’s number and address: the resend cooldown, the hourly and daily send budgets and the verify budget, and deletes a code of theirs that is out of attempts (a live code is left alone). The owner can then ask for a code at once and use it. The per-IP and per-country budgets are not the user’s and stay. ${STAFF} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam()],
    requestBody: reasonBody('Locked out by strangers’ guesses; identity checked by phone'),
    responses: {
      '200': successResponse('The limits after the reset.', 'LimitsResetEnvelope', {
        reset: {
          summary: 'Fresh limits',
          value: okBody({
            userId: USER_ID,
            deadCodesCleared: 1,
            limits: [
              {
                channel: 'phone',
                limits: limitExamples().map((l) => ({
                  ...l,
                  used: 0,
                  remaining: l.limit,
                  blocked: false,
                  resetsAt: null,
                })),
                code: null,
              },
            ],
          }),
        },
      }),
      '400': invalidAction(),
      '404': userNotFound(),
      ...staffErrors(),
    },
    'x-mutating': true,
  });
}

function setRoles(): OperationObject {
  const self = 'roles: you cannot remove admin from your own account';
  return operation({
    operationId: 'adminSetUserRoles',
    summary: 'Set a user’s roles',
    description: `Sets the user’s roles to \`roles\` (\`user\` is always kept). When a role is removed, every session of the user ends (\`revokedReason: role-revoked\`), so access tokens carrying it stop within \`SESSION_CACHE_TTL_MS\`; an added role is in the user’s next token (after a login or a refresh). Nobody can remove \`admin\` from themselves. The \`grant-role\` command changes roles the same way. ${ADMIN_ONLY} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam()],
    requestBody: jsonBody('SetRolesRequest', {
      support: {
        summary: 'Make a support agent',
        value: { roles: ['user', 'support'], reason: 'Joined the support team' },
      },
      demote: { summary: 'Remove every role', value: { roles: [], reason: 'Left the company' } },
    }),
    responses: {
      '200': successResponse('The roles now.', 'RoleChangeEnvelope', {
        granted: {
          summary: 'Granted',
          value: okBody({
            userId: USER_ID,
            roles: ['user', 'support'],
            added: ['support'],
            removed: [],
            revokedSessions: 0,
          }),
        },
        removed: {
          summary: 'Removed: sessions ended',
          value: okBody({ userId: USER_ID, roles: ['user'], added: [], removed: ['marketing'], revokedSessions: 2 }),
        },
      }),
      '400': invalidAction(),
      '403': forbiddenFor('admin', { self }),
      '404': userNotFound(),
      '409': erased(),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function finalizeDeletion(): OperationObject {
  return operation({
    operationId: 'adminFinalizeUserDeletion',
    summary: 'Erase a user’s account now',
    description: `The same erasure as the worker’s when a deletion request is due, whether or not the user asked in the app (e.g. an erasure request by e-mail): personal data and login history erased (and the user’s own addresses and devices in the audit trail), every session ended, the phone number, e-mail and username released; aggregated attribution counts kept. Nobody erases their own account this way. ${ADMIN_ONLY} ${AUDITED}`,
    tags: ['Admin'],
    security: JWT,
    parameters: [userIdParam()],
    requestBody: reasonBody('Erasure requested by e-mail; identity verified'),
    responses: {
      '200': successResponse('The account is erased.', 'AccountFinalizationEnvelope', {
        finalized: {
          summary: 'Erased',
          value: okBody({
            status: 'finalized',
            requestedAt: TS,
            scheduledFor: null,
            cancelledAt: null,
            finalizedAt: TS,
            userId: USER_ID,
          }),
        },
      }),
      '400': invalidAction(),
      '403': forbiddenFor('admin', { self: 'id: you cannot erase your own account' }),
      '404': userNotFound(),
      '409': erased('The account is erased already.'),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

/** The paths of the group, each operation a function of this file. */
export function adminPaths(): Record<string, PathItemObject> {
  return {
    '/api/v1/admin/users': { get: lookUpUsers() },
    '/api/v1/admin/users/{id}': { get: getUser() },
    '/api/v1/admin/users/{id}/events': { get: listUserEvents() },
    '/api/v1/admin/users/{id}/suspend': { post: suspension(true) },
    '/api/v1/admin/users/{id}/unsuspend': { post: suspension(false) },
    '/api/v1/admin/users/{id}/sessions/revoke': { post: revokeSessions() },
    '/api/v1/admin/users/{id}/sessions/{sessionId}': { delete: revokeSession() },
    '/api/v1/admin/users/{id}/limits/reset': { post: resetLimits() },
    '/api/v1/admin/users/{id}/roles': { put: setRoles() },
    '/api/v1/admin/users/{id}/account-deletion/finalize': { post: finalizeDeletion() },
  };
}
