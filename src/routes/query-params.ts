/**
 * express-validator pieces for query strings and path parameters, shared by the routers that take them
 * (`admin.ts`, `users.ts`): a parameter given once, an id in the path, and the `limit` / `cursor` of a
 * paged list (rules in `src/schemas/admin.ts`).
 */
import type { ParamSchema, Schema } from 'express-validator';
import { CURSOR, OBJECT_ID, PAGE_LIMIT } from '../schemas/admin.js';
import { regex } from '../schemas/pattern.js';

const fail = (message: string): never => {
  throw new Error(message);
};

/** A query parameter given at most once, as a string (`?a=1&a=2` arrives as an array), passing `check`. */
export const once = (check: (v: string) => true = () => true): ParamSchema => ({
  optional: true,
  custom: { options: (v: unknown) => (typeof v === 'string' ? check(v) : fail('must be given once, as a string')) },
});

const OBJECT_ID_RE = regex(OBJECT_ID.pattern);
export const isObjectId = (v: string): boolean => OBJECT_ID_RE.test(v);

/** A path parameter that is an id (24 lower-case hex digits). */
export const pathId = (): ParamSchema => ({
  in: ['params'],
  custom: { options: (v: unknown) => (typeof v === 'string' && isObjectId(v) ? true : fail(OBJECT_ID.message)) },
});

const CURSOR_RE = regex(CURSOR.pattern);

/** `limit` and `cursor` of a paged list. */
export const pageParams: Schema = {
  limit: once((v) =>
    /^\d{1,3}$/.test(v) && Number(v) >= PAGE_LIMIT.min && Number(v) <= PAGE_LIMIT.max
      ? true
      : fail(`must be an integer from ${PAGE_LIMIT.min} to ${PAGE_LIMIT.max}`),
  ),
  cursor: once((v) => (CURSOR_RE.test(v) ? true : fail(CURSOR.message))),
};

/** The validated `limit` (default 20) and `cursor` of a request that went through `pageParams`. */
export function pageOf(data: Record<string, unknown>): { limit: number; cursor?: string } {
  return {
    limit: data.limit === undefined ? PAGE_LIMIT.default : Number(data.limit),
    ...(data.cursor ? { cursor: data.cursor as string } : {}),
  };
}
