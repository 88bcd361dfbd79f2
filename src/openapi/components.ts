/**
 * The components more than one resource uses: the private user object (`PrivateUser`), the envelope
 * schemas (`ErrorEnvelope` and one `<Type>Envelope` per success `data` type), the body-less request
 * (`EmptyRequest`), the client-header parameters, the response headers, and the responses any request can
 * get (`MalformedBody`, `Unauthorized`, `NotFound`, …). Each resource's own schemas live next to its routes
 * (`src/routes/*.openapi.ts`, as a `ResourceSchemas`); `./spec.ts` puts all of them into `components`.
 */
import { LANGUAGES, PLATFORMS } from '../lib/client-info.js';
import { AVAILABILITY, DELETION_STATUSES, EXPERTISE, GENDERS, PRIVATE_USER_FIELDS, ROLES } from '../models/user.js';
import { CURSOR, PAGE_LIMIT } from '../schemas/admin.js';
import { ATTRIBUTION } from '../schemas/auth.js';
import { HANDLE, TIMEZONE, USERNAME } from '../schemas/users.js';
import {
  DATE_TIME,
  errorBody,
  errorResponse,
  jsonBody,
  NULLABLE_DATE_TIME,
  nullable,
  OBJECT_ID,
  ref,
  schemaRef,
  strictObject,
  successEnvelope,
  validationFailed,
} from './builders.js';
import { exampleUser } from './examples.js';
import type {
  HeaderObject,
  JsonSchema,
  ParameterObject,
  RefObject,
  RequestBodyObject,
  ResponseObject,
} from './types.js';

/** A `data` type that gets a success envelope, `<Type>Envelope`, and the status it comes with. */
export type Envelope = [type: string, status: 200 | 201];

/** What one resource adds to `components.schemas`. */
export interface ResourceSchemas {
  /** The `data` types of its responses (and the schemas they refer to). */
  data: Record<string, JsonSchema>;
  /** The `data` types of `data` that get a success envelope, in the document's order. */
  envelopes: Envelope[];
  /** Its request bodies. */
  requests?: Record<string, JsonSchema>;
}

// ---------------------------------------------------------------------------------------------
// Schemas.

export function userSchema(): JsonSchema {
  const str = (extra: JsonSchema = {}) => nullable({ type: 'string', ...extra });
  const date = NULLABLE_DATE_TIME;
  const properties: Record<string, JsonSchema> = {
    id: { ...OBJECT_ID, description: 'The user id (a MongoDB ObjectId, as a string).' },
    name: str({ maxLength: 50 }),
    surname: str({ maxLength: 50 }),
    username: str({ pattern: USERNAME.pattern, description: 'Lower-case; unique case-insensitively.' }),
    countryCode: str({
      pattern: '^[0-9]{1,3}$',
      description: 'Calling code without `+` (`"90"`); `null` for a user who signed up by e-mail.',
    }),
    phoneNumber: str({
      pattern: '^[0-9]{4,17}$',
      description: 'National number (`"5551234567"`); `null` for a user who signed up by e-mail.',
    }),
    signupSource: str({
      pattern: ATTRIBUTION.pattern,
      description: 'First-touch attribution, written once at signup.',
    }),
    signupCampaign: str({
      pattern: ATTRIBUTION.pattern,
      description: 'First-touch attribution, written once at signup.',
    }),
    profilePhoto: str({ format: 'uri', description: 'An https URL.' }),
    availabilityStatus: { type: ['string', 'null'], enum: [...AVAILABILITY, null] },
    birthDate: { ...date, description: 'Midnight UTC of the birth day.' },
    gender: { type: ['string', 'null'], enum: [...GENDERS, null] },
    interests: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 40 } },
    expertise: { type: 'array', uniqueItems: true, items: { enum: [...EXPERTISE] } },
    email: str({ maxLength: 254, description: 'Lower-case.' }),
    bio: str({ maxLength: 500 }),
    instagram: str({ pattern: HANDLE.pattern, description: 'Handle without `@`.' }),
    x: str({ pattern: HANDLE.pattern, description: 'Handle without `@`.' }),
    tiktok: str({ pattern: HANDLE.pattern, description: 'Handle without `@`.' }),
    snapchat: str({ pattern: HANDLE.pattern, description: 'Handle without `@`.' }),
    facebook: str({ pattern: HANDLE.pattern, description: 'Handle without `@`.' }),
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
    timezone: str({ pattern: TIMEZONE.pattern }),
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
    ...strictObject(
      ordered,
      [...PRIVATE_USER_FIELDS],
      'The private user object: exactly these fields. Unset strings and dates are `null`, unset arrays `[]`, counters `0`. Dates are ISO-8601 UTC.',
    ),
    examples: [exampleUser()],
  };
}

