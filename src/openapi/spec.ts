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
 *
 * This file puts the document together; the parts live elsewhere:
 * - `src/routes/<group>.openapi.ts` (auth, users, analytics, admin, health): each group's paths, one function per
 *   operation, and the schemas only that group uses, next to the group's router;
 * - `./components.ts`: the components the groups share (the user object, the envelopes, parameters,
 *   headers, the responses any request can get); `./builders.ts`: the helpers all of them are written
 *   with; `./types.ts`: the document's types (re-exported here); `./description.ts`: `info.description`;
 *   `./examples.ts`: the example values the tests reuse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminPaths, adminSchemas } from '../routes/admin.openapi.js';
import { analyticsPaths, analyticsSchemas } from '../routes/analytics.openapi.js';
import { authPaths, authSchemas } from '../routes/auth.openapi.js';
import { healthPaths, healthSchemas } from '../routes/health.openapi.js';
import { usersPaths, usersSchemas } from '../routes/users.openapi.js';
import { ref } from './builders.js';
import { emptyRequestSchema, envelopeSchemas, globalResponses, headers, parameters, userSchema } from './components.js';
import { DESCRIPTION } from './description.js';
import type {
  JsonSchema,
  OpenApiDocument,
  OpenApiOptions,
  PathItemObject,
  RefObject,
  ResponseObject,
} from './types.js';

export * from './types.js';

/** `components.schemas`: the envelopes, the `data` types, then the request bodies, the groups in one order. */
function componentSchemas(otpLength: number): Record<string, JsonSchema> {
  const auth = authSchemas(otpLength);
  const users = usersSchemas();
  const analytics = analyticsSchemas();
  const admin = adminSchemas();
  const health = healthSchemas();
  return {
    ...envelopeSchemas([
      ...auth.envelopes,
      ['PrivateUser', 200],
      ...users.envelopes,
      ...analytics.envelopes,
      ...admin.envelopes,
      ...health.envelopes,
    ]),
    PrivateUser: userSchema(),
    ...auth.data,
    ...users.data,
    ...analytics.data,
    ...admin.data,
    ...health.data,
    ...auth.requests,
    EmptyRequest: emptyRequestSchema(),
    ...users.requests,
    ...admin.requests,
  };
}

/**
 * `Cache-Control: no-store` on every response an `/api/v1` operation answers itself. The shared responses
 * (413, 415, 500, 503, an unreadable body) also serve `/healthz` and `/readyz`, which do not send it, so it is
 * documented there only through `Unauthorized`, which only `/api/v1` operations answer.
 */
function withNoStore(paths: Record<string, PathItemObject>): Record<string, PathItemObject> {
  const noStore = (r: ResponseObject | RefObject) =>
    '$ref' in r ? r : { ...r, headers: { ...r.headers, 'Cache-Control': ref('headers', 'Cache-Control') } };
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      path.startsWith('/api/v1/')
        ? Object.fromEntries(
            Object.entries(item).map(([method, op]) => [
              method,
              {
                ...op,
                responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, noStore(r)])),
              },
            ]),
          )
        : item,
    ]),
  );
}

/** The OpenAPI 3.1.0 document of the API. */
export function buildOpenApiSpec(options: OpenApiOptions): OpenApiDocument {
  const otpLength = options.otpLength ?? 4;
  const schemas = componentSchemas(otpLength);
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
      {
        name: 'Admin',
        description:
          'Support and security operations on user accounts for roles `support` and `admin` (roles and erasure: `admin` only); every state-changing call takes a `reason`, and every call is audited.',
      },
      { name: 'Health', description: 'Liveness and readiness probes.' },
    ],
    paths: {
      ...withNoStore({ ...authPaths(otpLength), ...usersPaths(), ...analyticsPaths(), ...adminPaths() }),
      ...healthPaths(),
    },
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
      description:
        'Responses to requests that match no documented operation. Any request may also get 400 (unreadable JSON body), 413, 415 or 500 before routing.',
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
