/**
 * Checks every response the test suite receives through `request()` of
 * `./http.ts` against the OpenAPI document (`src/openapi/spec.ts`):
 *
 * - the operation is found by method + path (path templates matched the way
 *   Express matches: case-insensitive, optional trailing slash);
 * - the status must be documented for that operation; a request that matches
 *   no operation is checked against the document's `x-unmatched-requests`
 *   (unknown route: 404; known path, other method: 405; either: 400/413/415/500
 *   raised before routing);
 * - required response headers must be present and valid (`X-Request-Id`,
 *   `Retry-After` on 429, `Allow` on 405), present ones valid;
 * - the content type must be one the response documents, and a JSON body must
 *   validate against its schema (ajv, JSON Schema 2020-12 + formats). Non-JSON
 *   bodies (CSV, the dashboard's HTML) are not validated.
 *
 * Responses of apps that serve none of the documented operations (a test's own
 * small Express app) are not the API and are skipped; so are successful or
 * non-JSON responses of the HTML/ops routes (`/dashboard`, `/docs`,
 * `/openapi.json`, `/metrics`, `/admin/queues`), whose JSON errors are checked
 * against the generic `ErrorEnvelope` only.
 *
 * Every violation is recorded; a root `after` hook fails the run with a report.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Express } from 'express';
import {
  buildOpenApiSpec,
  HTTP_METHODS,
  type HeaderObject,
  type HttpMethod,
  type JsonSchema,
  type MediaTypeObject,
  type OpenApiDocument,
  type OperationObject,
  type RefObject,
  type ResponseObject,
} from '../../src/openapi/spec.js';

export const spec: OpenApiDocument = buildOpenApiSpec({ servers: [{ url: 'http://127.0.0.1', description: 'Test' }] });

/** HTML and operations routes the document leaves out on purpose (see its `info.description`). */
export const OPS_ROUTES = ['/dashboard', '/docs', '/openapi.json', '/metrics', '/admin/queues'];

export const isOpsPath = (p: string): boolean => OPS_ROUTES.some((r) => p === r || p.startsWith(`${r}/`));

// ---------------------------------------------------------------------------------------------
// Schemas: the document's component schemas under one $id, `#/components/schemas/X` refs rewritten to it.

const COMPONENTS_ID = 'https://allmine.invalid/openapi/components';

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
          ? `${COMPONENTS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
          : rewriteRefs(v),
      ]),
    );
  }
  return value;
}

// ajv-formats is CommonJS; its default export is `module.exports` under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
) => Ajv2020;

export function createAjv(doc: OpenApiDocument = spec): Ajv2020 {
  // strict: unknown keywords and formats are errors, so a typo in the document cannot silently validate nothing.
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictTuples: false,
    allowUnionTypes: true,
    allErrors: true,
  });
  addFormats(ajv);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(doc.components.schemas) as Record<string, JsonSchema> });
  return ajv;
}

const ajv = createAjv();
const compiled = new WeakMap<object, ValidateFunction>();

export function validatorFor(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(rewriteRefs(schema) as JsonSchema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** Compiles every schema of the document (component schemas, media types, headers, parameters): throws on the first bad one. */
export function compileAll(doc: OpenApiDocument = spec): number {
  const local = createAjv(doc);
  let n = 0;
  const compile = (schema: JsonSchema) => {
    local.compile(rewriteRefs(schema) as JsonSchema);
    n++;
  };
  for (const name of Object.keys(doc.components.schemas)) {
    local.getSchema(`${COMPONENTS_ID}#/$defs/${name}`);
    n++;
  }
  for (const r of Object.values(doc.components.responses))
    for (const m of Object.values(r.content ?? {})) compile(m.schema);
  for (const h of Object.values(doc.components.headers)) compile(h.schema);
  for (const p of Object.values(doc.components.parameters)) compile(p.schema);
  for (const op of operations(doc)) {
    for (const r of Object.values(op.operation.responses))
      for (const m of Object.values(resolve(r, doc).content ?? {})) compile(m.schema);
    for (const m of Object.values(op.operation.requestBody?.content ?? {})) compile(m.schema);
    for (const p of op.operation.parameters) if (!('$ref' in p)) compile(p.schema);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The document's operations and the app's routes.

export interface DocumentedOperation {
  method: HttpMethod;
  path: string;
  operation: OperationObject;
}

export function operations(doc: OpenApiDocument = spec): DocumentedOperation[] {
  const out: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) out.push({ method, path, operation });
    }
  }
  return out;
}

