/**
 * express-validator glue: runs a body schema, refuses unknown fields, and
 * turns every problem into one `field: message` entry after
 * `Validation failed`. Handlers then read only `matchedData()`.
 */
import type { RequestHandler } from 'express';
import {
  body,
  checkExact,
  checkSchema,
  validationResult,
  type ContextRunner,
  type Schema,
  type ValidationError,
} from 'express-validator';
import { badRequest } from '../lib/errors.js';
import { AUTH_LENGTHS } from '../schemas/auth.js';

function describe(e: ValidationError): string[] {
  switch (e.type) {
    case 'field':
      return [`${e.path}: ${String(e.msg)}`];
    case 'unknown_fields':
      return e.fields.map((f) => `${f.path}: ${f.location === 'query' ? 'unknown query parameter' : 'unknown field'}`);
    default:
      return [String(e.msg)];
  }
}

const report: RequestHandler = (req, _res, next) => {
  const result = validationResult(req);
  if (!result.isEmpty()) {
    const messages = [...new Set(result.array({ onlyFirstError: true }).flatMap(describe))];
    throw badRequest(messages);
  }
  next();
};

/**
 * Checks the JSON body (and path parameters the schema names with `in: ['params']`), in one middleware. A
 * check that cannot have an effect is not run: an optional body field absent from the body (its chain would
 * stop at `optional` and match nothing), and the unknown-field check of a body whose every key is a field of
 * the schema (that check reports keys, not values nested under a known one, which the field's own chain
 * refuses). Consecutive `requiredString` fields run as one chain over their paths, each path with its own
 * check: the same checks and messages, in the same order, but one field selection and one pass per item for
 * all of them (the phone login's three fields cost half as much). The verify body has a dozen optional fields,
 * most of them absent: running each chain costs promises and lodash path walks on the hottest route.
 */
export function validateBody(schema: Schema): RequestHandler[] {
  // Each field's own chain, made here; a run of `requiredString` fields collects its checks, chained below.
  const steps: { key: string; skippable: boolean; chain?: Runner; required?: Map<string, RequiredCheck> }[] = [];
  const bodyKeys = new Set<string>();
  for (const [key, field] of Object.entries(schema)) {
    const plainBodyField = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && field.in === undefined;
    if (plainBodyField) bodyKeys.add(key);
    const check = plainBodyField ? requiredChecks.get(field) : undefined;
    const last = steps.at(-1);
    if (check && last?.required) last.required.set(key, check);
    else if (check) steps.push({ key, skippable: false, required: new Map([[key, check]]) });
    else
      steps.push({
        key,
        skippable: plainBodyField && !!field.optional,
        chain: checkSchema({ [key]: field }, ['body']),
      });
  }
  const chains = steps.map((s) => ({ ...s, chain: s.chain ?? requiredChain(s.required!) }));
  // Unknown fields are looked for in the body (path parameters are the route's own). With no field at all in
  // the schema, as checkExact does by default, in the query string too.
  const exact = checkExact([], { message: 'unknown field', locations: steps.length > 0 ? ['body'] : undefined });
  const run: RequestHandler = async (req, res, next) => {
    const body: unknown = req.body;
    // A JSON body that is an array or a scalar is not an object we can read fields from.
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw badRequest(['body: must be a JSON object']);
    }
    const present = (key: string) => body !== undefined && Object.hasOwn(body, key);
    for (const f of chains) if (!f.skippable || present(f.key)) await f.chain.run(req);
    const known = body === undefined || Object.keys(body).every((k) => bodyKeys.has(k));
    if (steps.length === 0 || !known) await exact.run(req);
    report(req, res, next);
  };
  return [run];
}

/**
 * Checks the query string (and path parameters the schema names with `in: ['params']`): an unknown
 * parameter is `<name>: unknown query parameter`. A parameter given twice arrives as an array: the
 * schema's checks must refuse what is not a string.
 */
export function validateQuery(schema: Schema): RequestHandler[] {
  return [...checkSchema(schema, ['query']), checkExact([], { message: 'unknown query parameter' }), report];
}

/**
 * The length of a string in characters (Unicode code points), as JSON Schema's `minLength` and
 * `maxLength` count it, so every limit the OpenAPI document states is the limit enforced: not
 * UTF-16 units (`String#length` counts an emoji as 2), nor validator.js's `isLength` (which does
 * not count variation selectors).
 */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Whether `s` has `min` to `max` characters (`charLength`). */
