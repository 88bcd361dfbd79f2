/**
 * The request rules of the admin API and of the paged lists, written once: `src/routes/admin.ts` and
 * `src/routes/users.ts` (the checks) and `src/routes/admin.openapi.ts` (the document) read them.
 */

/** The `reason` every state-changing admin call requires: trimmed, then 3–500 characters. */
export const REASON = { min: 3, max: 500, message: 'must be 3-500 characters (after trimming)' } as const;

/** Paged lists: `limit` items per page (default 20, at most 100), `cursor` from the previous page's `nextCursor`. */
export const PAGE_LIMIT = { min: 1, max: 100, default: 20 } as const;

/** An opaque cursor as the API hands them out (base64url). */
export const CURSOR = { pattern: '^[A-Za-z0-9_-]{1,512}$', message: 'not a cursor this API returned' } as const;

/** The look-up criteria of `GET /api/v1/admin/users`: exactly one per request. */
export const LOOKUP_CRITERIA = ['phone', 'email', 'username', 'id'] as const;
export type LookupCriterion = (typeof LOOKUP_CRITERIA)[number];

/** A user or session id in a path: a MongoDB ObjectId. */
export const OBJECT_ID = { pattern: '^[0-9a-f]{24}$', message: 'must be an id (24 hex digits, lower-case)' } as const;
