/**
 * The OpenAPI 3.1.0 document of the API: every `/api/v1/...` operation plus
 * `/healthz` and `/readyz`, with the envelope (docs/api.md#the-envelope) as reusable
 * schemas, the exact request constraints the validators enforce, and every
 * status each operation can answer.
 *
 * It is built from the same constants the app validates with (enumerations,
 * reserved usernames, client headers), so the two cannot drift apart there;
 * `test/openapi.test.ts` checks the rest: the document is valid OpenAPI 3.1,
 * it documents exactly the app's routes, and every response the test suite
 * receives validates against it (`test/support/openapi-check.ts`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERIC_MESSAGES } from '../lib/errors.js';
import { LANGUAGES, PLATFORMS } from '../lib/client-info.js';
import { AVAILABILITY, DELETION_STATUSES, EXPERTISE, GENDERS, PRIVATE_USER_FIELDS, ROLES } from '../models/user.js';
import { ATTRIBUTION_FILTER, MAX_RANGE_DAYS } from '../schemas/analytics.js';
import { ATTRIBUTION, AUTH_LENGTHS, CODE, VERIFICATION_ID } from '../schemas/auth.js';
import { HANDLE, PROFILE_LENGTHS, RESERVED_USERNAMES, TIMEZONE, USERNAME } from '../schemas/users.js';
import { DIMENSIONS } from '../services/analytics.js';
import { exampleRegistration, exampleUser } from './examples.js';

// ---------------------------------------------------------------------------------------------
// The shapes of the document (the subset of OpenAPI 3.1 this file uses).

export type JsonSchema = { [keyword: string]: unknown };
export type RefObject = { $ref: string };
export interface ExampleObject {
  summary?: string;
  value: unknown;
}
export interface MediaTypeObject {
  schema: JsonSchema;
  example?: unknown;
  examples?: Record<string, ExampleObject>;
}
export interface HeaderObject {
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}
export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | RefObject>;
  content?: Record<string, MediaTypeObject>;
}
export interface ParameterObject {
  name: string;
  in: 'query' | 'header' | 'path' | 'cookie';
  description?: string;
  required?: boolean;
  schema: JsonSchema;
  style?: string;
  explode?: boolean;
  example?: unknown;
}
export interface RequestBodyObject {
  description?: string;
  required?: boolean;
  content: Record<string, MediaTypeObject>;
}
export interface OperationObject {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters: (ParameterObject | RefObject)[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject | RefObject>;
  /** State-changing operation: the playground warns before sending it to Production. */
  'x-mutating': boolean;
}
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type PathItemObject = Partial<Record<HttpMethod, OperationObject>>;

/** Responses the app gives to requests that match no documented operation (no OpenAPI field says this). */
export interface UnmatchedResponses {
  description: string;
  /** A path no route serves. */
  unknownRoute: Record<string, RefObject>;
  /** A documented path with a method it does not serve (the `Allow` header lists the ones it does). */
  wrongMethod: Record<string, RefObject>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license?: { name: string; identifier: string } };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, ParameterObject>;
    headers: Record<string, HeaderObject>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat: string; description: string }>;
  };
  'x-unmatched-requests': UnmatchedResponses;
}

export interface OpenApiOptions {
  servers: { url: string; description: string }[];
  /** Digits of a code (`OTP_LENGTH`, default 4): the request pattern of `code`. */
  otpLength?: number;
}

// ---------------------------------------------------------------------------------------------
// Small builders.

const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): RefObject => ({ $ref: `#/components/${kind}/${name}` });
const schemaRef = (name: string): RefObject => ref('schemas', name);
const nullable = (schema: JsonSchema): JsonSchema => {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
};
const JSON_TYPE = 'application/json';
const TS = '2026-01-15T10:30:00.000Z';
const generic = (status: number): string => GENERIC_MESSAGES[status]!;

/** Every time the API sends is `Date#toISOString()`: ISO-8601 UTC with milliseconds. */
const ISO_MS = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';
const DATE_TIME: JsonSchema = { type: 'string', format: 'date-time', pattern: ISO_MS, examples: [TS] };
const NULLABLE_DATE_TIME: JsonSchema = { type: ['string', 'null'], format: 'date-time', pattern: ISO_MS };
const OBJECT_ID: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{24}$', examples: ['65a4f0c2e4b0a1b2c3d4e5f6'] };
const UTC_DAY: JsonSchema = { type: 'string', format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
/** `UTC`, or `UTC±HH:MM` in quarter hours from UTC-12:00 to UTC+14:00 (`parseTimezone`). */
const TIMEZONE_PATTERN = TIMEZONE.pattern;
const ATTRIBUTION_PATTERN = ATTRIBUTION.pattern;
const USERNAME_PATTERN = USERNAME.pattern;
const HANDLE_OUT_PATTERN = HANDLE.pattern;
/**
 * The reserved usernames, compared case-insensitively as the app does (`Admin` is refused like `admin`).
 * JSON Schema patterns have no flags, so each letter is a class of both cases.
 */
const RESERVED_USERNAME_PATTERN = `^(?:${[...RESERVED_USERNAMES]
  .map((w) => w.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`).replace(/\./g, '\\.'))
  .join('|')})$`;
/**
 * A character an e-mail address may hold (`emailProblem`): not whitespace, `@` or `"`, no control character,
 * no format character of the Basic Multilingual Plane (Unicode Cf). Written out, since `\p{Cf}` is not
 * portable across the regex engines that read this document; the few Cf characters outside the BMP are
 * refused by the server all the same.
 */
const EMAIL_CHAR =
  '[^\\s@"\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb]';
const JWT_PATTERN = '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$';
const EXAMPLE_ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2NWE0ZjBjMmU0YjBhMWIyYzNkNGU1ZjYifQ.c2lnbmF0dXJl';
const EXAMPLE_REFRESH_TOKEN = 'q8V3mJ2cX0tYw7uR5nB1kL9pZ4aE6sD3fG8hJ0kL2mN';

function successEnvelope(dataSchema: JsonSchema | RefObject, statusCode: 200 | 201, description: string): JsonSchema {
  return {
    type: 'object',
    description,
    required: ['isSuccess', 'statusCode', 'data', 'errors', 'timestamp'],
    additionalProperties: false,
    properties: {
      isSuccess: { const: true },
      statusCode: { const: statusCode },
      data: dataSchema,
      errors: { type: 'array', maxItems: 0, items: { type: 'string' } },
      timestamp: DATE_TIME,
    },
  };
}

const okBody = (data: unknown, statusCode = 200) => ({ isSuccess: true, statusCode, data, errors: [], timestamp: TS });
const errorBody = (status: number, messages: string[] = [], extra: { errorCode?: string; details?: Record<string, unknown> } = {}) => ({
  isSuccess: false,
  statusCode: status,
  data: null,
  errors: [generic(status), ...messages],
  timestamp: TS,
  ...extra,
});

const REQUEST_ID_HEADER = { 'X-Request-Id': ref('headers', 'X-Request-Id') };

interface ErrorResponseSpec {
  description: string;
  /** The `errorCode` values this response may carry (it may also carry none). */
  errorCodes?: string[];
  /** The schema of `details`, when this response carries one. */
  details?: JsonSchema;
  headers?: Record<string, HeaderObject | RefObject>;
  examples: Record<string, ExampleObject>;
}

/** An error response: the envelope with this status, its documented `errors[0]`, its error codes and details. */
function errorResponse(status: number, spec: ErrorResponseSpec): ResponseObject {
  const narrowing: JsonSchema = {
    properties: {
      statusCode: { const: status },
      errors: { prefixItems: [{ const: generic(status) }] },
      ...(spec.errorCodes ? { errorCode: { enum: spec.errorCodes } } : {}),
      ...(spec.details ? { details: spec.details } : {}),
    },
  };
  return {
    description: spec.description,
    headers: { ...REQUEST_ID_HEADER, ...spec.headers },
    content: { [JSON_TYPE]: { schema: { allOf: [schemaRef('ErrorEnvelope'), narrowing] }, examples: spec.examples } },
  };
}

function successResponse(description: string, envelope: string, examples: Record<string, ExampleObject>, extraContent: Record<string, MediaTypeObject> = {}, headers: Record<string, HeaderObject | RefObject> = {}): ResponseObject {
  return {
    description,
    headers: { ...REQUEST_ID_HEADER, ...headers },
    content: { [JSON_TYPE]: { schema: schemaRef(envelope), examples }, ...extraContent },
  };
}

const jsonBody = (schemaName: string, examples: Record<string, ExampleObject>, required = true, description?: string): RequestBodyObject => ({
  ...(description ? { description } : {}),
  required,
  content: { [JSON_TYPE]: { schema: schemaRef(schemaName), examples } },
});

// ---------------------------------------------------------------------------------------------
// Schemas.

const strictObject = (properties: Record<string, JsonSchema | RefObject>, required: string[], description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required,
  additionalProperties: false,
  properties,
});

