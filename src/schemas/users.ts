/**
 * The request rules of the users routes, written once: `src/routes/users.ts` and `src/services/users.ts`
 * (the checks) and `src/routes/users.openapi.ts` (the document) all read them, so a rule changed here changes both.
 */

/** A stored username: lower-case, 3–30 characters of `a-z 0-9 . _`, not starting or ending with `.`. */
export const USERNAME = {
  pattern: '^(?!\\.)[a-z0-9._]{3,30}(?<!\\.)$',
  /** What a request may send: any case (it is lower-cased before the stored rule applies). */
  inputPattern: '^(?!\\.)[A-Za-z0-9._]{3,30}(?<!\\.)$',
  message: 'must be 3-30 characters of a-z 0-9 . _, not starting or ending with .',
  reservedMessage: 'is reserved',
} as const;

/** Names no user may take (compared lower-cased). */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'root',
  'api',
  'support',
  'allmine',
  'help',
  'system',
  'sys',
  'moderator',
  'mod',
  'staff',
  'official',
  'security',
  'abuse',
  'postmaster',
  'webmaster',
  'hostmaster',
  'info',
  'contact',
  'me',
  'user',
  'users',
  'account',
  'accounts',
  'settings',
  'login',
  'logout',
  'signup',
  'register',
  'auth',
  'oauth',
  'www',
  'mail',
  'email',
  'null',
  'undefined',
  'anonymous',
  'everyone',
  'here',
  'dashboard',
  'docs',
  'status',
  'team',
  'billing',
  'payments',
  'privacy',
  'terms',
  'legal',
]);

/** A social handle (`instagram`, `x`, `tiktok`, `snapchat`, `facebook`): a leading `@` is accepted and dropped. */
export const HANDLE = {
  inputPattern: '^@?[A-Za-z0-9._-]{1,50}$',
  /** As stored and returned (without the `@`). */
  pattern: '^[A-Za-z0-9._-]{1,50}$',
  message: 'must be a handle of 1-50 characters of A-Z a-z 0-9 . _ -',
} as const;

/**
 * `UTC`, or `UTC±HH:MM` in quarter hours from UTC-12:00 to UTC+14:00: the profile's `timezone` and the
 * `X-Timezone` header. The server checks it with `parseTimezone` (src/middleware/client-headers.ts).
 */
export const TIMEZONE = {
  pattern: '^UTC(?:\\+(?:(?:0\\d|1[0-3]):(?:00|15|30|45)|14:00)|-(?:(?:0\\d|11):(?:00|15|30|45)|12:00))?$',
  message: 'must be UTC or UTC±HH:MM between UTC-12:00 and UTC+14:00',
} as const;

/** Character ranges (`charLength`, trimmed) of the free-text fields, and the limits of the lists and URLs. */
export const PROFILE_LENGTHS = {
  name: { min: 1, max: 50 },
  surname: { min: 1, max: 50 },
  bio: { min: 0, max: 500 },
  /** `privacyPolicyVersion`, `termsOfUseVersion`, `consentFormVersion`. */
  version: { min: 1, max: 20 },
  interests: { maxItems: 20, maxLength: 40 },
  profilePhoto: { max: 2048 },
} as const;
