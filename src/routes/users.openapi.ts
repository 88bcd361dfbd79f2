/**
 * The OpenAPI part of the Users group (`./users.ts`): its component schemas (username availability, the
 * account-deletion states, and the request bodies of registration, profile updates and usernames) and its
 * paths, one function per operation. Built with the shared blocks of `src/openapi/`; the request rules come
 * from `src/schemas/users.ts`, as the validators' do. `src/openapi/spec.ts` adds it to the document.
 */
import { AVAILABILITY, DELETION_STATUSES, EXPERTISE, GENDERS, ROLES } from '../models/user.js';
import {
  DATE_TIME,
  EMAIL_RULES,
  errorBody,
  errorResponse,
  jsonBody,
  JWT,
  NULLABLE_DATE_TIME,
  nullable,
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
import {
  emptyBody,
  fieldsRefused,
  PAGING,
  pageParameters,
  pageSchema,
  type ResourceSchemas,
} from '../openapi/components.js';
import { exampleRegistration, exampleUser } from '../openapi/examples.js';
import type { JsonSchema, OperationObject, PathItemObject, ResponseObject } from '../openapi/types.js';
import { HANDLE, PROFILE_LENGTHS, RESERVED_USERNAMES, TIMEZONE, USERNAME } from '../schemas/users.js';
import { SECURITY_EVENT_TYPES } from '../models/audit-event.js';

/**
 * The reserved usernames, compared case-insensitively as the app does (`Admin` is refused like `admin`).
 * JSON Schema patterns have no flags, so each letter is a class of both cases.
 */
const RESERVED_USERNAME_PATTERN = `^(?:${[...RESERVED_USERNAMES]
  .map((w) => w.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`).replace(/\./g, '\\.'))
  .join('|')})$`;
/**
 * A character an e-mail address may hold (`emailProblem`): not whitespace, `@` or `"`, no control character,
 * no format character (Unicode Cf) or other default-ignorable code point of the Basic Multilingual Plane
 * (Hangul fillers, combining grapheme joiner, variation selectors, …), no braille blank (U+2800). Written
 * out, since `\p{Cf}` is not portable across the regex engines that read this document; the few such
 * characters outside the BMP are refused by the server all the same.
 */
const EMAIL_CHAR =
  '[^\\s@"\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u034f\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u2800\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff0-\\ufffb]';

// ---------------------------------------------------------------------------------------------
// Schemas.

const deletionProperties = {
  status: { type: ['string', 'null'], enum: [...DELETION_STATUSES, null] },
  requestedAt: NULLABLE_DATE_TIME,
  scheduledFor: NULLABLE_DATE_TIME,
  cancelledAt: NULLABLE_DATE_TIME,
  finalizedAt: NULLABLE_DATE_TIME,
};

function dataSchemas(): Record<string, JsonSchema> {
  return {
    UsernameAvailability: strictObject(
      {
        available: { type: 'boolean' },
        reason: {
          type: 'string',
          description: 'Why the name cannot be used at all (invalid or reserved); absent when it is merely taken.',
        },
      },
      ['available'],
    ),
    AccountDeletionStatus: strictObject(deletionProperties, [
      'status',
      'requestedAt',
      'scheduledFor',
      'cancelledAt',
      'finalizedAt',
    ]),
    AccountFinalization: strictObject({ ...deletionProperties, userId: OBJECT_ID }, [
      'status',
      'requestedAt',
      'scheduledFor',
      'cancelledAt',
      'finalizedAt',
      'userId',
    ]),
    SecurityEvent: securityEventSchema(),
    SecurityEventPage: pageSchema(schemaRef('SecurityEvent'), 'A page of the user’s security events, newest first.'),
  };
}