/** `ErrorEnvelope`, then the success envelope of each of these `data` types, `<Type>Envelope`. */
export function envelopeSchemas(envelopes: Envelope[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {
    ErrorEnvelope: {
      type: 'object',
      description:
        'Every error. `errors[0]` is the documented generic message of the status; more specific `field: problem` messages follow. Clients branch on `errorCode`, never on message text.',
      required: ['isSuccess', 'statusCode', 'data', 'errors', 'timestamp'],
      additionalProperties: false,
      properties: {
        isSuccess: { const: false },
        statusCode: { type: 'integer', minimum: 400, maximum: 599, description: 'Repeats the HTTP status.' },
        data: { type: 'null' },
        errors: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        errorCode: {
          type: 'string',
          pattern: '^[A-Z][A-Z0-9_]*$',
          description: 'A stable UPPER_SNAKE code, e.g. `OTP_INVALID`.',
        },
        details: { type: 'object', description: 'Structured extra information, e.g. `{ "attemptsRemaining": 2 }`.' },
        timestamp: { ...DATE_TIME, description: 'Server time, ISO-8601 UTC with milliseconds.' },
      },
    },
  };
  for (const [name, status] of envelopes) {
    out[`${name}Envelope`] = successEnvelope(schemaRef(name), status, `The success envelope with \`data\`: ${name}.`);
  }
  return out;
}

/** The request body schema of the operations that take none. */
export function emptyRequestSchema(): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    description: 'No fields: any field is refused (`<field>: unknown field`). The body may be omitted.',
  };
}

/** The optional, field-less body of an operation that takes none (`EmptyRequest`)... */
export const emptyBody = (): RequestBodyObject =>
  jsonBody('EmptyRequest', { empty: { summary: 'No body fields', value: {} } }, false);
/** ... and its 400. */
export const fieldsRefused = (): ResponseObject => validationFailed('The body has fields (it takes none).', {});

// ---------------------------------------------------------------------------------------------
// Paged lists (the admin API's look-up and audit trail, a user's security events).

/** How every paged list pages, said once for their descriptions. */
export const PAGING = `Paged: \`limit\` items per page (${PAGE_LIMIT.min}–${PAGE_LIMIT.max}, default ${PAGE_LIMIT.default}); while \`nextCursor\` is not \`null\`, pass it as \`cursor\` (with the same other parameters) for the next page. Cursors are opaque and keep their place when newer items arrive.`;

/** `limit` and `cursor`: the query parameters of a paged list. */
export function pageParameters(): ParameterObject[] {
  return [
    {
      name: 'limit',
      in: 'query',
      description: `Items per page, ${PAGE_LIMIT.min}–${PAGE_LIMIT.max} (default ${PAGE_LIMIT.default}).`,
      schema: { type: 'integer', minimum: PAGE_LIMIT.min, maximum: PAGE_LIMIT.max, default: PAGE_LIMIT.default },
    },
    {
      name: 'cursor',
      in: 'query',
      description: 'The `nextCursor` of the previous page; absent for the first page.',
      schema: { type: 'string', pattern: CURSOR.pattern },
    },
  ];
}

/** One page of a list: `items` and the cursor of the next page. */
export function pageSchema(items: JsonSchema | RefObject, description: string): JsonSchema {
  return strictObject(
    {
      items: { type: 'array', maxItems: PAGE_LIMIT.max, items },
      nextCursor: {
        type: ['string', 'null'],
        pattern: CURSOR.pattern,
        description: 'Pass as `cursor` for the next page; `null` on the last page.',
      },
    },
    ['items', 'nextCursor'],
    description,
  );
}

// ---------------------------------------------------------------------------------------------
// Reusable parameters, headers and responses.

