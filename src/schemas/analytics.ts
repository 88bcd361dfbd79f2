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

/** `tz` of every report: an IANA zone name (checked against Node's time-zone data as well). */
export const TIME_ZONE = {
  pattern: '^[A-Za-z][A-Za-z0-9_+\\-/]{0,63}$',
  message: 'must be an IANA time zone such as UTC or Europe/Istanbul',
} as const;

/** The dimensions `groupBy` of the retention report takes (the signup day is always grouped). */
export const RETENTION_GROUPS = ['source', 'campaign', 'medium'] as const;

/** One row of a spend upload, field by field. */
export const SPEND_ROW = {
  day: { pattern: '^\\d{4}-\\d{2}-\\d{2}$', message: 'must be a day YYYY-MM-DD' },
  /** A source or campaign as verify-otp records it; `(none)` for spend not tied to one. */
  source: ATTRIBUTION_FILTER,
  campaign: ATTRIBUTION_FILTER,
  amount: {
    pattern: '^\\d{1,12}(\\.\\d{1,4})?$',
    message: 'must be a decimal amount ≥ 0 with at most 4 decimals, such as 120.50',
  },
  currency: { pattern: '^[A-Z]{3}$', message: 'must be an ISO 4217 code such as USD or TRY' },
} as const;
export const SPEND_FIELDS = ['day', 'source', 'campaign', 'amount', 'currency'] as const;

/** The most rows one spend upload takes. */
export const MAX_SPEND_ROWS = 5000;