function securityEventSchema(): JsonSchema {
  const own = (description: string) => ({
    type: ['string', 'null'],
    description: `${description} Only on the user’s own actions (their session’s); \`null\` on staff actions.`,
  });
  const roles = { type: 'array', uniqueItems: true, items: { enum: [...ROLES] } };
  return strictObject(
    {
      id: { type: 'string', minLength: 1 },
      type: {
        enum: [...SECURITY_EVENT_TYPES],
        description:
          '`login` a sign-in; `verify-failed` wrong codes were tried on your number or address (`count` of them, on one code); `refresh-token-reuse` a used refresh token came back (probably stolen): that session was ended; `logout`, `session-revoked` (one session), `sessions-revoked` (all, by staff) sessions ended; `roles-changed`; `suspended` / `unsuspended`; `deletion-requested` / `deletion-cancelled`.',
      },
      at: DATE_TIME,
      actor: {
        enum: ['you', 'staff', 'system', 'unknown'],
        description:
          'Who did it: you, our staff, the system, or someone unknown (wrong codes, a reused refresh token).',
      },
      sessionId: { ...OBJECT_ID, type: ['string', 'null'], description: 'The session opened, ended or reused.' },
      currentSession: { type: 'boolean', description: 'The session is the one making this request.' },
      ip: own('The address, as the place it happened (no geolocation).'),
      platform: own('`X-Platform` of the device.'),
      deviceId: own('`X-Device-ID` of the device.'),
      appVersion: own('`X-App-Version` of the device.'),
      userAgent: own('The user agent.'),
      count: {
        type: ['integer', 'null'],
        minimum: 0,
        description: '`verify-failed`: wrong codes; `logout` and `sessions-revoked`: sessions ended.',
      },
      details: {
        anyOf: [strictObject({ added: roles, removed: roles }, ['added', 'removed']), { type: 'null' }],
        description: '`roles-changed`: the roles added and removed; otherwise `null`.',
      },
    },
    [
      'id',
      'type',
      'at',
      'actor',
      'sessionId',
      'currentSession',
      'ip',
      'platform',
      'deviceId',
      'appVersion',
      'userAgent',
      'count',
      'details',
    ],
    'One event of the user’s own security activity.',
  );
}

// Request bodies: the constraints of the express-validator schemas in ./users.ts. Strings the validators
// trim are documented without the surrounding whitespace they tolerate.

const text = (min: number, max: number, description?: string) => ({
  type: 'string',
  maxLength: max,
  ...(min > 0 ? { minLength: min, pattern: '\\S' } : {}),
  ...(description ? { description } : {}),
});