function userSchema(): JsonSchema {
  const str = (extra: JsonSchema = {}) => nullable({ type: 'string', ...extra });
  const date = NULLABLE_DATE_TIME;
  const properties: Record<string, JsonSchema> = {
    id: { ...OBJECT_ID, description: 'The user id (a MongoDB ObjectId, as a string).' },
    name: str({ maxLength: 50 }),
    surname: str({ maxLength: 50 }),
    username: str({ pattern: USERNAME_PATTERN, description: 'Lower-case; unique case-insensitively.' }),
    countryCode: str({ pattern: '^[0-9]{1,3}$', description: 'Calling code without `+` (`"90"`); `null` for a user who signed up by e-mail.' }),
    phoneNumber: str({ pattern: '^[0-9]{4,17}$', description: 'National number (`"5551234567"`); `null` for a user who signed up by e-mail.' }),
    signupSource: str({ pattern: ATTRIBUTION_PATTERN, description: 'First-touch attribution, written once at signup.' }),
    signupCampaign: str({ pattern: ATTRIBUTION_PATTERN, description: 'First-touch attribution, written once at signup.' }),
    profilePhoto: str({ format: 'uri', description: 'An https URL.' }),
    availabilityStatus: { type: ['string', 'null'], enum: [...AVAILABILITY, null] },
    birthDate: { ...date, description: 'Midnight UTC of the birth day.' },
    gender: { type: ['string', 'null'], enum: [...GENDERS, null] },
    interests: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 40 } },
    expertise: { type: 'array', uniqueItems: true, items: { enum: [...EXPERTISE] } },
    email: str({ maxLength: 254, description: 'Lower-case.' }),
    bio: str({ maxLength: 500 }),
    instagram: str({ pattern: HANDLE_OUT_PATTERN, description: 'Handle without `@`.' }),
    x: str({ pattern: HANDLE_OUT_PATTERN, description: 'Handle without `@`.' }),
    tiktok: str({ pattern: HANDLE_OUT_PATTERN, description: 'Handle without `@`.' }),
    snapchat: str({ pattern: HANDLE_OUT_PATTERN, description: 'Handle without `@`.' }),
    facebook: str({ pattern: HANDLE_OUT_PATTERN, description: 'Handle without `@`.' }),
    privacyPolicyAccepted: { type: 'boolean' },
    privacyPolicyVersion: str(),
    termsOfUseAccepted: { type: 'boolean' },
    termsOfUseVersion: str(),
    consentFormAccepted: { type: 'boolean' },
    consentFormVersion: str(),
    isRegistrationComplete: { type: 'boolean' },
    roles: { type: 'array', uniqueItems: true, items: { enum: [...ROLES] } },
    followersCount: { type: 'integer', minimum: 0 },
    followingCount: { type: 'integer', minimum: 0 },
    minutePriceInLiveStream: { type: 'number', minimum: 0 },
    creditBalance: { type: 'number' },
    lastLogin: { ...date, description: 'Set by the worker after a login (so it may lag the login that returned it).' },
    timezone: str({ pattern: TIMEZONE_PATTERN }),
    lastUsernameChangeDate: date,
    accountDeletionStatus: { type: ['string', 'null'], enum: [...DELETION_STATUSES, null] },
    accountDeletionRequestedAt: date,
    accountDeletionScheduledFor: date,
    accountDeletionCancelledAt: date,
    accountDeletionFinalizedAt: date,
  };
  // Exactly the fields of the private user object (docs/api.md#the-user), in the app's order.
  const ordered = Object.fromEntries(PRIVATE_USER_FIELDS.map((k) => [k, properties[k]!]));
  return {
    ...strictObject(ordered, [...PRIVATE_USER_FIELDS], 'The private user object: exactly these fields. Unset strings and dates are `null`, unset arrays `[]`, counters `0`. Dates are ISO-8601 UTC.'),
    examples: [exampleUser()],
  };
}

function completedUser(): Record<string, unknown> {
  return {
    ...exampleUser(),
    name: 'Ayşe', surname: 'Yılmaz', username: 'ayse.music', birthDate: '1995-04-12T00:00:00.000Z', gender: 'female',
    interests: ['music', 'travel'], expertise: ['musician'], instagram: 'ayse.music', bio: 'Singer', timezone: 'UTC+03:00',
    privacyPolicyAccepted: true, privacyPolicyVersion: '1.2.0', termsOfUseAccepted: true, termsOfUseVersion: '1.1.0',
    isRegistrationComplete: true, lastLogin: TS,
  };
}

const tokenPairProperties = {
  accessToken: { type: 'string', pattern: JWT_PATTERN, description: 'A JWT (HS256) for `Authorization: Bearer …`.' },
  refreshToken: { type: 'string', minLength: 1, description: 'Opaque; every refresh returns a new one (rotation).' },
  expiresIn: { type: 'integer', minimum: 1, description: 'Seconds the access token lives (3600 by default).' },
  refreshExpiresIn: { type: 'integer', minimum: 1, description: 'Seconds the refresh token lives (2592000 by default).' },
};

const sentCodeProperties = {
  code: { type: 'string', pattern: '^[0-9]{4,8}$', description: 'Only when code exposure is on (development and test); never in production.' },
  expiresIn: { type: 'integer', minimum: 1, description: 'Seconds the code stays usable (180 by default).' },
  resendAvailableIn: { type: 'integer', minimum: 0, description: 'Seconds until another code may be requested for this recipient (60 by default; 0 when the cooldown is off).' },
  verificationId: {
    type: 'string',
    pattern: VERIFICATION_ID.pattern,
    description: 'Only when the request asked for `bindToDevice`: an opaque id that only this device holds. The code then works only in a verify request that carries it, so strangers guessing at the number can neither reach nor use up this device’s code. Keep it with the code; never log it.',
  },
};

const deletionProperties = {
  status: { type: ['string', 'null'], enum: [...DELETION_STATUSES, null] },
  requestedAt: NULLABLE_DATE_TIME,
  scheduledFor: NULLABLE_DATE_TIME,
  cancelledAt: NULLABLE_DATE_TIME,
  finalizedAt: NULLABLE_DATE_TIME,
};

const countsProperties = {
  signups: { type: 'integer', minimum: 0, description: 'Users who signed up on the days in range (by their first-touch attribution).' },
  registrationsCompleted: { type: 'integer', minimum: 0, description: 'Those of them who have completed registration (whenever).' },
};

function dataSchemas(): Record<string, JsonSchema> {
  const dimension = { type: ['string', 'null'], description: 'A grouped dimension; `(none)` for users without attribution, `null` when unknown (e.g. the country of an e-mail signup).' };
  return {
    PrivateUser: userSchema(),
    SendOtpResult: strictObject(
      {
        countryCode: { type: 'string', pattern: '^\\+[0-9]{1,3}$', description: 'Echoed with a plus, as documented (`"+90"`).' },
        phoneNumber: { type: 'string', pattern: '^[0-9]{4,17}$', description: 'The normalized national number.' },
        ...sentCodeProperties,
      },
      ['countryCode', 'phoneNumber', 'expiresIn', 'resendAvailableIn'],
    ),
    SendOtpEmailResult: strictObject(
      { email: { type: 'string', maxLength: 254, description: 'The address as used: trimmed, lower-cased, Unicode NFC.' }, ...sentCodeProperties },
      ['email', 'expiresIn', 'resendAvailableIn'],
    ),
    LoginResult: strictObject(
      {
        ...tokenPairProperties,
        user: schemaRef('PrivateUser'),
        isRegistrationComplete: { type: 'boolean', description: '`false` until `POST /api/v1/users/me/complete-registration` succeeds.' },
      },
      ['accessToken', 'refreshToken', 'expiresIn', 'refreshExpiresIn', 'user', 'isRegistrationComplete'],
    ),
    TokenPair: strictObject(tokenPairProperties, ['accessToken', 'refreshToken', 'expiresIn', 'refreshExpiresIn']),
    LogoutResult: strictObject({ revokedSessions: { type: 'integer', minimum: 0, description: 'Live sessions ended (all of the caller’s).' } }, ['revokedSessions']),
    RevokeTokenResult: strictObject({ revoked: { const: true } }, ['revoked']),
    Session: strictObject(
      {
        id: OBJECT_ID,
        createdAt: DATE_TIME,
        lastUsedAt: DATE_TIME,
        expiresAt: DATE_TIME,
        ip: { type: ['string', 'null'] },
        userAgent: { type: ['string', 'null'], maxLength: 512 },
        platform: { type: ['string', 'null'], enum: [...PLATFORMS, null] },
        deviceId: { type: ['string', 'null'] },
        appVersion: { type: ['string', 'null'] },
        current: { type: 'boolean', description: '`true` for the session of the access token that made this request.' },
      },
      ['id', 'createdAt', 'lastUsedAt', 'expiresAt', 'ip', 'userAgent', 'platform', 'deviceId', 'appVersion', 'current'],
    ),
    SessionList: { type: 'array', items: schemaRef('Session'), description: 'Live sessions, most recently used first.' },
    UsernameAvailability: strictObject(
      {
        available: { type: 'boolean' },
        reason: { type: 'string', description: 'Why the name cannot be used at all (invalid or reserved); absent when it is merely taken.' },
      },
      ['available'],
    ),
    AccountDeletionStatus: strictObject(deletionProperties, ['status', 'requestedAt', 'scheduledFor', 'cancelledAt', 'finalizedAt']),
    AccountFinalization: strictObject({ ...deletionProperties, userId: OBJECT_ID }, ['status', 'requestedAt', 'scheduledFor', 'cancelledAt', 'finalizedAt', 'userId']),
    SignupsReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        groupBy: { type: 'array', items: { enum: [...DIMENSIONS] } },
        rows: {
          type: 'array',
          description: 'One row per group, sorted by the grouped values. A row has exactly the `groupBy` dimensions.',
          items: strictObject(
            { ...Object.fromEntries(DIMENSIONS.map((d) => [d, dimension])), ...countsProperties },
            ['signups', 'registrationsCompleted'],
          ),
        },
        totals: strictObject(countsProperties, ['signups', 'registrationsCompleted']),
      },
      ['from', 'to', 'groupBy', 'rows', 'totals'],
    ),
    FunnelReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        source: { type: ['string', 'null'] },
        campaign: { type: ['string', 'null'] },
        otpSent: { type: ['integer', 'null'], minimum: 0, description: 'Codes sent. `null` when `source` or `campaign` is given: send-otp carries no attribution.' },
        otpVerified: { type: 'integer', minimum: 0, description: 'Codes verified, attributed by the verify request’s `signupSource`/`signupCampaign`.' },
        ...countsProperties,
        logins: { type: 'integer', minimum: 0, description: 'Logins (sessions opened); 0 when `source` or `campaign` is given.' },
      },
      ['from', 'to', 'source', 'campaign', 'otpSent', 'otpVerified', 'signups', 'registrationsCompleted', 'logins'],
    ),
    Health: strictObject({ status: { const: 'ok' }, uptimeSeconds: { type: 'integer', minimum: 0 } }, ['status', 'uptimeSeconds']),
    Readiness: strictObject(
      { status: { const: 'ready' }, checks: strictObject({ mongodb: { const: 'up' }, redis: { const: 'up' } }, ['mongodb', 'redis']) },
      ['status', 'checks'],
    ),
  };
}

/** The success envelope of each `data` type: `<Type>Envelope`. */
const ENVELOPES: [string, 200 | 201][] = [
  ['SendOtpResult', 201],
  ['SendOtpEmailResult', 201],
  ['LoginResult', 200],
  ['TokenPair', 200],
  ['LogoutResult', 200],
  ['RevokeTokenResult', 200],
  ['SessionList', 200],
  ['PrivateUser', 200],
  ['UsernameAvailability', 200],
  ['AccountDeletionStatus', 200],
  ['AccountFinalization', 200],
  ['SignupsReport', 200],
  ['FunnelReport', 200],
  ['Health', 200],
  ['Readiness', 200],
];

