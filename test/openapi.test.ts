/**
 * The OpenAPI document (src/openapi/spec.ts): valid OpenAPI 3.1, exactly the
 * app's routes, examples that match their schemas, and the response checker
 * (test/support/openapi-check.ts) that every other test's responses go through.
 */
import http from 'node:http';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type { Express } from 'express';
import { buildOpenApiSpec, type MediaTypeObject, type ParameterObject } from '../src/openapi/spec.js';
import { PRIVATE_USER_FIELDS } from '../src/models/user.js';
import { json, startApp, type TestServer } from './support/http.js';
import {
  appRoutes,
  compileAll,
  isOpsPath,
  matchesTemplate,
  operations,
  resolve,
  spec,
  validateResponse,
  validatorFor,
  type ObservedResponse,
} from './support/openapi-check.js';

const SERVERS = [
  { url: 'https://api.allmine.app', description: 'Production' },
  { url: 'http://localhost:3000', description: 'Local' },
];

const jsonHeaders = (extra: Record<string, string> = {}) =>
  new Headers({
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': 'req-abc-12345678',
    'cache-control': 'no-store',
    ...extra,
  });
const observed = (status: number, body: unknown, headers = jsonHeaders()): ObservedResponse => ({
  status,
  headers,
  text: JSON.stringify(body),
  body,
});
/** A request with a JSON content type and a body, whatever the method. */
function rawRequest(base: string, method: string, path: string, body: string): Promise<ObservedResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, base),
      { method, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, text, body: JSON.parse(text) as unknown });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const problemsOf = (v: ReturnType<typeof validateResponse>) => (v.skipped ? [`skipped: ${v.reason}`] : v.problems);