function usernameInput(): JsonSchema {
  return {
    type: 'string',
    pattern: USERNAME.inputPattern,
    not: { pattern: RESERVED_USERNAME_PATTERN },
    description: `3–30 characters of \`a-z 0-9 . _\`, not starting or ending with \`.\`; input is lower-cased. Reserved words (compared case-insensitively) are refused: ${[...RESERVED_USERNAMES].map((w) => `\`${w}\``).join(', ')}.`,
    examples: ['ayse.music'],
  };
}

/** The profile fields: required at registration, optional and clearable (`null`) in a profile update. */
function profile(canClear: boolean): Record<string, JsonSchema> {
  const f = (schema: JsonSchema): JsonSchema => (canClear ? nullable(schema) : schema);
  const handle = { type: 'string', pattern: HANDLE.inputPattern, description: 'A handle; a leading `@` is dropped.' };
  return {
    name: f(text(PROFILE_LENGTHS.name.min, PROFILE_LENGTHS.name.max)),
    surname: f(text(PROFILE_LENGTHS.surname.min, PROFILE_LENGTHS.surname.max)),
    birthDate: f({
      type: 'string',
      anyOf: [
        { format: 'date', pattern: '^(?:19|[2-9]\\d)\\d{2}-\\d{2}-\\d{2}$' },
        { format: 'date-time', pattern: '^(?:19|[2-9]\\d)\\d{2}-\\d{2}-\\d{2}T00:00:00(?:\\.000)?Z$' },
      ],
      description:
        'A real calendar day, from 1900, at least 18 years before today (UTC): `YYYY-MM-DD`, or that day’s midnight UTC as the API returns it (`1995-04-12T00:00:00.000Z`, also without milliseconds), so a value read from the user object can be sent back. Any other time of day is refused (400), since it would name another day in some time zone.',
      examples: ['1995-04-12', '1995-04-12T00:00:00.000Z'],
    }),
    gender: f({ enum: [...GENDERS] }),
    availabilityStatus: f({ enum: [...AVAILABILITY] }),
    interests: f({
      type: 'array',
      maxItems: PROFILE_LENGTHS.interests.maxItems,
      items: { type: 'string', minLength: 1, maxLength: PROFILE_LENGTHS.interests.maxLength, pattern: '\\S' },
      description: `At most ${PROFILE_LENGTHS.interests.maxItems} strings of 1–${PROFILE_LENGTHS.interests.maxLength} characters (trimmed).`,
    }),
    expertise: f({ type: 'array', uniqueItems: true, maxItems: EXPERTISE.length, items: { enum: [...EXPERTISE] } }),
    email: f({
      type: 'string',
      maxLength: 254,
      pattern: `^${EMAIL_CHAR}+@${EMAIL_CHAR}+\\.${EMAIL_CHAR}+$`,
      description: `Stored trimmed, lower-cased and in Unicode NFC. Profile data only: it is not a login identity. ${EMAIL_RULES}`,
    }),
    bio: f(text(PROFILE_LENGTHS.bio.min, PROFILE_LENGTHS.bio.max)),
    instagram: f(handle),
    x: f(handle),
    tiktok: f(handle),
    snapchat: f(handle),
    facebook: f(handle),
    timezone: f({
      type: 'string',
      pattern: TIMEZONE.pattern,
      description: '`UTC` or `UTC±HH:MM` in quarter hours, from `UTC-12:00` to `UTC+14:00`.',
      examples: ['UTC+03:00'],
    }),
    profilePhoto: f({
      type: 'string',
      maxLength: PROFILE_LENGTHS.profilePhoto.max,
      format: 'uri',
      pattern: '^https:',
      description: 'An https URL.',
    }),
  };
}

function requestSchemas(): Record<string, JsonSchema> {
  const username = usernameInput();
  const clearNote = ' `null` clears a field (arrays become `[]`).';
  return {
    CompleteRegistrationRequest: strictObject(
      {
        ...profile(false),
        username,
        privacyPolicyAccepted: { const: true },
        privacyPolicyVersion: {
          ...text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max),
          description:
            'Must equal the current version (`PRIVACY_POLICY_VERSION`, default `1.2.0`); a stale one is `400 POLICY_VERSION_STALE`.',
          examples: ['1.2.0'],
        },
        termsOfUseAccepted: { const: true },
        termsOfUseVersion: {
          ...text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max),
          description: 'Must equal the current version (`TERMS_OF_USE_VERSION`, default `1.1.0`).',
          examples: ['1.1.0'],
        },
        consentFormAccepted: { type: 'boolean' },
        consentFormVersion: {
          ...text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max),
          description:
            'When `consentFormAccepted` is true it must equal the current version (`CONSENT_FORM_VERSION`, default `1.0.0`).',
          examples: ['1.0.0'],
        },
      },
      [
        'name',
        'surname',
        'username',
        'birthDate',
        'gender',
        'privacyPolicyAccepted',
        'privacyPolicyVersion',
        'termsOfUseAccepted',
        'termsOfUseVersion',
      ],
      'Any other field (phone, roles, counters, attribution, flags) is refused with `400 <field>: unknown field`.',
    ),
    UpdateProfileRequest: strictObject(
      profile(true),
      [],
      `Only the profile fields; phone, roles, counters, attribution, username and flags are refused (\`400 <field>: unknown field\`).${clearNote}`,
    ),
    CheckUsernameRequest: strictObject(
      {
        username: {
          type: 'string',
          description:
            'Any string; the answer says whether it can be used (compared lower-cased). Your own name is available to you.',
        },
      },
      ['username'],
    ),
    ChangeUsernameRequest: strictObject({ newUsername: username }, ['newUsername']),
  };
}

/** The schemas of the group: `data` types with their envelopes, and request bodies. */
export function usersSchemas(): ResourceSchemas {
  return {
    data: dataSchemas(),
    envelopes: [
      ['UsernameAvailability', 200],
      ['AccountDeletionStatus', 200],
      ['AccountFinalization', 200],
      ['SecurityEventPage', 200],
    ],
    requests: requestSchemas(),
  };
}

// ---------------------------------------------------------------------------------------------
// Examples and responses the operations share.

function completedUser(): Record<string, unknown> {
  return {
    ...exampleUser(),
    name: 'Ayşe',
    surname: 'Yılmaz',
    username: 'ayse.music',
    birthDate: '1995-04-12T00:00:00.000Z',
    gender: 'female',
    interests: ['music', 'travel'],
    expertise: ['musician'],
    instagram: 'ayse.music',
    bio: 'Singer',
    timezone: 'UTC+03:00',
    privacyPolicyAccepted: true,
    privacyPolicyVersion: '1.2.0',
    termsOfUseAccepted: true,
    termsOfUseVersion: '1.1.0',
    isRegistrationComplete: true,
    lastLogin: TS,
  };
}