function envelopeSchemas(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {
    ErrorEnvelope: {
      type: 'object',
      description: 'Every error. `errors[0]` is the documented generic message of the status; more specific `field: problem` messages follow. Clients branch on `errorCode`, never on message text.',
      required: ['isSuccess', 'statusCode', 'data', 'errors', 'timestamp'],
      additionalProperties: false,
      properties: {
        isSuccess: { const: false },
        statusCode: { type: 'integer', minimum: 400, maximum: 599, description: 'Repeats the HTTP status.' },
        data: { type: 'null' },
        errors: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        errorCode: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'A stable UPPER_SNAKE code, e.g. `OTP_INVALID`.' },
        details: { type: 'object', description: 'Structured extra information, e.g. `{ "attemptsRemaining": 2 }`.' },
        timestamp: { ...DATE_TIME, description: 'Server time, ISO-8601 UTC with milliseconds.' },
      },
    },
  };
  for (const [name, status] of ENVELOPES) {
    out[`${name}Envelope`] = successEnvelope(schemaRef(name), status, `The success envelope with \`data\`: ${name}.`);
  }
  return out;
}

// Request bodies: the constraints of the express-validator schemas in src/routes/. Strings the
// validators trim are documented without the surrounding whitespace they tolerate.

function requestSchemas(otpLength: number): Record<string, JsonSchema> {
  const attribution = {
    type: ['string', 'null'],
    pattern: ATTRIBUTION_PATTERN,
    description: 'Optional marketing attribution: 1–64 characters of `A-Z a-z 0-9 . _ -`. Recorded only when this login creates the user (first touch); `null` counts as absent.',
  };
  const code = { type: 'string', pattern: CODE.pattern(otpLength), description: `The ${otpLength}-digit code (\`OTP_LENGTH\`).`, examples: ['1234'.padEnd(otpLength, '0')] };
  const bindToDevice = {
    type: 'boolean',
    description: 'Optional. `true`: bind the code to this device. The answer then carries a `verificationId`, and only a verify request that sends it back can use the code: attempts without it (or with another) are refused with `404 OTP_NOT_FOUND` and counted nowhere, so strangers cannot spend the code’s attempts or the number’s verify budget. The holder has the same attempts as on any code. Without it, codes work as they always did.',
  };
  const verificationId = {
    type: 'string',
    pattern: VERIFICATION_ID.pattern,
    description: 'The `verificationId` that send-otp returned for a code bound to this device (`bindToDevice`). Required to use a bound code; a code sent without binding is used without it.',
  };
  const countryCode = { type: 'string', pattern: '^\\+?[0-9]{1,3}$', description: 'The calling code, 1–3 digits; a leading `+` is accepted and dropped.', examples: ['90'] };
  const phoneNumber = {
    type: 'string',
    minLength: AUTH_LENGTHS.phoneNumber.min,
    maxLength: AUTH_LENGTHS.phoneNumber.max,
    pattern: '^[\\s\\-.()]*(?:[0-9][\\s\\-.()]*){4,17}$',
    description: 'The national number. Spaces, dashes, dots and parentheses are dropped and a national trunk prefix is removed (`"0555 123 45 67"` → `"5551234567"` for 90). It must be a valid **mobile** (or fixed-line-or-mobile) number for the country by libphonenumber’s full metadata.',
    examples: ['5551234567'],
  };
  const emailRules = 'Refused with `400 email: …`: a quoted local part (`"x"@example.com`), spaces, and invisible, formatting or control characters (Unicode Cc and Cf: U+200B, U+200C, U+200D, U+2060, U+FEFF, U+00AD, bidi controls, …), which would let one mailbox become two identities or one address pass for another.';
  const email = {
    type: 'string',
    minLength: AUTH_LENGTHS.email.min,
    maxLength: AUTH_LENGTHS.email.max,
    format: 'email',
    description: `One mailbox, one identity: the address is trimmed, lower-cased and put in Unicode NFC before it is used or stored, so \`User@Example.com\` and \`user@example.com\` are one account. ${emailRules}`,
    examples: ['user@example.com'],
  };
  const text = (min: number, max: number, description?: string) => ({
    type: 'string',
    maxLength: max,
    ...(min > 0 ? { minLength: min, pattern: '\\S' } : {}),
    ...(description ? { description } : {}),
  });
  const handle = { type: 'string', pattern: HANDLE.inputPattern, description: 'A handle; a leading `@` is dropped.' };
  const username = {
    type: 'string',
    pattern: USERNAME.inputPattern,
    not: { pattern: RESERVED_USERNAME_PATTERN },
    description: `3–30 characters of \`a-z 0-9 . _\`, not starting or ending with \`.\`; input is lower-cased. Reserved words (compared case-insensitively) are refused: ${[...RESERVED_USERNAMES].map((w) => `\`${w}\``).join(', ')}.`,
    examples: ['ayse.music'],
  };
  const profile = (canClear: boolean): Record<string, JsonSchema> => {
    const f = (schema: JsonSchema): JsonSchema => (canClear ? nullable(schema) : schema);
    return {
      name: f(text(PROFILE_LENGTHS.name.min, PROFILE_LENGTHS.name.max)),
      surname: f(text(PROFILE_LENGTHS.surname.min, PROFILE_LENGTHS.surname.max)),
      birthDate: f({
        type: 'string',
        anyOf: [
          { format: 'date', pattern: '^(?:19|[2-9]\\d)\\d{2}-\\d{2}-\\d{2}$' },
          { format: 'date-time', pattern: '^(?:19|[2-9]\\d)\\d{2}-\\d{2}-\\d{2}T00:00:00(?:\\.000)?Z$' },
        ],
        description: 'A real calendar day, from 1900, at least 18 years before today (UTC): `YYYY-MM-DD`, or that day’s midnight UTC as the API returns it (`1995-04-12T00:00:00.000Z`, also without milliseconds), so a value read from the user object can be sent back. Any other time of day is refused (400), since it would name another day in some time zone.',
        examples: ['1995-04-12', '1995-04-12T00:00:00.000Z'],
      }),
      gender: f({ enum: [...GENDERS] }),
      availabilityStatus: f({ enum: [...AVAILABILITY] }),
      interests: f({ type: 'array', maxItems: PROFILE_LENGTHS.interests.maxItems, items: { type: 'string', minLength: 1, maxLength: PROFILE_LENGTHS.interests.maxLength, pattern: '\\S' }, description: `At most ${PROFILE_LENGTHS.interests.maxItems} strings of 1–${PROFILE_LENGTHS.interests.maxLength} characters (trimmed).` }),
      expertise: f({ type: 'array', uniqueItems: true, maxItems: EXPERTISE.length, items: { enum: [...EXPERTISE] } }),
      email: f({ type: 'string', maxLength: 254, pattern: `^${EMAIL_CHAR}+@${EMAIL_CHAR}+\\.${EMAIL_CHAR}+$`, description: `Stored trimmed, lower-cased and in Unicode NFC. Profile data only: it is not a login identity. ${emailRules}` }),
      bio: f(text(PROFILE_LENGTHS.bio.min, PROFILE_LENGTHS.bio.max)),
      instagram: f(handle),
      x: f(handle),
      tiktok: f(handle),
      snapchat: f(handle),
      facebook: f(handle),
      timezone: f({ type: 'string', pattern: TIMEZONE_PATTERN, description: '`UTC` or `UTC±HH:MM` in quarter hours, from `UTC-12:00` to `UTC+14:00`.', examples: ['UTC+03:00'] }),
      profilePhoto: f({ type: 'string', maxLength: PROFILE_LENGTHS.profilePhoto.max, format: 'uri', pattern: '^https:', description: 'An https URL.' }),
    };
  };
  const clearNote = ' `null` clears a field (arrays become `[]`).';
  return {
    SendOtpRequest: strictObject({ countryCode, phoneNumber, bindToDevice }, ['countryCode', 'phoneNumber']),
    VerifyOtpRequest: strictObject({ countryCode, phoneNumber, code, signupSource: attribution, signupCampaign: attribution, verificationId }, ['countryCode', 'phoneNumber', 'code']),
    SendOtpEmailRequest: strictObject({ email, bindToDevice }, ['email']),
    VerifyOtpEmailRequest: strictObject({ email, code, signupSource: attribution, signupCampaign: attribution, verificationId }, ['email', 'code']),
    RefreshTokenRequest: strictObject({ refreshToken: { type: 'string', minLength: AUTH_LENGTHS.refreshToken.min, maxLength: AUTH_LENGTHS.refreshToken.max, pattern: '\\S', description: 'Surrounding whitespace is ignored.' } }, ['refreshToken']),
    EmptyRequest: { type: 'object', additionalProperties: false, description: 'No fields: any field is refused (`<field>: unknown field`). The body may be omitted.' },
    CompleteRegistrationRequest: strictObject(
      {
        ...profile(false),
        username,
        privacyPolicyAccepted: { const: true },
        privacyPolicyVersion: { ...text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max), description: 'Must equal the current version (`PRIVACY_POLICY_VERSION`, default `1.2.0`); a stale one is `400 POLICY_VERSION_STALE`.', examples: ['1.2.0'] },
        termsOfUseAccepted: { const: true },
        termsOfUseVersion: { ...text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max), description: 'Must equal the current version (`TERMS_OF_USE_VERSION`, default `1.1.0`).', examples: ['1.1.0'] },
        consentFormAccepted: { type: 'boolean' },
        consentFormVersion: { ...text(PROFILE_LENGTHS.version.min, PROFILE_LENGTHS.version.max), description: 'When `consentFormAccepted` is true it must equal the current version (`CONSENT_FORM_VERSION`, default `1.0.0`).', examples: ['1.0.0'] },
      },
      ['name', 'surname', 'username', 'birthDate', 'gender', 'privacyPolicyAccepted', 'privacyPolicyVersion', 'termsOfUseAccepted', 'termsOfUseVersion'],
      'Any other field (phone, roles, counters, attribution, flags) is refused with `400 <field>: unknown field`.',
    ),
    UpdateProfileRequest: strictObject(profile(true), [], `Only the profile fields; phone, roles, counters, attribution, username and flags are refused (\`400 <field>: unknown field\`).${clearNote}`),
    CheckUsernameRequest: strictObject({ username: { type: 'string', description: 'Any string; the answer says whether it can be used (compared lower-cased). Your own name is available to you.' } }, ['username']),
    ChangeUsernameRequest: strictObject({ newUsername: username }, ['newUsername']),
  };
}