export function resolve<T extends ResponseObject | HeaderObject>(value: T | RefObject, doc: OpenApiDocument = spec): T {
  if (!('$ref' in value)) return value;
  const m = /^#\/components\/(responses|headers)\/(.+)$/.exec(value.$ref);
  const target = m ? (doc.components[m[1] as 'responses' | 'headers'] as Record<string, unknown>)[m[2]!] : undefined;
  if (!target) throw new Error(`unresolvable $ref ${value.$ref}`);
  return target as T;
}

export interface AppRoute {
  method: string;
  /** OpenAPI style: `:param` becomes `{param}`. */
  path: string;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

/**
 * The routes an Express 5 app serves, from its router stack: route layers carry `route.path` and
 * `route.methods` (`_all` is `defineRoute`'s 405 catch-all, not a method); routers mounted with
 * `app.use([path,] router)` carry their own `handle.stack`, under `rawPath` unless mounted at `/`.
 */
export function appRoutes(app: Express): AppRoute[] {
  const out: AppRoute[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = (Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]).filter(
          (p): p is string => typeof p === 'string',
        );
        for (const p of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on && method !== '_all')
              out.push({ method: method.toLowerCase(), path: toTemplate(joinPath(prefix, p)) });
          }
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && !layer.slash ? layer.rawPath : '';
        walk(layer.handle.stack, joinPath(prefix, mount));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

const joinPath = (a: string, b: string) => (a + b).replace(/\/{2,}/g, '/') || '/';
const toTemplate = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Whether a concrete path matches a template, the way Express matches (case-insensitive, optional trailing slash). */
export function matchesTemplate(template: string, path: string): boolean {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`, 'i').test(path);
}

/** Any error of an HTML/ops route: the generic envelope, with the request id. */
const OPS_ERROR: ResponseObject = {
  description: 'An error of an HTML/ops route',
  headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
};

const documentedPathOf = (path: string) => Object.keys(spec.paths).find((t) => matchesTemplate(t, path));

const routesOfApp = new WeakMap<Express, AppRoute[]>();
function routesOf(app: Express): AppRoute[] {
  let routes = routesOfApp.get(app);
  if (!routes) {
    routes = appRoutes(app);
    routesOfApp.set(app, routes);
  }
  return routes;
}

/** A test's own small app serves none of the documented operations: its responses are not the API's. */
const servesTheApi = (app: Express) => routesOf(app).some((r) => r.path in spec.paths);

// ---------------------------------------------------------------------------------------------
// Checking one response.

export interface ObservedResponse {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

export interface Violation {
  request: string;
  status: number;
  /** The operation (or the unmatched-request class) the response was checked against. */
  against: string;
  problems: string[];
  body: string;
  /** The test that made the request (or a hook, outside any test). */
  test: string;
}

export const violations: Violation[] = [];
let currentTest: string | undefined;
export const stats = { responses: 0, checked: 0, jsonBodiesValidated: 0, skipped: 0 };

type Verdict =
  { skipped: true; reason: string } | { skipped: false; against: string; problems: string[]; jsonValidated: boolean };

const describeErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map(
    (e) =>
      `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? `: ${String(e.params.additionalProperty)}` : ''}${e.keyword === 'const' || e.keyword === 'enum' ? ` ${JSON.stringify(e.params)}` : ''}`,
  );

function checkAgainst(
  responses: Record<string, ResponseObject | RefObject>,
  against: string,
  res: ObservedResponse,
  method: string,
): Verdict {
  const documented = responses[String(res.status)];
  if (!documented) {
    return {
      skipped: false,
      against,
      problems: [`status ${res.status} is not documented (documented: ${Object.keys(responses).join(', ')})`],
      jsonValidated: false,
    };
  }
  const response = resolve(documented);
  const problems: string[] = [];

  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const header = resolve(h);
    const value = res.headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`header ${name} is required but missing`);
      continue;
    }
    const typed =
      header.schema.type === 'integer' || header.schema.type === 'number'
        ? /^-?\d+(\.\d+)?$/.test(value)
          ? Number(value)
          : value
        : value;
    const validate = validatorFor(header.schema);
    if (!validate(typed)) problems.push(`header ${name} "${value}": ${describeErrors(validate.errors).join('; ')}`);
  }

  let jsonValidated = false;
  const content = response.content ?? {};
  if (method !== 'HEAD' && Object.keys(content).length > 0) {
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const media: MediaTypeObject | undefined = content[contentType];
    if (!res.text) problems.push(`an empty body; documented: ${Object.keys(content).join(', ')}`);
    else if (!media)
      problems.push(`content type "${contentType}" is not documented (documented: ${Object.keys(content).join(', ')})`);
    else if (contentType === 'application/json' || contentType.endsWith('+json')) {
      if (res.body === undefined) problems.push('the body is not valid JSON');
      else {
        const validate = validatorFor(media.schema);
        jsonValidated = true;
        if (!validate(res.body)) problems.push(...describeErrors(validate.errors).map((e) => `body ${e}`));
      }
    }
  }
  return { skipped: false, against, problems, jsonValidated };
}

/** Checks one response; returns what it found without recording it. */
export function validateResponse(
  app: Express | undefined,
  rawMethod: string,
  url: string,
  res: ObservedResponse,
): Verdict {
  const method = rawMethod.toUpperCase();
  const path = new URL(url, 'http://localhost').pathname;
  const template = documentedPathOf(path);
  if (template) {
    const item = spec.paths[template]!;
    const op = item[method.toLowerCase() as HttpMethod] ?? (method === 'HEAD' ? item.get : undefined);
    if (op) return checkAgainst(op.responses, `${method === 'HEAD' ? 'GET' : method} ${template}`, res, method);
    return checkAgainst(
      spec['x-unmatched-requests'].wrongMethod,
      `wrong method on ${template} (x-unmatched-requests.wrongMethod)`,
      res,
      method,
    );
  }
  const isJson = /^application\/json/i.test(res.headers.get('content-type') ?? '');
  if (isOpsPath(path)) {
    // Pages, files and ops endpoints are not in the document, but their errors are still the envelope (docs/api.md#the-envelope).
    if (res.status < 400 || !isJson) return { skipped: true, reason: `${path} is an HTML/ops route` };
    return checkAgainst({ [String(res.status)]: OPS_ERROR }, `an HTML/ops route's error (ErrorEnvelope)`, res, method);
  }
  if (app && !servesTheApi(app)) return { skipped: true, reason: 'a test’s own app, not the API' };
  if (app && routesOf(app).some((r) => matchesTemplate(r.path, path))) {
    return {
      skipped: false,
      against: 'no operation',
      problems: [`the app serves ${path}, but the document has no such path`],
      jsonValidated: false,
    };
  }
  return checkAgainst(
    spec['x-unmatched-requests'].unknownRoute,
    'unknown route (x-unmatched-requests.unknownRoute)',
    res,
    method,
  );
}