const deletionExample = () => ({
  status: 'pending',
  requestedAt: TS,
  scheduledFor: '2026-02-14T10:30:00.000Z',
  cancelledAt: null,
  finalizedAt: null,
});
const alreadyDeleted = () => ({
  summary: 'The account is already deleted',
  value: errorBody(409, ['account: already deleted'], { errorCode: 'ACCOUNT_DELETED' }),
});
const usernameTaken = () => ({
  summary: 'Taken',
  value: errorBody(409, ['username: is already taken'], { errorCode: 'USERNAME_TAKEN' }),
});

/** 200 with the private user object after a change. */
function userOk(description: string, value: Record<string, unknown>): ResponseObject {
  return successResponse(description, 'PrivateUserEnvelope', {
    user: { summary: 'The updated user', value: okBody(value) },
  });
}

// ---------------------------------------------------------------------------------------------
// Operations.

function completeRegistration(): OperationObject {
  const registration = exampleRegistration();
  return operation({
    operationId: 'completeRegistration',
    summary: 'Complete registration',
    description:
      'Completes a new user’s registration: profile, username, and acceptance of the current privacy policy and terms of use (optionally the consent form). The username is claimed atomically: of concurrent claims of one name exactly one wins.',
    tags: ['Users'],
    security: JWT,
    requestBody: jsonBody('CompleteRegistrationRequest', {
      minimal: { summary: 'The required fields', value: registration },
      full: {
        summary: 'With consent and profile fields',
        value: {
          ...registration,
          consentFormAccepted: true,
          consentFormVersion: '1.0.0',
          interests: ['music', 'travel'],
          expertise: ['musician'],
          instagram: '@ayse.music',
          bio: 'Singer',
          timezone: 'UTC+03:00',
        },
      },
    }),
    responses: {
      '200': userOk('Registration is complete.', completedUser()),
      '400': validationFailed(
        'The body is malformed, or a policy version is not the current one (`POLICY_VERSION_STALE`).',
        {
          underage: { summary: 'Under 18', value: errorBody(400, ['birthDate: must be at least 18 years ago']) },
          reserved: { summary: 'A reserved username', value: errorBody(400, ['username: is reserved']) },
          stale: {
            summary: 'A stale policy version',
            value: errorBody(400, ['privacyPolicyVersion: the current version is 1.2.0'], {
              errorCode: 'POLICY_VERSION_STALE',
            }),
          },
        },
        { errorCodes: ['POLICY_VERSION_STALE'] },
      ),
      '409': errorResponse(409, {
        description: 'Registration is already complete, or the username is taken.',
        errorCodes: ['REGISTRATION_ALREADY_COMPLETE', 'USERNAME_TAKEN'],
        examples: {
          complete: {
            summary: 'Already complete',
            value: errorBody(409, ['registration: already complete'], { errorCode: 'REGISTRATION_ALREADY_COMPLETE' }),
          },
          taken: usernameTaken(),
        },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function updateMe(): OperationObject {
  return operation({
    operationId: 'updateMe',
    summary: 'Update profile fields',
    description:
      'Updates the given profile fields; `null` clears one. Phone, roles, counters, attribution, username and flags cannot be changed here.',
    tags: ['Users'],
    security: JWT,
    requestBody: jsonBody(
      'UpdateProfileRequest',
      {
        update: {
          summary: 'Set some fields',
          value: { bio: 'Hello', availabilityStatus: 'busy', tiktok: '@me', interests: ['music'] },
        },
        clear: { summary: 'Clear fields', value: { bio: null, interests: null } },
      },
      false,
    ),
    responses: {
      '200': userOk('The updated user.', {
        ...completedUser(),
        bio: 'Hello',
        availabilityStatus: 'busy',
        tiktok: 'me',
        interests: ['music'],
      }),
      '400': validationFailed('The body is malformed or has a field that is not a profile field.', {
        notProfile: { summary: 'Not a profile field', value: errorBody(400, ['roles: unknown field']) },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function checkUsername(): OperationObject {
  return operation({
    operationId: 'checkUsername',
    summary: 'Check whether a username is available',
    description:
      'Answers whether the name can be taken by the caller (compared lower-cased; the caller’s own name is available to them). Changes nothing.',
    tags: ['Users'],
    security: JWT,
    requestBody: jsonBody('CheckUsernameRequest', { name: { summary: 'A name', value: { username: 'ayse.music' } } }),
    responses: {
      '200': successResponse('Whether the name is available.', 'UsernameAvailabilityEnvelope', {
        available: { summary: 'Available', value: okBody({ available: true }) },
        reserved: { summary: 'Reserved', value: okBody({ available: false, reason: 'is reserved' }) },
      }),
      '400': validationFailed('The body is malformed.', {
        missing: { summary: 'No username', value: errorBody(400, ['username: is required']) },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': false,
  });
}

function changeUsername(): OperationObject {
  return operation({
    operationId: 'changeUsername',
    summary: 'Change the username',
    description:
      'Changes the username, at most once every `USERNAME_CHANGE_INTERVAL_DAYS` (30); the name chosen at registration does not count as a change. Sets `lastUsernameChangeDate`; the old name is released.',
    tags: ['Users'],
    security: JWT,
    requestBody: jsonBody('ChangeUsernameRequest', {
      name: { summary: 'A new name', value: { newUsername: 'ayse.sings' } },
    }),
    responses: {
      '200': userOk('The updated user.', { ...completedUser(), username: 'ayse.sings', lastUsernameChangeDate: TS }),
      '400': validationFailed('The body is malformed or the name is invalid or reserved.', {
        invalid: {
          summary: 'Too short',
          value: errorBody(400, ['newUsername: must be 3-30 characters of a-z 0-9 . _, not starting or ending with .']),
        },
      }),
      '409': errorResponse(409, {
        description:
          'Registration is not complete yet, the last change was less than 30 days ago (`details.nextChangeAt`), or the name is taken.',
        errorCodes: ['REGISTRATION_INCOMPLETE', 'USERNAME_CHANGE_TOO_SOON', 'USERNAME_TAKEN'],
        details: {
          type: 'object',
          additionalProperties: false,
          required: ['nextChangeAt'],
          properties: { nextChangeAt: DATE_TIME },
        },
        examples: {
          tooSoon: {
            summary: 'Too soon',
            value: errorBody(409, ['username: can be changed again after 2026-02-14T10:30:00.000Z'], {
              errorCode: 'USERNAME_CHANGE_TOO_SOON',
              details: { nextChangeAt: '2026-02-14T10:30:00.000Z' },
            }),
          },
          taken: usernameTaken(),
        },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function requestAccountDeletion(): OperationObject {
  return operation({
    operationId: 'requestAccountDeletion',
    summary: 'Request account deletion',
    description:
      'Makes a `pending` deletion request, scheduled `ACCOUNT_DELETION_GRACE_DAYS` (30) from now; asking again returns the pending request unchanged. Login still works while pending (so it can be cancelled). When `scheduledFor` passes, the worker finalizes it: personal data erased, sessions revoked, phone number, e-mail and username released.',
    tags: ['Users'],
    security: JWT,
    requestBody: emptyBody(),
    responses: {
      '200': successResponse('The pending request.', 'AccountDeletionStatusEnvelope', {
        pending: { summary: 'Pending', value: okBody(deletionExample()) },
      }),
      '400': fieldsRefused(),
      '409': errorResponse(409, {
        description: 'The account is already deleted.',
        errorCodes: ['ACCOUNT_DELETED'],
        examples: { deleted: alreadyDeleted() },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function cancelAccountDeletion(): OperationObject {
  return operation({
    operationId: 'cancelAccountDeletion',
    summary: 'Cancel a pending account deletion',
    description: 'Cancels the pending deletion request (`cancelled`, `cancelledAt`).',
    tags: ['Users'],
    security: JWT,
    responses: {
      '200': successResponse('The cancelled request.', 'AccountDeletionStatusEnvelope', {
        cancelled: {
          summary: 'Cancelled',
          value: okBody({ ...deletionExample(), status: 'cancelled', cancelledAt: TS }),
        },
      }),
      '409': errorResponse(409, {
        description: 'No deletion request is pending (or the account is already deleted).',
        errorCodes: ['NO_PENDING_DELETION', 'ACCOUNT_DELETED'],
        examples: {
          none: {
            summary: 'Nothing pending',
            value: errorBody(409, ['account: no deletion request is pending'], { errorCode: 'NO_PENDING_DELETION' }),
          },
          deleted: alreadyDeleted(),
        },
      }),
      ...signedIn({ db: true, bodyValidated: false }),
    },
    'x-mutating': true,
  });
}

function finalizeAccountDeletionNow(): OperationObject {
  return operation({
    operationId: 'finalizeAccountDeletionNow',
    summary: 'Delete the account now',
    description:
      'Finalizes the deletion at once, only when the feature flag `ACCOUNT_DELETION_FINALIZE_NOW` is on: personal data erased, every session revoked (this access token stops working), phone number, e-mail and username released; aggregated attribution counts are kept. The same number can then sign up again as a new user.',
    tags: ['Users'],
    security: JWT,
    requestBody: emptyBody(),
    responses: {
      '200': successResponse('The account is finalized.', 'AccountFinalizationEnvelope', {
        finalized: {
          summary: 'Finalized',
          value: okBody({
            status: 'finalized',
            requestedAt: TS,
            scheduledFor: null,
            cancelledAt: null,
            finalizedAt: TS,
            userId: '65a4f0c2e4b0a1b2c3d4e5f6',
          }),
        },
      }),
      '400': fieldsRefused(),
      '403': errorResponse(403, {
        description: 'The feature flag is off.',
        errorCodes: ['FEATURE_DISABLED'],
        examples: {
          disabled: {
            summary: 'Flag off',
            value: errorBody(403, ['account-deletion: finalize-now is not enabled'], { errorCode: 'FEATURE_DISABLED' }),
          },
        },
      }),
      '409': errorResponse(409, {
        description: 'The account is already deleted.',
        errorCodes: ['ACCOUNT_DELETED'],
        examples: { deleted: alreadyDeleted() },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function listSecurityEvents(): OperationObject {
  const login = {
    id: 'login-65a4f0c2e4b0a1b2c3d4e5f7',
    type: 'login',
    at: TS,
    actor: 'you',
    sessionId: '65a4f0c2e4b0a1b2c3d4e5f7',
    currentSession: true,
    ip: '203.0.113.7',
    platform: 'mobile_ios',
    deviceId: 'device-A1',
    appVersion: '2.4.1',
    userAgent: 'Allmine/2.4.1 iOS',
    count: null,
    details: null,
  };
  const guesses = {
    ...login,
    id: 'verify-failed-65a4f0c2e4b0a1b2c3d4e5f9',
    type: 'verify-failed',
    at: '2026-01-15T10:20:00.000Z',
    actor: 'unknown',
    sessionId: null,
    currentSession: false,
    ip: null,
    platform: 'web',
    deviceId: null,
    appVersion: null,
    userAgent: null,
    count: 5,
  };
  const staffEnded = {
    ...guesses,
    id: '65a4f0c2e4b0a1b2c3d4e5b2',
    type: 'sessions-revoked',
    at: '2026-01-15T10:10:00.000Z',
    actor: 'staff',
    platform: null,
    count: 2,
  };
  return operation({
    operationId: 'listSecurityEvents',
    summary: 'My recent security activity',
    description: `The caller’s own security activity, newest first: sign-ins (with the device and the address they came from), wrong codes tried on their number or address, sessions ended (by them, by staff, or because a used refresh token came back), role changes, suspensions, deletion requests and cancellations. Staff actions show that staff acted, never who or from where. Kept \`AUDIT_RETENTION_DAYS\` (180); sign-ins appear once the worker has recorded them (usually within a second). ${PAGING}`,
    tags: ['Users'],
    security: JWT,
    parameters: pageParameters(),
    responses: {
      '200': successResponse('A page of events.', 'SecurityEventPageEnvelope', {
        page: {
          summary: 'A sign-in, earlier wrong codes, sessions ended by staff',
          value: okBody({ items: [login, guesses, staffEnded], nextCursor: null }),
        },
      }),
      '400': validationFailed(
        '`limit` or `cursor` is invalid, or a parameter is unknown (`<name>: unknown query parameter`).',
        {
          badLimit: {
            summary: 'limit out of range',
            value: errorBody(400, ['limit: must be an integer from 1 to 100']),
          },
        },
      ),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': false,
  });
}

/** The paths of the group, each operation a function of this file. */
export function usersPaths(): Record<string, PathItemObject> {
  return {
    '/api/v1/users/me/complete-registration': { post: completeRegistration() },
    '/api/v1/users/me': { patch: updateMe() },
    '/api/v1/users/check-username': { post: checkUsername() },
    '/api/v1/users/username': { patch: changeUsername() },
    '/api/v1/users/me/account-deletion': { post: requestAccountDeletion(), delete: cancelAccountDeletion() },
    '/api/v1/users/me/account-deletion/finalize-now': { post: finalizeAccountDeletionNow() },
    '/api/v1/users/me/security-events': { get: listSecurityEvents() },
  };
}