// ---------------------------------------------------------------------------------------------
// Reusable parameters, headers and responses.

function parameters(): Record<string, ParameterObject> {
  const ignored = 'An invalid value is ignored (treated as absent), never an error.';
  return {
    'X-Language': {
      name: 'X-Language',
      in: 'header',
      description: `Language of the SMS / e-mail text. Default \`en\`. ${ignored}`,
      schema: { type: 'string', enum: [...LANGUAGES], default: 'en' },
    },
    'X-Timezone': {
      name: 'X-Timezone',
      in: 'header',
      description: `The client's UTC offset (\`UTC\`, or \`UTC±HH:MM\` in quarter hours from \`UTC-12:00\` to \`UTC+14:00\`). Default \`UTC\`; a valid value becomes a new user's \`timezone\`. ${ignored}`,
      schema: { type: 'string', pattern: TIMEZONE_PATTERN, default: 'UTC' },
      example: 'UTC+03:00',
    },
    'X-Platform': {
      name: 'X-Platform',
      in: 'header',
      description: `The client platform, recorded on sessions, login events and a new user's signup. Default \`web\`. ${ignored}`,
      schema: { type: 'string', enum: [...PLATFORMS], default: 'web' },
    },
    'X-App-Version': {
      name: 'X-App-Version',
      in: 'header',
      description: `The client app version (1–32 of \`0-9 A-Z a-z . + _ -\`), recorded on sessions and login events. ${ignored}`,
      schema: { type: 'string', pattern: '^[0-9A-Za-z.+_-]{1,32}$' },
      example: '2.4.1',
    },
    'X-Device-ID': {
      name: 'X-Device-ID',
      in: 'header',
      description: `A stable device identifier (1–128 of \`A-Z a-z 0-9 . _ : -\`), recorded on sessions and login events. ${ignored}`,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
      example: 'device-A1',
    },
    'X-Request-Id': {
      name: 'X-Request-Id',
      in: 'header',
      description: 'A request id to trace this call by; kept when it is 8–128 of `A-Z a-z 0-9 . _ : -`, else the server generates one. Always echoed on the response.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
    },
  };
}

const CLIENT_HEADER_PARAMS = ['X-Language', 'X-Timezone', 'X-Platform', 'X-App-Version', 'X-Device-ID', 'X-Request-Id'].map((n) => ref('parameters', n));

function headers(): Record<string, HeaderObject> {
  return {
    'X-Request-Id': {
      description: 'The request id: the client’s `X-Request-Id` when it is sane, else a generated UUID. On every response.',
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
    },
    'Retry-After': {
      description: 'Seconds to wait before retrying; equals `details.retryAfterSeconds`.',
      required: true,
      schema: { type: 'integer', minimum: 1 },
    },
    'WWW-Authenticate': {
      description: 'The bearer challenge, sent when the access token is missing, malformed, expired or revoked.',
      schema: { type: 'string', pattern: '^Bearer' },
    },
    'Cache-Control': {
      description: 'Every response of the API (`/api/v1/…`), errors included: tokens, codes and a signed-in user’s data must not be kept by a browser, proxy or CDN.',
      required: true,
      schema: { type: 'string', const: 'no-store' },
    },
    Allow: {
      description: 'The methods the path serves.',
      required: true,
      schema: { type: 'string', pattern: '^[A-Z]+(?:, [A-Z]+)*$' },
    },
  };
}

const RATE_LIMITS = ['send-cooldown', 'send-recipient-hour', 'send-recipient-day', 'send-ip-hour', 'send-country-hour', 'verify-recipient-hour', 'verify-ip-hour'];

