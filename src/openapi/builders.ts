/**
 * The building blocks every part of the OpenAPI document uses: `$ref`s, the common schema fragments (times,
 * ids), the envelope around example values, success and error responses, request bodies, strict objects,
 * and `operation()`, which gives an operation its security, the client-header parameters and the
 * statuses in order. The per-resource paths (`src/routes/*.openapi.ts`) and the shared components
 * (`./components.ts`) are written with these; `./spec.ts` puts them together.
 */
import { GENERIC_MESSAGES } from '../lib/errors.js';
import type {
  ExampleObject,
  HeaderObject,
  JsonSchema,
  MediaTypeObject,
  OperationObject,
  ParameterObject,
  RefObject,
  RequestBodyObject,
  ResponseObject,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Small builders.

export const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): RefObject => ({
  $ref: `#/components/${kind}/${name}`,
});
export const schemaRef = (name: string): RefObject => ref('schemas', name);
export const nullable = (schema: JsonSchema): JsonSchema => {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
};
const JSON_TYPE = 'application/json';
/** The time every example shows. */
export const TS = '2026-01-15T10:30:00.000Z';
const generic = (status: number): string => GENERIC_MESSAGES[status]!;

/** Every time the API sends is `Date#toISOString()`: ISO-8601 UTC with milliseconds. */
const ISO_MS = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';
export const DATE_TIME: JsonSchema = { type: 'string', format: 'date-time', pattern: ISO_MS, examples: [TS] };
export const NULLABLE_DATE_TIME: JsonSchema = { type: ['string', 'null'], format: 'date-time', pattern: ISO_MS };
export const OBJECT_ID: JsonSchema = {
  type: 'string',
  pattern: '^[0-9a-f]{24}$',
  examples: ['65a4f0c2e4b0a1b2c3d4e5f6'],
};
/** What an e-mail address may not hold: said by the login address (auth) and the profile's `email` (users). */
export const EMAIL_RULES =
  'Refused with `400 email: …`: a quoted local part (`"x"@example.com`), spaces, and invisible, formatting or control characters (Unicode Cc and Cf: U+200B, U+200C, U+200D, U+2060, U+FEFF, U+00AD, bidi controls, …), which would let one mailbox become two identities or one address pass for another.';

export function successEnvelope(
  dataSchema: JsonSchema | RefObject,
  statusCode: 200 | 201,
  description: string,
): JsonSchema {
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

export const okBody = (data: unknown, statusCode = 200) => ({
  isSuccess: true,
  statusCode,
  data,
  errors: [],
  timestamp: TS,
});
export const errorBody = (
  status: number,
  messages: string[] = [],
  extra: { errorCode?: string; details?: Record<string, unknown> } = {},
) => ({
  isSuccess: false,
  statusCode: status,
  data: null,
  errors: [generic(status), ...messages],
  timestamp: TS,
  ...extra,
});

const REQUEST_ID_HEADER = { 'X-Request-Id': ref('headers', 'X-Request-Id') };

export interface ErrorResponseSpec {
  description: string;
  /** The `errorCode` values this response may carry (it may also carry none). */
  errorCodes?: string[];
  /** The schema of `details`, when this response carries one. */
  details?: JsonSchema;
  headers?: Record<string, HeaderObject | RefObject>;
  examples: Record<string, ExampleObject>;
}

/** An error response: the envelope with this status, its documented `errors[0]`, its error codes and details. */
export function errorResponse(status: number, spec: ErrorResponseSpec): ResponseObject {
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

export function successResponse(
  description: string,
  envelope: string,
  examples: Record<string, ExampleObject>,
  extraContent: Record<string, MediaTypeObject> = {},
  headers: Record<string, HeaderObject | RefObject> = {},
): ResponseObject {
  return {
    description,
    headers: { ...REQUEST_ID_HEADER, ...headers },
    content: { [JSON_TYPE]: { schema: schemaRef(envelope), examples }, ...extraContent },
  };
}

export const jsonBody = (
  schemaName: string,
  examples: Record<string, ExampleObject>,
  required = true,
  description?: string,
): RequestBodyObject => ({
  ...(description ? { description } : {}),
  required,
  content: { [JSON_TYPE]: { schema: schemaRef(schemaName), examples } },
});

export const strictObject = (
  properties: Record<string, JsonSchema | RefObject>,
  required: string[],
  description?: string,
): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required,
  additionalProperties: false,
  properties,
});