describe('OpenAPI document (src/openapi/spec.ts)', () => {
  const doc = buildOpenApiSpec({ servers: SERVERS });

  it('is a valid OpenAPI 3.1.0 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.valid, JSON.stringify(result.errors, null, 2)).to.equal(true);
    expect(validator.version).to.equal('3.1');
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.info.title).to.equal('Allmine auth API');
    expect(doc.info.version).to.match(/^\d+\.\d+\.\d+/);
    expect(doc.servers).to.deep.equal(SERVERS);
    expect(doc.tags.map((t) => t.name)).to.deep.equal(['Authentication', 'Users', 'Analytics', 'Admin', 'Health']);
    expect(JSON.parse(JSON.stringify(doc))).to.deep.equal(doc); // plain JSON: servable as /openapi.json as it is
  });

  it('compiles every schema with ajv in strict mode (JSON Schema 2020-12)', () => {
    expect(compileAll(doc)).to.be.greaterThan(50);
  });

  it('gives every example a value its schema accepts', () => {
    const check = (where: string, media: MediaTypeObject) => {
      const validate = validatorFor(media.schema);
      const examples = [
        ...(media.example !== undefined ? [['example', media.example] as const] : []),
        ...Object.entries(media.examples ?? {}).map(([k, e]) => [k, e.value] as const),
      ];
      expect(examples, `${where} has an example`).to.not.have.length(0);
      for (const [name, value] of examples) {
        expect(validate(value), `${where} example ${name}: ${JSON.stringify(validate.errors)}`).to.equal(true);
      }
    };
    let n = 0;
    for (const { method, path, operation } of operations(doc)) {
      for (const [status, r] of Object.entries(operation.responses)) {
        for (const [type, media] of Object.entries(resolve(r, doc).content ?? {})) {
          check(`${method} ${path} ${status} ${type}`, media);
          n++;
        }
      }
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        check(`${method} ${path} request ${type}`, media);
        n++;
      }
    }
    expect(n).to.be.greaterThan(100);
  });

  it('documents the private user object exactly (contract §4.1)', () => {
    const user = doc.components.schemas.PrivateUser!;
    expect(user.additionalProperties).to.equal(false);
    expect(Object.keys(user.properties as object)).to.deep.equal([...PRIVATE_USER_FIELDS]);
    expect(user.required).to.deep.equal([...PRIVATE_USER_FIELDS]);
  });

  it('gives every operation the client headers, x-mutating, its security, and the statuses every request can get', () => {
    const mutating: string[] = [];
    for (const { method, path, operation } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      const params = operation.parameters.map((p) =>
        '$ref' in p ? p.$ref.split('/').at(-1) : (p as ParameterObject).name,
      );
      expect(params, where).to.include.members([
        'X-Language',
        'X-Timezone',
        'X-Platform',
        'X-App-Version',
        'X-Device-ID',
      ]);
      expect(operation['x-mutating'], where).to.be.a('boolean');
      if (operation['x-mutating']) mutating.push(where);
      expect(operation.responses, where).to.include.keys('400', '413', '415', '500');
      const jwt = operation.security.some((s) => 'JWT-auth' in s);
      if (
        path.startsWith('/api/v1/users') ||
        path.startsWith('/api/v1/analytics') ||
        path.startsWith('/api/v1/admin') ||
        ['/api/v1/auth/logout', '/api/v1/auth/revoke-token', '/api/v1/auth/sessions', '/api/v1/auth/me'].includes(path)
      ) {
        expect(jwt, `${where} requires JWT-auth`).to.equal(true);
        expect(operation.responses, where).to.include.keys('401');
      } else {
        expect(operation.security, `${where} is public`).to.deep.equal([]);
      }
      const limited = operation.responses['429'];
      if (limited) expect(resolve(limited, doc).headers, where).to.include.keys('Retry-After');
      for (const [status, r] of Object.entries(operation.responses)) {
        expect(resolve(r, doc).headers, `${where} ${status}`).to.include.keys('X-Request-Id');
      }
    }
    // Every state-changing operation (and nothing else) is marked; check-username is a POST that changes nothing.
    expect(mutating.sort()).to.deep.equal(
      [
        'POST /api/v1/auth/send-otp',
        'POST /api/v1/auth/verify-otp',
        'POST /api/v1/auth/send-otp-email',
        'POST /api/v1/auth/verify-otp-email',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/logout',
        'POST /api/v1/auth/revoke-token',
        'POST /api/v1/users/me/complete-registration',
        'PATCH /api/v1/users/me',
        'PATCH /api/v1/users/username',
        'POST /api/v1/users/me/account-deletion',
        'DELETE /api/v1/users/me/account-deletion',
        'POST /api/v1/users/me/account-deletion/finalize-now',
        'POST /api/v1/admin/users/{id}/suspend',
        'POST /api/v1/admin/users/{id}/unsuspend',
        'POST /api/v1/admin/users/{id}/sessions/revoke',
        'DELETE /api/v1/admin/users/{id}/sessions/{sessionId}',
        'POST /api/v1/admin/users/{id}/limits/reset',
        'PUT /api/v1/admin/users/{id}/roles',
        'POST /api/v1/admin/users/{id}/account-deletion/finalize',
        'PUT /api/v1/analytics/spend',
      ].sort(),
    );
    expect(doc.components.securitySchemes['JWT-auth']).to.include({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    const csv = resolve(doc.paths['/api/v1/analytics/signups']!.get!.responses['200']!, doc).content!;
    expect(csv).to.include.keys('application/json', 'text/csv');
  });

  it('documents Cache-Control: no-store on every response an /api/v1 operation answers itself, and not on /healthz', () => {
    const header = doc.components.headers['Cache-Control']!;
    expect(header).to.deep.include({ required: true, schema: { type: 'string', const: 'no-store' } });
    const shared = new Set([
      '#/components/responses/MalformedBody',
      '#/components/responses/PayloadTooLarge',
      '#/components/responses/UnsupportedMediaType',
      '#/components/responses/InternalError',
      '#/components/responses/DependencyUnavailable',
    ]);
    let n = 0;
    for (const { method, path, operation } of operations(doc)) {
      for (const [status, r] of Object.entries(operation.responses)) {
        if ('$ref' in r && shared.has(r.$ref)) continue; // also served by /healthz and /readyz, before routing
        const has = 'Cache-Control' in (resolve(r, doc).headers ?? {});
        expect(has, `${method.toUpperCase()} ${path} ${status}`).to.equal(path.startsWith('/api/v1/'));
        if (has) n++;
      }
    }
    expect(n).to.be.greaterThan(60);
    for (const op of ['verifyOtp', 'verifyOtpEmail', 'refreshToken', 'getMe', 'getFunnelReport']) {
      const found = operations(doc).find((o) => o.operation.operationId === op)!;
      expect(resolve(found.operation.responses['200']!, doc).headers, op).to.have.property('Cache-Control');
    }
  });

  it('takes the code length from the options', () => {
    const six = buildOpenApiSpec({ servers: SERVERS, otpLength: 6 });
    const verify = six.components.schemas.VerifyOtpRequest as { properties: { code: { pattern: string } } };
    expect(verify.properties.code.pattern).to.equal('^[0-9]{6}$');
  });
});

