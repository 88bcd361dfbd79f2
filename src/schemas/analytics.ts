/**
 * The request rules of the analytics routes, written once: `src/routes/analytics.ts` (the query checks) and
 * `src/routes/analytics.openapi.ts` (the document) both read them.
 */

/** The `source` / `campaign` filters: an attribution value, or `(none)` for users without one. */
export const ATTRIBUTION_FILTER = {
  pattern: '^[A-Za-z0-9._()-]{1,64}$',
  message: 'must be 1-64 characters of A-Z a-z 0-9 . _ - ( )',
} as const;

/** The longest report range, in days (`from` to `to`, both included). */
export const MAX_RANGE_DAYS = 366;