export function charLengthWithin(s: string, min: number, max: number): boolean {
  const n = charLength(s);
  return n >= min && n <= max;
}

type RequiredCheck = (v: unknown) => true;

/** A chain or a schema's chains: what `validateBody` runs against a request. */
type Runner = Pick<ContextRunner, 'run'> | ReturnType<typeof checkSchema>;

/** The check of each field schema `requiredString` made, so that `validateBody` can group them. */
const requiredChecks = new WeakMap<object, RequiredCheck>();

/**
 * A required string field: trimmed, with a length range in characters (`charLength`) and optionally a pattern.
 * The checks are one validator (express-validator runs and awaits each item of a chain on its own, which the
 * login route pays for on every request), with the messages the separate checks gave, first failure first:
 * `is required` (absent or null), `must be a string`, `must be <min>-<max> characters`, then the pattern's
 * message (both of the trimmed value).
 */
export const requiredString = (min: number, max: number, format?: { pattern: RegExp; message: string }) => {
  const check: RequiredCheck = (v) => {
    if (v === undefined || v === null) throw new Error('is required');
    if (typeof v !== 'string') throw new Error('must be a string');
    const trimmed = v.trim();
    if (!charLengthWithin(trimmed, min, max)) throw new Error(`must be ${min}-${max} characters`);
    if (format && !format.pattern.test(trimmed)) throw new Error(format.message);
    return true;
  };
  const field = { custom: { options: check, bail: true }, trim: true };
  requiredChecks.set(field, check);
  return field;
};

/** `requiredString` fields as one chain: the same items as each one's schema, each path checked by its own. */
function requiredChain(checks: Map<string, RequiredCheck>): ContextRunner {
  return body([...checks.keys()])
    .custom((v: unknown, { path }) => checks.get(path)!(v))
    .bail()
    .trim();
}

/**
 * One mailbox, one identity: an e-mail address as stored and compared, trimmed, lower-cased and in Unicode
 * NFC (so `Zoë@…` typed with a combining diaeresis is the same address as with the precomposed letter).
 */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase().normalize('NFC');
}

/**
 * Characters that show as nothing (or as a blank) but make a different string: Unicode Cf (zero-width space
 * and joiners, word joiner, BOM, soft hyphen, bidi controls), the default-ignorable code points outside Cf
 * (Hangul fillers U+115F, U+1160, U+3164, U+FFA0; combining grapheme joiner U+034F; variation selectors
 * U+FE00–U+FE0F and the supplementary ones; Mongolian vowel separator and free variation selectors
 * U+180B–U+180F; Khmer inherent vowels U+17B4, U+17B5; …) and the braille blank U+2800, which is a visible
 * symbol by category (So) but prints as a space.
 */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;

/**
 * Why `raw` cannot be an address we accept, or undefined. Refused: anything that lets two strings name one
 * mailbox, or one string look like another, so they would become two identities: a quoted local part
 * (`"x"@example.com` is `x@example.com` to most servers), invisible and formatting characters (`INVISIBLE`),
 * control characters and spaces.
 * Surrounding whitespace is trimmed, not refused; a BOM is refused even there (`trim` would drop it silently).
 */
export function emailProblem(raw: string): string | undefined {
  if (INVISIBLE.test(raw) || /[\p{Cc}\p{Z}\s]/u.test(raw.trim()))
    return 'must not contain spaces, invisible, formatting or control characters';
  if (raw.includes('"')) return 'must not have a quoted local part';
  if (!charLengthWithin(normalizeEmail(raw), AUTH_LENGTHS.email.min, AUTH_LENGTHS.email.max))
    return `must be ${AUTH_LENGTHS.email.min}-${AUTH_LENGTHS.email.max} characters`;
  return undefined;
}

/** The `email` of the login routes: checked by `emailProblem`, normalized by `normalizeEmail`, then a valid address. */
export const loginEmail = {
  exists: { errorMessage: 'is required', options: { values: 'null' as const } },
  isString: { errorMessage: 'must be a string', bail: true },
  custom: {
    options: (v: string) => {
      const problem = emailProblem(v);
      if (problem) throw new Error(problem);
      return true;
    },
    bail: true,
  },
  customSanitizer: { options: normalizeEmail },
  isEmail: { errorMessage: 'not a valid e-mail address' },
};