describe('OpenAPI coverage: the document and the app serve the same routes', () => {
  let srv: TestServer;
  let app: Express;
  before(async () => {
    srv = await startApp();
    app = srv.server.listeners('request')[0] as Express;
  });
  after(() => srv.close());

  it('documents every route of the app, and every documented operation exists in the app', () => {
    const key = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;
    const served = new Set(
      appRoutes(app)
        .filter((r) => !isOpsPath(r.path))
        .map(key),
    );
    const documented = new Set(operations(spec).map(key));
    expect(served.size, 'the app walk found routes').to.be.greaterThan(10);
    const undocumented = [...served].filter((r) => !documented.has(r)).sort();
    const missing = [...documented].filter((r) => !served.has(r)).sort();
    expect({ undocumented, missing }).to.deep.equal({ undocumented: [], missing: [] });
    // The walk sees the excluded HTML routes too: proof it reaches every router.
    expect(appRoutes(app).map(key)).to.include('GET /dashboard');
  });

  it('matches paths the way Express does', () => {
    expect(matchesTemplate('/api/v1/auth/me', '/api/v1/auth/me/')).to.equal(true);
    expect(matchesTemplate('/api/v1/auth/me', '/API/v1/auth/ME')).to.equal(true);
    expect(matchesTemplate('/api/v1/users/{id}', '/api/v1/users/42')).to.equal(true);
    expect(matchesTemplate('/api/v1/users/{id}', '/api/v1/users/42/x')).to.equal(false);
    expect(matchesTemplate('/api/v1/users/me', '/api/v1/users/me/account-deletion')).to.equal(false);
  });

  it('checks the envelope of unknown routes and wrong methods against x-unmatched-requests', async () => {
    const unknown = await srv.request('/api/v1/nope');
    expect(problemsOf(validateResponse(app, 'GET', '/api/v1/nope', unknown))).to.deep.equal([]);
    const wrong = await srv.request('/api/v1/auth/me', { method: 'DELETE' });
    expect(wrong.status).to.equal(405);
    expect(problemsOf(validateResponse(app, 'DELETE', '/api/v1/auth/me', wrong))).to.deep.equal([]);
    const tooBig = await srv.request('/api/v1/auth/send-otp', json({ pad: 'x'.repeat(20_000) }));
    expect(tooBig.status).to.equal(413);
    expect(problemsOf(validateResponse(app, 'POST', '/api/v1/auth/send-otp', tooBig))).to.deep.equal([]);
    // The statuses documented for every operation are real: 415 for a non-UTF-8 charset, 400 for broken JSON even on a GET.
    const latin1 = await srv.request('/api/v1/auth/send-otp', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: '{}',
    });
    expect(latin1.status).to.equal(415);
    expect(problemsOf(validateResponse(app, 'POST', '/api/v1/auth/send-otp', latin1))).to.deep.equal([]);
    const brokenGet = await rawRequest(srv.url, 'GET', '/healthz', '{'); // fetch sends no body with GET
    expect(brokenGet.status).to.equal(400);
    expect(problemsOf(validateResponse(app, 'GET', '/healthz', brokenGet))).to.deep.equal([]);
    // A 405 without its Allow header would not pass.
    const noAllow = { ...wrong, headers: jsonHeaders() };
    expect(problemsOf(validateResponse(app, 'DELETE', '/api/v1/auth/me', noAllow))).to.deep.equal([
      'header Allow is required but missing',
    ]);
  });
});

