/**
 * The request rules of the auth routes, written once: `src/routes/auth.ts` (express-validator) and
 * `src/routes/auth.openapi.ts` (the OpenAPI document) both read them, so a rule changed here changes both.
 * Patterns are strings (JSON Schema has no regex flags); `regex()` of `./pattern.ts` compiles them.
 */

/** `signupSource` / `signupCampaign` of verify-otp, and the user's first-touch attribution. */
export const ATTRIBUTION = {
  pattern: '^[A-Za-z0-9._-]{1,64}$',
  message: 'must be 1-64 characters of A-Z a-z 0-9 . _ -',
} as const;

/**
 * `clickId` of verify-otp: the ad network's click id (gclid, fbclid, ttclid, …), the attribution charset
 * but longer (a gclid runs to about 100 characters); `clickIdType` says which network's it is, and the two
 * come together.
 */
export const CLICK_ID = {
  pattern: '^[A-Za-z0-9._-]{1,256}$',
  message: 'must be 1-256 characters of A-Z a-z 0-9 . _ -',
} as const;
export const CLICK_ID_TYPES = ['gclid', 'fbclid', 'ttclid', 'other'] as const;
export const CLICK_ID_PAIR = { message: 'clickId and clickIdType come together' } as const;

/** The `verificationId` send-otp returns for a bound code (256 random bits, base64url). */
export const VERIFICATION_ID = {
  pattern: '^[A-Za-z0-9_-]{43}$',
  message: 'must be the verificationId send-otp returned',
} as const;

/** The one-time code: exactly `length` digits (`OTP_LENGTH`). */
export const CODE = {
  pattern: (length: number) => `^[0-9]{${length}}$`,
  message: (length: number) => `must be ${length} digits`,
} as const;

/** Lengths in characters (`charLength`): a login e-mail address (after normalizing), the phone number as sent, a refresh token. */
export const AUTH_LENGTHS = {
  email: { min: 3, max: 254 },
  phoneNumber: { min: 1, max: 32 },
  refreshToken: { min: 1, max: 256 },
} as const;