// ---------------------------------------------------------------------------------------------
// Responses many operations give.

const RATE_LIMITS = [
  'send-cooldown',
  'send-recipient-hour',
  'send-recipient-day',
  'send-ip-hour',
  'send-country-hour',
  'verify-recipient-hour',
  'verify-ip-hour',
];

const RATE_LIMIT_DETAILS: JsonSchema = {
  type: 'object',
  required: ['retryAfterSeconds', 'limits'],
  additionalProperties: false,
  properties: {
    retryAfterSeconds: { type: 'integer', minimum: 1 },
    limits: { type: 'array', minItems: 1, items: { enum: RATE_LIMITS }, description: 'The spent limits.' },
  },
};

export function rateLimited(description: string, limit: string, seconds: number): ResponseObject {
  return errorResponse(429, {
    description,
    errorCodes: ['RATE_LIMITED'],
    details: RATE_LIMIT_DETAILS,
    headers: { 'Retry-After': ref('headers', 'Retry-After') },
    examples: {
      [limit]: {
        summary: `The ${limit} limit`,
        value: errorBody(429, [], {
          errorCode: 'RATE_LIMITED',
          details: { retryAfterSeconds: seconds, limits: [limit] },
        }),
      },
    },
  });
}

export function validationFailed(
  description: string,
  examples: Record<string, ExampleObject>,
  more: Omit<ErrorResponseSpec, 'description' | 'examples'> = {},
): ResponseObject {
  return errorResponse(400, {
    description: `${description} Each problem is one \`field: message\` entry after \`Validation failed\`; an unknown field is \`<field>: unknown field\`; a body that is not valid JSON is \`body: not valid JSON\`.`,
    ...more,
    examples: {
      ...examples,
      unknownField: { summary: 'An unknown field', value: errorBody(400, ['isAdmin: unknown field']) },
    },
  });
}

/** Statuses every operation can answer, whatever it does (the shared responses of `./components.ts`). */
export function common(opts: { db: boolean; bodyValidated: boolean }): Record<string, ResponseObject | RefObject> {
  return {
    ...(opts.bodyValidated ? {} : { '400': ref('responses', 'MalformedBody') }),
    '413': ref('responses', 'PayloadTooLarge'),
    '415': ref('responses', 'UnsupportedMediaType'),
    '500': ref('responses', 'InternalError'),
    ...(opts.db ? { '503': ref('responses', 'DependencyUnavailable') } : {}),
  };
}

/** Statuses every operation that needs an access token can answer: `Unauthorized`, and those of `common`. */
export function signedIn(opts: { db: boolean; bodyValidated: boolean }): Record<string, ResponseObject | RefObject> {
  return { '401': ref('responses', 'Unauthorized'), ...common(opts) };
}

// ---------------------------------------------------------------------------------------------
// Operations.

/** The `security` of an operation that needs an access token. */
export const JWT = [{ 'JWT-auth': [] as string[] }];
const PUBLIC: Record<string, string[]>[] = [];

const CLIENT_HEADER_PARAMS = [
  'X-Language',
  'X-Timezone',
  'X-Platform',
  'X-App-Version',
  'X-Device-ID',
  'X-Request-Id',
].map((n) => ref('parameters', n));

/** An operation: public unless `security` says otherwise, with the client headers after its own parameters. */
export function operation(
  op: Omit<OperationObject, 'parameters' | 'security'> & {
    parameters?: (ParameterObject | RefObject)[];
    security?: Record<string, string[]>[];
  },
): OperationObject {
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