describe('OpenAPI response checker (test/support/openapi-check.ts)', () => {
  const user = buildOpenApiSpec({ servers: SERVERS }).components.schemas.PrivateUser!.examples as Record<
    string,
    unknown
  >[];
  const good = {
    isSuccess: true,
    statusCode: 200,
    data: {
      accessToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      refreshToken: 'q8V3mJ2cX0tYw7uR5nB1kL9pZ4aE6sD3fG8hJ0kL2mN',
      expiresIn: 3600,
      refreshExpiresIn: 2592000,
      user: user[0]!,
      isRegistrationComplete: false,
    },
    errors: [],
    timestamp: '2026-01-15T10:30:00.000Z',
  };
  const verify = (status: number, body: unknown, headers?: Headers) =>
    problemsOf(validateResponse(undefined, 'POST', '/api/v1/auth/verify-otp', observed(status, body, headers)));

  it('accepts a known-good verify-otp response', () => {
    expect(verify(200, good)).to.deep.equal([]);
  });

  it('refuses a user object with an extra field, a missing field or a wrong type', () => {
    expect(verify(200, { ...good, data: { ...good.data, user: { ...good.data.user, _id: 'abc' } } })).to.include(
      'body /data/user must NOT have additional properties: _id',
    );
    const { email: _email, ...withoutEmail } = good.data.user;
    expect(verify(200, { ...good, data: { ...good.data, user: withoutEmail } }).join()).to.include(
      "must have required property 'email'",
    );
    expect(
      verify(200, { ...good, data: { ...good.data, user: { ...good.data.user, followersCount: '0' } } }).join(),
    ).to.include('/data/user/followersCount must be integer');
    expect(
      verify(200, { ...good, data: { ...good.data, user: { ...good.data.user, gender: 'robot' } } }).join(),
    ).to.include('/data/user/gender');
  });

  it('refuses an error envelope without errors, or with the wrong first message', () => {
    const error = {
      isSuccess: false,
      statusCode: 404,
      data: null,
      errors: ['Resource not found', 'code: no usable code'],
      errorCode: 'OTP_NOT_FOUND',
      timestamp: '2026-01-15T10:30:00.000Z',
    };
    expect(verify(404, error)).to.deep.equal([]);
    const { errors: _errors, ...withoutErrors } = error;
    expect(verify(404, withoutErrors).join()).to.include("must have required property 'errors'");
    expect(verify(404, { ...error, errors: [] }).join()).to.include('/errors must NOT have fewer than 1 items');
    expect(verify(404, { ...error, errors: ['Not found'] }).join()).to.include('/errors/0 must be equal to constant');
    expect(verify(404, { ...error, errorCode: 'SOMETHING_ELSE' }).join()).to.include(
      '/errorCode must be equal to one of the allowed values',
    );
  });

  it('refuses an undocumented status, an undocumented content type and a missing required header', () => {
    expect(verify(418, good)).to.deep.equal([
      'status 418 is not documented (documented: 200, 400, 404, 409, 413, 415, 429, 500, 503)',
    ]);
    expect(
      verify(
        200,
        good,
        new Headers({ 'content-type': 'text/html', 'x-request-id': 'req-abc-12345678', 'cache-control': 'no-store' }),
      ),
    ).to.deep.equal(['content type "text/html" is not documented (documented: application/json)']);
    expect(
      verify(200, good, new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' })),
    ).to.deep.equal(['header X-Request-Id is required but missing']);
    expect(
      verify(200, good, new Headers({ 'content-type': 'application/json', 'x-request-id': 'req-abc-12345678' })),
    ).to.deep.equal(['header Cache-Control is required but missing']);
    expect(verify(200, good, jsonHeaders({ 'cache-control': 'private, max-age=60' })).join()).to.match(
      /^header Cache-Control "private, max-age=60": .*must be equal to constant/,
    );
    const limited = {
      isSuccess: false,
      statusCode: 429,
      data: null,
      errors: ['Too many requests'],
      errorCode: 'RATE_LIMITED',
      details: { retryAfterSeconds: 42, limits: ['verify-ip-hour'] },
      timestamp: '2026-01-15T10:30:00.000Z',
    };
    expect(verify(429, limited, jsonHeaders({ 'retry-after': '42' }))).to.deep.equal([]);
    expect(verify(429, limited)).to.deep.equal(['header Retry-After is required but missing']);
  });

  it('accepts the CSV export as text/csv without validating it as JSON', () => {
    const res: ObservedResponse = {
      status: 200,
      headers: new Headers({
        'content-type': 'text/csv; charset=utf-8',
        'x-request-id': 'req-abc-12345678',
        'cache-control': 'no-store',
      }),
      text: 'day,signups,registrationsCompleted\r\n',
      body: undefined,
    };
    const v = validateResponse(undefined, 'GET', '/api/v1/analytics/signups?format=csv', res);
    expect(problemsOf(v)).to.deep.equal([]);
    expect(!v.skipped && v.jsonValidated).to.equal(false);
  });
});