/** Called by `request()` of `./http.ts` for every response; never throws. */
export function checkResponse(app: Express | undefined, method: string, url: string, res: ObservedResponse): void {
  stats.responses++;
  let verdict: Verdict;
  try {
    verdict = validateResponse(app, method, url, res);
  } catch (err) {
    verdict = {
      skipped: false,
      against: 'the checker',
      problems: [`the check failed: ${(err as Error).stack ?? String(err)}`],
      jsonValidated: false,
    };
  }
  if (verdict.skipped) {
    stats.skipped++;
    return;
  }
  stats.checked++;
  if (verdict.jsonValidated) stats.jsonBodiesValidated++;
  if (verdict.problems.length > 0) {
    violations.push({
      request: `${method.toUpperCase()} ${url}`,
      status: res.status,
      against: verdict.against,
      problems: verdict.problems,
      body: res.text.length > 400 ? `${res.text.slice(0, 400)}…` : res.text,
      test: currentTest ?? '(a hook, outside any test)',
    });
  }
}

/** A readable report of the recorded violations, identical ones folded; `undefined` when there are none. */
export function violationReport(): string | undefined {
  if (violations.length === 0) return undefined;
  const groups = new Map<string, { v: Violation; count: number }>();
  for (const v of violations) {
    const key = `${v.against}|${v.status}|${v.problems.join('|')}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { v, count: 1 });
  }
  const lines = [
    `${violations.length} of ${stats.checked} checked responses do not match the OpenAPI document (src/openapi/spec.ts):`,
  ];
  let i = 0;
  for (const { v, count } of groups.values()) {
    lines.push(
      `  ${++i}. ${v.request} → ${v.status}, checked against ${v.against}${count > 1 ? ` (${count} times)` : ''}`,
    );
    for (const p of v.problems) lines.push(`       - ${p}`);
    lines.push(`       body: ${v.body}`);
    lines.push(`       in: ${v.test}`);
  }
  return lines.join('\n');
}

// Root hooks: registered when mocha loads this module with its globals (through ./http.ts).
if (typeof beforeEach === 'function' && typeof afterEach === 'function') {
  beforeEach(function () {
    currentTest = this.currentTest?.fullTitle();
  });
  afterEach(() => {
    currentTest = undefined;
  });
}
if (typeof after === 'function') {
  after('every response matches the OpenAPI document', function () {
    const summary = `openapi: ${stats.responses} responses seen, ${stats.checked} checked (${stats.jsonBodiesValidated} JSON bodies validated), ${stats.skipped} skipped, ${violations.length} violations`;
    console.log(`\n  ${summary}`);
    const report = violationReport();
    if (report) throw new Error(report);
  });
}