function globalResponses(): Record<string, ResponseObject> {
  return {
    MalformedBody: errorResponse(400, {
      description: 'The request body could not be read: not valid JSON, or aborted. (Any request may get this, before routing.)',
      examples: { invalidJson: { summary: 'A body that is not valid JSON', value: errorBody(400, ['body: not valid JSON']) } },
    }),
    Unauthorized: errorResponse(401, {
      description: 'The access token is missing, malformed, wrongly signed, expired, for another issuer or audience, or its session has ended (logout, revoke-token, refresh-token theft, account deletion).',
      errorCodes: ['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'SESSION_REVOKED'],
      // Only `/api/v1` operations answer it, and every response there is no-store.
      headers: { 'WWW-Authenticate': ref('headers', 'WWW-Authenticate'), 'Cache-Control': ref('headers', 'Cache-Control') },
      examples: {
        missing: { summary: 'No Authorization header', value: errorBody(401, ['Authorization: a Bearer access token is required'], { errorCode: 'TOKEN_MISSING' }) },
        expired: { summary: 'An expired access token', value: errorBody(401, ['accessToken: expired'], { errorCode: 'TOKEN_EXPIRED' }) },
        revoked: { summary: 'The session has ended', value: errorBody(401, ['accessToken: the session has ended'], { errorCode: 'SESSION_REVOKED' }) },
      },
    }),
    NotFound: errorResponse(404, {
      description: 'No route matches this path.',
      examples: { unknownRoute: { summary: 'An unknown route', value: errorBody(404, ['No route matches this path']) } },
    }),
    MethodNotAllowed: errorResponse(405, {
      description: 'The path exists but does not serve this method; `Allow` lists the methods it does.',
      headers: { Allow: ref('headers', 'Allow') },
      examples: { wrongMethod: { summary: 'DELETE /healthz', value: errorBody(405, ['Allowed methods: GET, HEAD']) } },
    }),
    PayloadTooLarge: errorResponse(413, {
      description: 'The request body is larger than the limit (`BODY_LIMIT_BYTES`, 16 KiB by default). (Any request may get this, before routing.)',
      examples: { tooLarge: { summary: 'A 20 KiB body', value: errorBody(413, ['body: larger than the allowed size']) } },
    }),
    UnsupportedMediaType: errorResponse(415, {
      description: 'The JSON body uses a charset other than UTF-8 or an unsupported `Content-Encoding`. (Any request may get this, before routing.)',
      examples: { charset: { summary: 'charset=latin1', value: errorBody(415, ['body: unsupported charset']) } },
    }),
    InternalError: errorResponse(500, {
      description: 'An unexpected error. The body carries a generic message only (never a stack trace or an internal error text); the error is logged with the request id.',
      examples: { unexpected: { summary: 'Unexpected', value: errorBody(500) } },
    }),
    DependencyUnavailable: errorResponse(503, {
      description: 'MongoDB is not reachable right now, or it answered a write with an error that means "try again" (a lock or write conflict that outlasted its own retries, a primary stepping down). (A Redis outage does not fail requests: limits fall back to in-memory budgets and side effects wait in the outbox.)',
      errorCodes: ['DEPENDENCY_UNAVAILABLE'],
      examples: { database: { summary: 'MongoDB unreachable', value: errorBody(503, ['database: temporarily unavailable'], { errorCode: 'DEPENDENCY_UNAVAILABLE' }) } },
    }),
  };
}

const RATE_LIMIT_DETAILS: JsonSchema = {
  type: 'object',
  required: ['retryAfterSeconds', 'limits'],
  additionalProperties: false,
  properties: {
    retryAfterSeconds: { type: 'integer', minimum: 1 },
    limits: { type: 'array', minItems: 1, items: { enum: RATE_LIMITS }, description: 'The spent limits.' },
  },
};

function rateLimited(description: string, limit: string, seconds: number): ResponseObject {
  return errorResponse(429, {
    description,
    errorCodes: ['RATE_LIMITED'],
    details: RATE_LIMIT_DETAILS,
    headers: { 'Retry-After': ref('headers', 'Retry-After') },
    examples: {
      [limit]: { summary: `The ${limit} limit`, value: errorBody(429, [], { errorCode: 'RATE_LIMITED', details: { retryAfterSeconds: seconds, limits: [limit] } }) },
    },
  });
}

function validationFailed(description: string, examples: Record<string, ExampleObject>, more: Omit<ErrorResponseSpec, 'description' | 'examples'> = {}): ResponseObject {
  return errorResponse(400, {
    description: `${description} Each problem is one \`field: message\` entry after \`Validation failed\`; an unknown field is \`<field>: unknown field\`; a body that is not valid JSON is \`body: not valid JSON\`.`,
    ...more,
    examples: { ...examples, unknownField: { summary: 'An unknown field', value: errorBody(400, ['isAdmin: unknown field']) } },
  });
}

/** Statuses every operation can answer, whatever it does. */
function common(opts: { db: boolean; bodyValidated: boolean }): Record<string, ResponseObject | RefObject> {
  return {
    ...(opts.bodyValidated ? {} : { '400': ref('responses', 'MalformedBody') }),
    '413': ref('responses', 'PayloadTooLarge'),
    '415': ref('responses', 'UnsupportedMediaType'),
    '500': ref('responses', 'InternalError'),
    ...(opts.db ? { '503': ref('responses', 'DependencyUnavailable') } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Operations.

const JWT = [{ 'JWT-auth': [] as string[] }];
const PUBLIC: Record<string, string[]>[] = [];

function operation(op: Omit<OperationObject, 'parameters' | 'security'> & { parameters?: (ParameterObject | RefObject)[]; security?: Record<string, string[]>[] }): OperationObject {
  const sorted = Object.fromEntries(Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)));
  return {
    operationId: op.operationId,
    summary: op.summary,
    description: op.description,
    tags: op.tags,
    security: op.security ?? PUBLIC,
    parameters: [...(op.parameters ?? []), ...CLIENT_HEADER_PARAMS],
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses: sorted,
    'x-mutating': op['x-mutating'],
  };
}

function authPaths(otpLength: number): Record<string, PathItemObject> {
  const code = '1234'.padEnd(otpLength, '0');
  const loginExample = { accessToken: EXAMPLE_ACCESS_TOKEN, refreshToken: EXAMPLE_REFRESH_TOKEN, expiresIn: 3600, refreshExpiresIn: 2592000, user: exampleUser(), isRegistrationComplete: false };
  const otpInvalid = { summary: 'A wrong code', value: errorBody(400, ['code: incorrect'], { errorCode: 'OTP_INVALID', details: { attemptsRemaining: 2 } }) };
  const otpNotFound = errorResponse(404, {
    description: 'No usable code for this recipient: never sent, expired, already used, or its attempts exhausted (`OTP_MAX_ATTEMPTS`, 5 by default). Request a new code.',
    errorCodes: ['OTP_NOT_FOUND'],
    examples: { otpNotFound: { summary: 'No usable code', value: errorBody(404, ['code: no usable code for this number; request a new one'], { errorCode: 'OTP_NOT_FOUND' }) } },
  });
  const accountUnavailable = errorResponse(409, {
    description: 'The account cannot log in in its current state (suspended, or a finalized deletion still being processed). No session is opened.',
    errorCodes: ['ACCOUNT_UNAVAILABLE'],
    examples: { accountUnavailable: { summary: 'A suspended account', value: errorBody(409, ['account: cannot log in in its current state'], { errorCode: 'ACCOUNT_UNAVAILABLE' }) } },
  });
  const verifyLimited = rateLimited('Too many verify attempts for this recipient (`OTP_VERIFY_PER_NUMBER_HOUR`, 10 per hour) or from this IP (`OTP_VERIFY_PER_IP_HOUR`, 60 per hour).', 'verify-recipient-hour', 3542);
  const sendLimited = (what: string) =>
    rateLimited(
      `A send limit is spent: the resend cooldown per ${what} (\`OTP_RESEND_COOLDOWN_SECONDS\`, 60 s), codes per ${what} (5 per hour, 10 per day), per IP (20 per hour)${what === 'number' ? ', or per country calling code (2000 per hour)' : ''}.`,
      'send-cooldown',
      42,
    );
  /** 502 of the send routes: the SMS provider or the mail transport failed. */
  const deliveryFailed = (transport: string, errorCode: string, field: string, summary: string) =>
    errorResponse(502, {
      description: `The ${transport} refused the message or timed out. The code is discarded (not usable) and the resend cooldown is given back.`,
      errorCodes: [errorCode],
      examples: { failed: { summary, value: errorBody(502, [`${field}: the code could not be delivered; try again`], { errorCode }) } },
    });
  const attributionDetails = 'New users are created with `isRegistrationComplete: false`, `roles: ["user"]` and the attribution of this request (first touch: a later login never changes it). A session is opened (device, platform, IP, user agent) and tokens are returned; the last-login and signup-attribution side effects run in the worker. A user with a pending account deletion can still log in (`accountDeletionStatus: "pending"`).';
  const loginSuccess = successResponse('Logged in: tokens, the private user object, and whether registration is complete.', 'LoginResultEnvelope', { newUser: { summary: 'A new user (the docs’ example)', value: okBody(loginExample) } });

  return {
    '/api/v1/auth/send-otp': {
      post: operation({
        operationId: 'sendOtp',
        summary: 'Doğrulama kodu gönder (send a verification code by SMS)',
        description: 'Sends a one-time code by SMS to the normalized number; a new code replaces the previous one. `code` is in the response only when code exposure is on (development and test). Configured test numbers get their fixed code without SMS and without send limits.',
        tags: ['Authentication'],
        requestBody: jsonBody('SendOtpRequest', {
          docs: { summary: 'The docs’ example', value: { countryCode: '90', phoneNumber: '5551234567' } },
          spaced: { summary: 'With a plus, a trunk prefix and spaces (the same number)', value: { countryCode: '+90', phoneNumber: '0555 123 45 67' } },
        }),
        responses: {
          '201': successResponse('The code was sent.', 'SendOtpResultEnvelope', {
            docs: { summary: 'The docs’ example (code exposure on)', value: okBody({ countryCode: '+90', phoneNumber: '5551234567', code, expiresIn: 180, resendAvailableIn: 60 }, 201) },
            production: { summary: 'Production: no code', value: okBody({ countryCode: '+90', phoneNumber: '5551234567', expiresIn: 180, resendAvailableIn: 60 }, 201) },
          }),
          '400': validationFailed('The body is malformed or the number is not a valid mobile number.', {
            invalidNumber: { summary: 'Not a mobile number', value: errorBody(400, ['phoneNumber: not a valid mobile number for country code 90']) },
            missing: { summary: 'A missing field', value: errorBody(400, ['phoneNumber: is required']) },
          }),
          '429': sendLimited('number'),
          '502': deliveryFailed('SMS provider', 'SMS_DELIVERY_FAILED', 'sms', 'Provider timeout'),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/verify-otp': {
      post: operation({
        operationId: 'verifyOtp',
        summary: 'Doğrulama kodu ile giriş yap (log in with a verification code)',
        description: `Checks the code against the latest unexpired, unused code of the number; a code works once, and after \`OTP_MAX_ATTEMPTS\` (5) wrong codes it is dead. ${attributionDetails}`,
        tags: ['Authentication'],
        requestBody: jsonBody('VerifyOtpRequest', {
          docs: { summary: 'The docs’ example', value: { countryCode: '90', phoneNumber: '5551234567', code, signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' } },
          minimal: { summary: 'Without attribution', value: { countryCode: '90', phoneNumber: '5551234567', code } },
        }),
        responses: {
          '200': loginSuccess,
          '400': validationFailed(
            'The body is malformed, or the code is wrong (`OTP_INVALID`, with `details.attemptsRemaining`).',
            {
              invalidNumber: { summary: 'Not a mobile number', value: errorBody(400, ['phoneNumber: not a valid mobile number for country code 90']) },
              badAttribution: { summary: 'Attribution with a space', value: errorBody(400, ['signupSource: must be 1-64 characters of A-Z a-z 0-9 . _ -']) },
              otpInvalid,
            },
            { errorCodes: ['OTP_INVALID'], details: { type: 'object', additionalProperties: false, required: ['attemptsRemaining'], properties: { attemptsRemaining: { type: 'integer', minimum: 0 } } } },
          ),
          '404': otpNotFound,
          '409': accountUnavailable,
          '429': verifyLimited,
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/send-otp-email': {
      post: operation({
        operationId: 'sendOtpEmail',
        summary: 'Send a verification code by e-mail',
        description: 'The e-mail variant of send-otp: the address is trimmed, lower-cased and put in Unicode NFC (a quoted local part or an invisible character is refused), the code goes out by mail. Same limits (keyed by the address; no per-country budget).',
        tags: ['Authentication'],
        requestBody: jsonBody('SendOtpEmailRequest', { docs: { summary: 'An address', value: { email: 'user@example.com' } } }),
        responses: {
          '201': successResponse('The code was sent.', 'SendOtpEmailResultEnvelope', {
            docs: { summary: 'Code exposure on', value: okBody({ email: 'user@example.com', code, expiresIn: 180, resendAvailableIn: 60 }, 201) },
          }),
          '400': validationFailed('The body is malformed or the address is not valid.', {
            invalidEmail: { summary: 'Not an address', value: errorBody(400, ['email: not a valid e-mail address']) },
            quoted: { summary: 'A quoted local part', value: errorBody(400, ['email: must not have a quoted local part']) },
            invisible: { summary: 'A zero-width space in the address', value: errorBody(400, ['email: must not contain spaces, invisible, formatting or control characters']) },
          }),
          '429': sendLimited('address'),
          '502': deliveryFailed('mail transport', 'MAIL_DELIVERY_FAILED', 'email', 'SMTP rejection'),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/verify-otp-email': {
      post: operation({
        operationId: 'verifyOtpEmail',
        summary: 'Log in with an e-mail verification code',
        description: `The e-mail variant of verify-otp. A user whose verified e-mail identity is the address logs in; otherwise a new user is created with that \`email\`. Same guarantees and errors. ${attributionDetails}`,
        tags: ['Authentication'],
        requestBody: jsonBody('VerifyOtpEmailRequest', {
          docs: { summary: 'With attribution', value: { email: 'user@example.com', code, signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' } },
        }),
        responses: {
          '200': successResponse('Logged in.', 'LoginResultEnvelope', {
            newUser: { summary: 'A new e-mail user', value: okBody({ ...loginExample, user: { ...exampleUser(), countryCode: null, phoneNumber: null, email: 'user@example.com' } }) },
          }),
          '400': validationFailed(
            'The body is malformed, or the code is wrong (`OTP_INVALID`, with `details.attemptsRemaining`).',
            { invalidEmail: { summary: 'Not an address', value: errorBody(400, ['email: not a valid e-mail address']) }, otpInvalid },
            { errorCodes: ['OTP_INVALID'], details: { type: 'object', additionalProperties: false, required: ['attemptsRemaining'], properties: { attemptsRemaining: { type: 'integer', minimum: 0 } } } },
          ),
          '404': otpNotFound,
          '409': accountUnavailable,
          '429': verifyLimited,
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/refresh': {
      post: operation({
        operationId: 'refreshToken',
        summary: 'Access token yenile (refresh the access token)',
        description: 'Every refresh rotates: a new refresh token is returned and the presented one is used up. Concurrent refreshes with the same token within the grace window (`REFRESH_REUSE_GRACE_SECONDS`, 10 s) all succeed, each with a working pair. Reuse after the window is taken as theft: the whole session is revoked and the call is `401 REFRESH_TOKEN_REUSED`.',
        tags: ['Authentication'],
        requestBody: jsonBody('RefreshTokenRequest', { token: { summary: 'A refresh token', value: { refreshToken: EXAMPLE_REFRESH_TOKEN } } }),
        responses: {
          '200': successResponse('A new token pair.', 'TokenPairEnvelope', {
            pair: { summary: 'A new pair', value: okBody({ accessToken: EXAMPLE_ACCESS_TOKEN, refreshToken: EXAMPLE_REFRESH_TOKEN, expiresIn: 3600, refreshExpiresIn: 2592000 }) },
          }),
          '400': validationFailed('The body is malformed.', { notString: { summary: 'Not a string', value: errorBody(400, ['refreshToken: must be a string']) } }),
          '401': errorResponse(401, {
            description: 'The refresh token is unknown, expired or revoked (`REFRESH_TOKEN_INVALID`), or was reused after the grace window (`REFRESH_TOKEN_REUSED`: the session is now revoked).',
            errorCodes: ['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED'],
            examples: {
              invalid: { summary: 'Unknown or expired', value: errorBody(401, ['refreshToken: invalid, expired or revoked'], { errorCode: 'REFRESH_TOKEN_INVALID' }) },
              reused: { summary: 'Reused after the grace window', value: errorBody(401, ['refreshToken: already used; the session has been ended'], { errorCode: 'REFRESH_TOKEN_REUSED' }) },
            },
          }),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/logout': {
      post: operation({
        operationId: 'logout',
        summary: 'Çıkış yap (log out everywhere)',
        description: 'Ends **all** the caller’s live sessions. Their refresh tokens stop at once; their access tokens within `SESSION_CACHE_TTL_MS` (≤ 5 s) on every server.',
        tags: ['Authentication'],
        security: JWT,
        requestBody: jsonBody('EmptyRequest', { empty: { summary: 'No body fields', value: {} } }, false),
        responses: {
          '200': successResponse('The sessions ended.', 'LogoutResultEnvelope', { three: { summary: 'Three sessions', value: okBody({ revokedSessions: 3 }) } }),
          '400': validationFailed('The body has fields (it takes none).', {}),
          '401': ref('responses', 'Unauthorized'),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/revoke-token': {
      post: operation({
        operationId: 'revokeToken',
        summary: 'Refresh token iptal et (end the session of a refresh token)',
        description: 'Ends the one session the refresh token belongs to, when it is the caller’s (e.g. signing out another device listed by `GET /api/v1/auth/sessions`).',
        tags: ['Authentication'],
        security: JWT,
        requestBody: jsonBody('RefreshTokenRequest', { token: { summary: 'A refresh token of the caller', value: { refreshToken: EXAMPLE_REFRESH_TOKEN } } }),
        responses: {
          '200': successResponse('The session ended.', 'RevokeTokenResultEnvelope', { revoked: { summary: 'Revoked', value: okBody({ revoked: true }) } }),
          '400': validationFailed('The body is malformed.', { missing: { summary: 'No token', value: errorBody(400, ['refreshToken: is required']) } }),
          '401': ref('responses', 'Unauthorized'),
          '404': errorResponse(404, {
            description: 'The refresh token is unknown or not the caller’s; nothing is revoked.',
            errorCodes: ['REFRESH_TOKEN_NOT_FOUND'],
            examples: { notYours: { summary: 'Not the caller’s token', value: errorBody(404, ['refreshToken: no such token of yours'], { errorCode: 'REFRESH_TOKEN_NOT_FOUND' }) } },
          }),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/auth/sessions': {
      get: operation({
        operationId: 'listSessions',
        summary: 'Aktif oturumları listele (list active sessions)',
        description: 'The caller’s live sessions, most recently used first, with `current: true` on the one making this request.',
        tags: ['Authentication'],
        security: JWT,
        responses: {
          '200': successResponse('The live sessions.', 'SessionListEnvelope', {
            two: {
              summary: 'Two devices',
              value: okBody([
                { id: '65a4f0c2e4b0a1b2c3d4e5f7', createdAt: TS, lastUsedAt: TS, expiresAt: '2026-02-14T10:30:00.000Z', ip: '203.0.113.7', userAgent: 'Allmine/2.4.1 iOS', platform: 'mobile_ios', deviceId: 'device-A1', appVersion: '2.4.1', current: true },
                { id: '65a4f0c2e4b0a1b2c3d4e5f8', createdAt: TS, lastUsedAt: TS, expiresAt: '2026-02-14T10:30:00.000Z', ip: '198.51.100.4', userAgent: 'Mozilla/5.0', platform: 'web', deviceId: null, appVersion: null, current: false },
              ]),
            },
          }),
          '401': ref('responses', 'Unauthorized'),
          ...common({ db: true, bodyValidated: false }),
        },
        'x-mutating': false,
      }),
    },
    '/api/v1/auth/me': {
      get: operation({
        operationId: 'getMe',
        summary: 'Mevcut kullanıcı bilgilerini getir (the current user)',
        description: 'The private user object of the caller.',
        tags: ['Authentication'],
        security: JWT,
        responses: {
          '200': successResponse('The private user object.', 'PrivateUserEnvelope', { user: { summary: 'A new user', value: okBody(exampleUser()) } }),
          '401': ref('responses', 'Unauthorized'),
          ...common({ db: true, bodyValidated: false }),
        },
        'x-mutating': false,
      }),
    },
  };
}

function usersPaths(): Record<string, PathItemObject> {
  const unauthorized = ref('responses', 'Unauthorized');
  const registration = exampleRegistration();
  const deletion = { status: 'pending', requestedAt: TS, scheduledFor: '2026-02-14T10:30:00.000Z', cancelledAt: null, finalizedAt: null };
  const alreadyDeleted = { summary: 'The account is already deleted', value: errorBody(409, ['account: already deleted'], { errorCode: 'ACCOUNT_DELETED' }) };
  const userOk = (description: string, value: Record<string, unknown>) => successResponse(description, 'PrivateUserEnvelope', { user: { summary: 'The updated user', value: okBody(value) } });
  const usernameTaken = { summary: 'Taken', value: errorBody(409, ['username: is already taken'], { errorCode: 'USERNAME_TAKEN' }) };
  return {
    '/api/v1/users/me/complete-registration': {
      post: operation({
        operationId: 'completeRegistration',
        summary: 'Complete registration',
        description: 'Completes a new user’s registration: profile, username, and acceptance of the current privacy policy and terms of use (optionally the consent form). The username is claimed atomically: of concurrent claims of one name exactly one wins.',
        tags: ['Users'],
        security: JWT,
        requestBody: jsonBody('CompleteRegistrationRequest', {
          minimal: { summary: 'The required fields', value: registration },
          full: {
            summary: 'With consent and profile fields',
            value: { ...registration, consentFormAccepted: true, consentFormVersion: '1.0.0', interests: ['music', 'travel'], expertise: ['musician'], instagram: '@ayse.music', bio: 'Singer', timezone: 'UTC+03:00' },
          },
        }),
        responses: {
          '200': userOk('Registration is complete.', completedUser()),
          '400': validationFailed(
            'The body is malformed, or a policy version is not the current one (`POLICY_VERSION_STALE`).',
            {
              underage: { summary: 'Under 18', value: errorBody(400, ['birthDate: must be at least 18 years ago']) },
              reserved: { summary: 'A reserved username', value: errorBody(400, ['username: is reserved']) },
              stale: { summary: 'A stale policy version', value: errorBody(400, ['privacyPolicyVersion: the current version is 1.2.0'], { errorCode: 'POLICY_VERSION_STALE' }) },
            },
            { errorCodes: ['POLICY_VERSION_STALE'] },
          ),
          '401': unauthorized,
          '409': errorResponse(409, {
            description: 'Registration is already complete, or the username is taken.',
            errorCodes: ['REGISTRATION_ALREADY_COMPLETE', 'USERNAME_TAKEN'],
            examples: {
              complete: { summary: 'Already complete', value: errorBody(409, ['registration: already complete'], { errorCode: 'REGISTRATION_ALREADY_COMPLETE' }) },
              taken: usernameTaken,
            },
          }),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/users/me': {
      patch: operation({
        operationId: 'updateMe',
        summary: 'Update profile fields',
        description: 'Updates the given profile fields; `null` clears one. Phone, roles, counters, attribution, username and flags cannot be changed here.',
        tags: ['Users'],
        security: JWT,
        requestBody: jsonBody('UpdateProfileRequest', {
          update: { summary: 'Set some fields', value: { bio: 'Hello', availabilityStatus: 'busy', tiktok: '@me', interests: ['music'] } },
          clear: { summary: 'Clear fields', value: { bio: null, interests: null } },
        }, false),
        responses: {
          '200': userOk('The updated user.', { ...completedUser(), bio: 'Hello', availabilityStatus: 'busy', tiktok: 'me', interests: ['music'] }),
          '400': validationFailed('The body is malformed or has a field that is not a profile field.', {
            notProfile: { summary: 'Not a profile field', value: errorBody(400, ['roles: unknown field']) },
          }),
          '401': unauthorized,
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/users/check-username': {
      post: operation({
        operationId: 'checkUsername',
        summary: 'Check whether a username is available',
        description: 'Answers whether the name can be taken by the caller (compared lower-cased; the caller’s own name is available to them). Changes nothing.',
        tags: ['Users'],
        security: JWT,
        requestBody: jsonBody('CheckUsernameRequest', { name: { summary: 'A name', value: { username: 'ayse.music' } } }),
        responses: {
          '200': successResponse('Whether the name is available.', 'UsernameAvailabilityEnvelope', {
            available: { summary: 'Available', value: okBody({ available: true }) },
            reserved: { summary: 'Reserved', value: okBody({ available: false, reason: 'is reserved' }) },
          }),
          '400': validationFailed('The body is malformed.', { missing: { summary: 'No username', value: errorBody(400, ['username: is required']) } }),
          '401': unauthorized,
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': false,
      }),
    },
    '/api/v1/users/username': {
      patch: operation({
        operationId: 'changeUsername',
        summary: 'Change the username',
        description: 'Changes the username, at most once every `USERNAME_CHANGE_INTERVAL_DAYS` (30); the name chosen at registration does not count as a change. Sets `lastUsernameChangeDate`; the old name is released.',
        tags: ['Users'],
        security: JWT,
        requestBody: jsonBody('ChangeUsernameRequest', { name: { summary: 'A new name', value: { newUsername: 'ayse.sings' } } }),
        responses: {
          '200': userOk('The updated user.', { ...completedUser(), username: 'ayse.sings', lastUsernameChangeDate: TS }),
          '400': validationFailed('The body is malformed or the name is invalid or reserved.', {
            invalid: { summary: 'Too short', value: errorBody(400, ['newUsername: must be 3-30 characters of a-z 0-9 . _, not starting or ending with .']) },
          }),
          '401': unauthorized,
          '409': errorResponse(409, {
            description: 'Registration is not complete yet, the last change was less than 30 days ago (`details.nextChangeAt`), or the name is taken.',
            errorCodes: ['REGISTRATION_INCOMPLETE', 'USERNAME_CHANGE_TOO_SOON', 'USERNAME_TAKEN'],
            details: { type: 'object', additionalProperties: false, required: ['nextChangeAt'], properties: { nextChangeAt: DATE_TIME } },
            examples: {
              tooSoon: { summary: 'Too soon', value: errorBody(409, ['username: can be changed again after 2026-02-14T10:30:00.000Z'], { errorCode: 'USERNAME_CHANGE_TOO_SOON', details: { nextChangeAt: '2026-02-14T10:30:00.000Z' } }) },
              taken: usernameTaken,
            },
          }),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/users/me/account-deletion': {
      post: operation({
        operationId: 'requestAccountDeletion',
        summary: 'Request account deletion',
        description: 'Makes a `pending` deletion request, scheduled `ACCOUNT_DELETION_GRACE_DAYS` (30) from now; asking again returns the pending request unchanged. Login still works while pending (so it can be cancelled). When `scheduledFor` passes, the worker finalizes it: personal data erased, sessions revoked, phone number, e-mail and username released.',
        tags: ['Users'],
        security: JWT,
        requestBody: jsonBody('EmptyRequest', { empty: { summary: 'No body fields', value: {} } }, false),
        responses: {
          '200': successResponse('The pending request.', 'AccountDeletionStatusEnvelope', { pending: { summary: 'Pending', value: okBody(deletion) } }),
          '400': validationFailed('The body has fields (it takes none).', {}),
          '401': unauthorized,
          '409': errorResponse(409, { description: 'The account is already deleted.', errorCodes: ['ACCOUNT_DELETED'], examples: { deleted: alreadyDeleted } }),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
      delete: operation({
        operationId: 'cancelAccountDeletion',
        summary: 'Cancel a pending account deletion',
        description: 'Cancels the pending deletion request (`cancelled`, `cancelledAt`).',
        tags: ['Users'],
        security: JWT,
        responses: {
          '200': successResponse('The cancelled request.', 'AccountDeletionStatusEnvelope', { cancelled: { summary: 'Cancelled', value: okBody({ ...deletion, status: 'cancelled', cancelledAt: TS }) } }),
          '401': unauthorized,
          '409': errorResponse(409, {
            description: 'No deletion request is pending (or the account is already deleted).',
            errorCodes: ['NO_PENDING_DELETION', 'ACCOUNT_DELETED'],
            examples: { none: { summary: 'Nothing pending', value: errorBody(409, ['account: no deletion request is pending'], { errorCode: 'NO_PENDING_DELETION' }) }, deleted: alreadyDeleted },
          }),
          ...common({ db: true, bodyValidated: false }),
        },
        'x-mutating': true,
      }),
    },
    '/api/v1/users/me/account-deletion/finalize-now': {
      post: operation({
        operationId: 'finalizeAccountDeletionNow',
        summary: 'Delete the account now',
        description: 'Finalizes the deletion at once, only when the feature flag `ACCOUNT_DELETION_FINALIZE_NOW` is on: personal data erased, every session revoked (this access token stops working), phone number, e-mail and username released; aggregated attribution counts are kept. The same number can then sign up again as a new user.',
        tags: ['Users'],
        security: JWT,
        requestBody: jsonBody('EmptyRequest', { empty: { summary: 'No body fields', value: {} } }, false),
        responses: {
          '200': successResponse('The account is finalized.', 'AccountFinalizationEnvelope', {
            finalized: { summary: 'Finalized', value: okBody({ status: 'finalized', requestedAt: TS, scheduledFor: null, cancelledAt: null, finalizedAt: TS, userId: '65a4f0c2e4b0a1b2c3d4e5f6' }) },
          }),
          '400': validationFailed('The body has fields (it takes none).', {}),
          '401': unauthorized,
          '403': errorResponse(403, {
            description: 'The feature flag is off.',
            errorCodes: ['FEATURE_DISABLED'],
            examples: { disabled: { summary: 'Flag off', value: errorBody(403, ['account-deletion: finalize-now is not enabled'], { errorCode: 'FEATURE_DISABLED' }) } },
          }),
          '409': errorResponse(409, { description: 'The account is already deleted.', errorCodes: ['ACCOUNT_DELETED'], examples: { deleted: alreadyDeleted } }),
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': true,
      }),
    },
  };
}

function analyticsPaths(): Record<string, PathItemObject> {
  const day = (name: 'from' | 'to', example: string): ParameterObject => ({
    name,
    in: 'query',
    description: name === 'to' ? 'Last UTC day, inclusive. Default: today.' : `First UTC day, inclusive. Default: 29 days before \`to\`. The range is 1–${MAX_RANGE_DAYS} days.`,
    schema: UTC_DAY,
    example,
  });
  const filter = (name: 'source' | 'campaign', example: string): ParameterObject => ({
    name,
    in: 'query',
    description: `Only users with this ${name} (\`(none)\` for users without attribution).`,
    schema: { type: 'string', pattern: ATTRIBUTION_FILTER.pattern },
    example,
  });
  const forbidden = errorResponse(403, {
    description: 'The caller has neither the `admin` nor the `marketing` role.',
    errorCodes: ['ROLE_REQUIRED'],
    examples: { role: { summary: 'No reporting role', value: errorBody(403, ['role: one of admin, marketing is required'], { errorCode: 'ROLE_REQUIRED' }) } },
  });
  const badQuery = (examples: Record<string, ExampleObject>) =>
    errorResponse(400, {
      description: 'A query parameter is invalid, repeated or unknown (one `name: problem` entry each), or the body is not valid JSON.',
      examples: { ...examples, unknown: { summary: 'An unknown parameter', value: errorBody(400, ['foo: unknown query parameter']) } },
    });
  const signupsExample = {
    from: '2026-01-01',
    to: '2026-01-31',
    groupBy: ['day', 'source', 'campaign'],
    rows: [
      { day: '2026-01-01', source: '(none)', campaign: '(none)', signups: 3, registrationsCompleted: 1 },
      { day: '2026-01-01', source: 'instagram_ads', campaign: 'spring_launch_2026', signups: 12, registrationsCompleted: 7 },
    ],
    totals: { signups: 15, registrationsCompleted: 8 },
  };
  return {
    '/api/v1/analytics/signups': {
      get: operation({
        operationId: 'getSignupsReport',
        summary: 'Signups by day, source, campaign, country, platform',
        description: 'Signup cohorts: `signups` counts users who signed up on the days in range (UTC), `registrationsCompleted` those of them who have completed registration (whenever). Users without attribution count under source and campaign `(none)`. `format=csv` returns the same rows as a CSV attachment (not enveloped); values starting with `= + - @` are prefixed with `\'`. Roles `admin` or `marketing`.',
        tags: ['Analytics'],
        security: JWT,
        parameters: [
          day('from', '2026-01-01'),
          day('to', '2026-01-31'),
          {
            name: 'groupBy',
            in: 'query',
            description: 'Comma-separated dimensions to group by (default `day`); duplicates are ignored.',
            style: 'form',
            explode: false,
            schema: { type: 'array', minItems: 1, items: { enum: [...DIMENSIONS] }, default: ['day'] },
            example: ['day', 'source', 'campaign'],
          },
          filter('source', 'instagram_ads'),
          filter('campaign', 'spring_launch_2026'),
          { name: 'format', in: 'query', description: '`json` (the envelope) or `csv` (`text/csv`).', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
        ],
        responses: {
          '200': successResponse(
            'The report: JSON in the envelope, or CSV with `format=csv`.',
            'SignupsReportEnvelope',
            { docs: { summary: 'The docs’ example query', value: okBody(signupsExample) } },
            {
              'text/csv': {
                schema: { type: 'string', description: 'A header line (the grouped columns, `signups`, `registrationsCompleted`) and one line per row, CRLF-terminated.' },
                example: 'day,source,campaign,signups,registrationsCompleted\r\n2026-01-01,(none),(none),3,1\r\n2026-01-01,instagram_ads,spring_launch_2026,12,7\r\n',
              },
            },
            { 'Content-Disposition': { description: 'With `format=csv`: `attachment; filename="signups_<from>_<to>.csv"`.', schema: { type: 'string' } } },
          ),
          '400': badQuery({ badDay: { summary: 'Not a day', value: errorBody(400, ['from: must be a UTC day YYYY-MM-DD']) } }),
          '401': ref('responses', 'Unauthorized'),
          '403': forbidden,
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': false,
      }),
    },
    '/api/v1/analytics/funnel': {
      get: operation({
        operationId: 'getFunnelReport',
        summary: 'The login funnel',
        description: 'Codes sent, codes verified, signups, completed registrations and logins in the range (UTC days). `otpSent` cannot be attributed (send-otp carries no source), so it is `null` when `source` or `campaign` is given. Roles `admin` or `marketing`.',
        tags: ['Analytics'],
        security: JWT,
        parameters: [day('from', '2026-01-01'), day('to', '2026-01-31'), filter('source', 'instagram_ads'), filter('campaign', 'spring_launch_2026')],
        responses: {
          '200': successResponse('The funnel.', 'FunnelReportEnvelope', {
            all: { summary: 'All sources', value: okBody({ from: '2026-01-01', to: '2026-01-31', source: null, campaign: null, otpSent: 1200, otpVerified: 1010, signups: 640, registrationsCompleted: 410, logins: 1010 }) },
            bySource: { summary: 'One source', value: okBody({ from: '2026-01-01', to: '2026-01-31', source: 'instagram_ads', campaign: null, otpSent: null, otpVerified: 300, signups: 210, registrationsCompleted: 150, logins: 0 }) },
          }),
          '400': badQuery({ range: { summary: 'from after to', value: errorBody(400, ['from: must not be after to']) } }),
          '401': ref('responses', 'Unauthorized'),
          '403': forbidden,
          ...common({ db: true, bodyValidated: true }),
        },
        'x-mutating': false,
      }),
    },
  };
}

function healthPaths(): Record<string, PathItemObject> {
  return {
    '/healthz': {
      get: operation({
        operationId: 'getHealth',
        summary: 'Liveness',
        description: 'The process is alive. It checks no dependency, so a database outage never gets the process restarted.',
        tags: ['Health'],
        responses: {
          '200': successResponse('Alive.', 'HealthEnvelope', { ok: { summary: 'Alive', value: okBody({ status: 'ok', uptimeSeconds: 3600 }) } }),
          ...common({ db: false, bodyValidated: false }),
        },
        'x-mutating': false,
      }),
    },
    '/readyz': {
      get: operation({
        operationId: 'getReadiness',
        summary: 'Readiness',
        description: 'MongoDB and Redis both answer within `READINESS_TIMEOUT_MS` (1500 ms).',
        tags: ['Health'],
        responses: {
          '200': successResponse('Ready.', 'ReadinessEnvelope', { ready: { summary: 'Ready', value: okBody({ status: 'ready', checks: { mongodb: 'up', redis: 'up' } }) } }),
          ...common({ db: false, bodyValidated: false }),
          '503': errorResponse(503, {
            description: 'A dependency does not answer; `details.checks` says which (one `<name>: not reachable` message each). No `errorCode`.',
            details: {
              type: 'object',
              additionalProperties: false,
              required: ['checks'],
              properties: { checks: strictObject({ mongodb: { enum: ['up', 'down'] }, redis: { enum: ['up', 'down'] } }, ['mongodb', 'redis']) },
            },
            examples: { redisDown: { summary: 'Redis down', value: errorBody(503, ['redis: not reachable'], { details: { checks: { mongodb: 'up', redis: 'down' } } }) } },
          }),
        },
        'x-mutating': false,
      }),
    },
  };
}

/**
 * `Cache-Control: no-store` on every response an `/api/v1` operation answers itself. The shared responses
 * (413, 415, 500, 503, an unreadable body) also serve `/healthz` and `/readyz`, which do not send it, so it is
 * documented there only through `Unauthorized`, which only `/api/v1` operations answer.
 */
function withNoStore(paths: Record<string, PathItemObject>): Record<string, PathItemObject> {
  const noStore = (r: ResponseObject | RefObject) => ('$ref' in r ? r : { ...r, headers: { ...r.headers, 'Cache-Control': ref('headers', 'Cache-Control') } });
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      path.startsWith('/api/v1/')
        ? Object.fromEntries(Object.entries(item).map(([method, op]) => [method, { ...op, responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, noStore(r)])) }]))
        : item,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------

const DESCRIPTION = `The phone-OTP login backend of the Allmine mobile-app API (the **Authentication** group, plus the
registration, account-deletion and marketing-report endpoints built on it).

## The envelope
Every response body, success or error, is JSON in one envelope:

\`\`\`json
{ "isSuccess": true, "statusCode": 200, "data": { }, "errors": [], "timestamp": "2026-01-15T10:30:00.000Z" }
{ "isSuccess": false, "statusCode": 404, "data": null, "errors": ["Resource not found"], "timestamp": "2026-01-15T10:30:00.000Z" }
\`\`\`

\`statusCode\` repeats the HTTP status; \`timestamp\` is the server time (ISO-8601 UTC, milliseconds). On success
\`errors\` is \`[]\`; on error \`data\` is \`null\` and \`errors\` has at least one message. The only body that is not
enveloped is the CSV export of \`GET /api/v1/analytics/signups?format=csv\`.

## Errors
\`errors[0]\` is the generic message of the status; specific \`field: problem\` messages follow it. An error may
also carry \`errorCode\` (a stable UPPER_SNAKE string: branch on it, never on message text) and \`details\`.

| status | \`errors[0]\` | when |
|---|---|---|
| 400 | \`Validation failed\` | a malformed body or query (one entry per problem, e.g. \`phoneNumber: not a valid mobile number for country code 90\`; unknown fields are refused), a body that is not valid JSON, \`OTP_INVALID\`, \`POLICY_VERSION_STALE\` |
| 401 | \`Authentication required\` | \`TOKEN_MISSING\`, \`TOKEN_INVALID\`, \`TOKEN_EXPIRED\`, \`SESSION_REVOKED\`; refresh: \`REFRESH_TOKEN_INVALID\`, \`REFRESH_TOKEN_REUSED\` |
| 403 | \`Insufficient permissions\` | \`ROLE_REQUIRED\` (a role is missing), \`FEATURE_DISABLED\` |
| 404 | \`Resource not found\` | an unknown route, \`OTP_NOT_FOUND\`, \`REFRESH_TOKEN_NOT_FOUND\` |
| 405 | \`Method not allowed\` | a known path with another method (\`Allow\` lists the methods it serves) |
| 409 | \`Resource already exists or cannot be changed in its current state\` | \`ACCOUNT_UNAVAILABLE\`, \`ACCOUNT_DELETED\`, \`REGISTRATION_ALREADY_COMPLETE\`, \`REGISTRATION_INCOMPLETE\`, \`USERNAME_TAKEN\`, \`USERNAME_CHANGE_TOO_SOON\`, \`NO_PENDING_DELETION\` |
| 413 | \`Request body too large\` | a body over 16 KiB |
| 415 | \`Unsupported media type\` | a JSON body in a charset other than UTF-8, or an unsupported \`Content-Encoding\` |
| 429 | \`Too many requests\` | \`RATE_LIMITED\`, with \`Retry-After\` and \`details: { retryAfterSeconds, limits }\` |
| 500 | \`Internal server error\` | unexpected; never a stack trace or an internal error text |
| 502 | \`Upstream service failed\` | \`SMS_DELIVERY_FAILED\`, \`MAIL_DELIVERY_FAILED\` |
| 503 | \`Service unavailable\` | \`DEPENDENCY_UNAVAILABLE\` (MongoDB unreachable, or busy with a write conflict or a failover); \`/readyz\` when a dependency is down |

Any request can get 400 (unreadable JSON), 413, 415 or 500, before routing; an unknown route gets 404 and a
known path with another method 405 (these two are listed under \`x-unmatched-requests\`, since OpenAPI has no
place for responses to requests that match no operation). Every response carries \`X-Request-Id\`.

## Authentication
\`JWT-auth\`: \`Authorization: Bearer <accessToken>\` (HS256, 3600 s). Refresh tokens (30 days) are opaque and
rotate on every use; reuse after a 10 s grace window revokes the session. Logout, revoke-token and account
deletion stop the session's access tokens within 5 s on every server. An access token must carry \`sub\`,
\`sid\`, \`iat\` and \`exp\` (else 401 \`TOKEN_INVALID\`). Every response of an \`/api/v1\` operation, errors
included, is \`Cache-Control: no-store\`.

## Client headers
Every operation accepts the optional \`X-Language\` (\`en\` | \`tr\`), \`X-Timezone\` (\`UTC\`, \`UTC-12:00\` … \`UTC+14:00\`),
\`X-Platform\` (\`web\` | \`mobile_ios\` | \`mobile_android\` | \`admin\` | \`api\` | \`unknown\` | \`all\`), \`X-App-Version\` and
\`X-Device-ID\`. An invalid value is ignored, never an error. Platform, app version and device id are recorded on
sessions and login events.

## Limits (defaults; each is configurable)
| what | default |
|---|---|
| code | 4 digits, valid 180 s, 5 wrong attempts |
| resend cooldown per recipient | 60 s |
| codes sent per recipient | 5 per hour, 10 per day |
| codes sent per IP / per country calling code | 20 / 2000 per hour |
| verify attempts per recipient / per IP | 10 / 60 per hour |
| access / refresh token lifetime | 3600 s / 2592000 s |
| request body | 16 KiB |

## Decisions
- Phone numbers: \`countryCode\` 1–3 digits (a leading \`+\` is dropped), \`phoneNumber\` national (separators and the
  trunk prefix dropped); it must be a valid mobile number. \`90\`+\`05551234567\` and \`+90\`+\`555 123 45 67\` are one account.
  Users store and return \`countryCode: "90"\`; send-otp echoes \`"+90"\`, as documented.
- One user per normalized number (and per verified e-mail); a code works once; concurrent first logins converge on
  one user. Attribution (\`signupSource\`, \`signupCampaign\`) is written once, at signup (first touch).
- Side effects (signup attribution, last login, funnel events) run in a worker; \`lastLogin\` may lag the login.
- Request bodies are strict: unknown fields are 400. \`code\` appears in send-otp responses only in development and test.
- A suspended account or a finalized deletion cannot log in (409); a pending deletion can (so it can be cancelled).
- Reports count signup cohorts by UTC day; users without attribution count under \`(none)\`.

## Not in this document
HTML and operations routes: \`/dashboard\` (the marketers' page), \`/docs\` (this document, rendered), \`/openapi.json\`
(this document, not enveloped), \`/metrics\` and \`/admin/queues\` where deployed.`;

/** The OpenAPI 3.1.0 document of the API. */
export function buildOpenApiSpec(options: OpenApiOptions): OpenApiDocument {
  const otpLength = options.otpLength ?? 4;
  const schemas = { ...envelopeSchemas(), ...dataSchemas(), ...requestSchemas(otpLength) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Allmine auth API',
      version: packageVersion(),
      description: DESCRIPTION,
      license: { name: 'Apache 2.0', identifier: 'Apache-2.0' },
    },
    servers: options.servers.map((s) => ({ url: s.url, description: s.description })),
    tags: [
      { name: 'Authentication', description: 'Phone and e-mail codes, tokens, sessions.' },
      { name: 'Users', description: 'Registration, profile, usernames, account deletion.' },
      { name: 'Analytics', description: 'Marketing reports for roles `admin` and `marketing`.' },
      { name: 'Health', description: 'Liveness and readiness probes.' },
    ],
    paths: { ...withNoStore({ ...authPaths(otpLength), ...usersPaths(), ...analyticsPaths() }), ...healthPaths() },
    components: {
      schemas,
      responses: globalResponses(),
      parameters: parameters(),
      headers: headers(),
      securitySchemes: {
        'JWT-auth': {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The `accessToken` of verify-otp or refresh: `Authorization: Bearer <accessToken>`.',
        },
      },
    },
    'x-unmatched-requests': {
      description: 'Responses to requests that match no documented operation. Any request may also get 400 (unreadable JSON body), 413, 415 or 500 before routing.',
      unknownRoute: {
        '400': ref('responses', 'MalformedBody'),
        '404': ref('responses', 'NotFound'),
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '500': ref('responses', 'InternalError'),
      },
      wrongMethod: {
        '400': ref('responses', 'MalformedBody'),
        '405': ref('responses', 'MethodNotAllowed'),
        '413': ref('responses', 'PayloadTooLarge'),
        '415': ref('responses', 'UnsupportedMediaType'),
        '500': ref('responses', 'InternalError'),
      },
    },
  };
}

/** The version of the nearest package.json (walking up from this file: `src/openapi/` or `dist/src/openapi/`). */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const version = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version;
        return typeof version === 'string' ? version : '0.0.0';
      } catch {
        return '0.0.0';
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}