export function parameters(): Record<string, ParameterObject> {
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
      schema: { type: 'string', pattern: TIMEZONE.pattern, default: 'UTC' },
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
      description:
        'A request id to trace this call by; kept when it is 8–128 of `A-Z a-z 0-9 . _ : -`, else the server generates one. Always echoed on the response.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
    },
  };
}

export function headers(): Record<string, HeaderObject> {
  return {
    'X-Request-Id': {
      description:
        'The request id: the client’s `X-Request-Id` when it is sane, else a generated UUID. On every response.',
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
      description:
        'Every response of the API (`/api/v1/…`), errors included: tokens, codes and a signed-in user’s data must not be kept by a browser, proxy or CDN.',
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

export function globalResponses(): Record<string, ResponseObject> {
  return {
    MalformedBody: errorResponse(400, {
      description:
        'The request body could not be read: not valid JSON, or aborted. (Any request may get this, before routing.)',
      examples: {
        invalidJson: { summary: 'A body that is not valid JSON', value: errorBody(400, ['body: not valid JSON']) },
      },
    }),
    Unauthorized: errorResponse(401, {
      description:
        'The access token is missing, malformed, wrongly signed, expired, for another issuer or audience, or its session has ended (logout, revoke-token, refresh-token theft, account deletion, a removed role, a suspension, or sessions ended by support).',
      errorCodes: ['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'SESSION_REVOKED'],
      // Only `/api/v1` operations answer it, and every response there is no-store.
      headers: {
        'WWW-Authenticate': ref('headers', 'WWW-Authenticate'),
        'Cache-Control': ref('headers', 'Cache-Control'),
      },
      examples: {
        missing: {
          summary: 'No Authorization header',
          value: errorBody(401, ['Authorization: a Bearer access token is required'], { errorCode: 'TOKEN_MISSING' }),
        },
        expired: {
          summary: 'An expired access token',
          value: errorBody(401, ['accessToken: expired'], { errorCode: 'TOKEN_EXPIRED' }),
        },
        revoked: {
          summary: 'The session has ended',
          value: errorBody(401, ['accessToken: the session has ended'], { errorCode: 'SESSION_REVOKED' }),
        },
      },
    }),
    NotFound: errorResponse(404, {
      description: 'No route matches this path.',
      examples: {
        unknownRoute: { summary: 'An unknown route', value: errorBody(404, ['No route matches this path']) },
      },
    }),
    MethodNotAllowed: errorResponse(405, {
      description: 'The path exists but does not serve this method; `Allow` lists the methods it does.',
      headers: { Allow: ref('headers', 'Allow') },
      examples: { wrongMethod: { summary: 'DELETE /healthz', value: errorBody(405, ['Allowed methods: GET, HEAD']) } },
    }),
    PayloadTooLarge: errorResponse(413, {
      description:
        'The request body is larger than the limit (`BODY_LIMIT_BYTES`, 16 KiB by default). (Any request may get this, before routing.)',
      examples: {
        tooLarge: { summary: 'A 20 KiB body', value: errorBody(413, ['body: larger than the allowed size']) },
      },
    }),
    UnsupportedMediaType: errorResponse(415, {
      description:
        'The JSON body uses a charset other than UTF-8 or an unsupported `Content-Encoding`. (Any request may get this, before routing.)',
      examples: { charset: { summary: 'charset=latin1', value: errorBody(415, ['body: unsupported charset']) } },
    }),
    InternalError: errorResponse(500, {
      description:
        'An unexpected error. The body carries a generic message only (never a stack trace or an internal error text); the error is logged with the request id.',
      examples: { unexpected: { summary: 'Unexpected', value: errorBody(500) } },
    }),
    DependencyUnavailable: errorResponse(503, {
      description:
        'MongoDB is not reachable right now, or it answered a write with an error that means "try again" (a lock or write conflict that outlasted its own retries, a primary stepping down). (A Redis outage does not fail requests: limits fall back to in-memory budgets and side effects wait in the outbox.)',
      errorCodes: ['DEPENDENCY_UNAVAILABLE'],
      examples: {
        database: {
          summary: 'MongoDB unreachable',
          value: errorBody(503, ['database: temporarily unavailable'], { errorCode: 'DEPENDENCY_UNAVAILABLE' }),
        },
      },
    }),
  };
}
