/**
 * What a request says about its client (docs/api.md#client-headers): the type services take, and the
 * values its enumerated fields may have. Parsed from the headers by `src/middleware/client-headers.ts`.
 */

export const PLATFORMS = ['web', 'mobile_ios', 'mobile_android', 'admin', 'api', 'unknown', 'all'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const LANGUAGES = ['en', 'tr'] as const;

export interface ClientInfo {
  language: (typeof LANGUAGES)[number];
  /** `UTC`, or `UTC±HH:MM` from -12:00 to +14:00. */
  timezone: string;
  /** Whether the client sent a valid X-Timezone (the default is not stored on a new user). */
  timezoneGiven: boolean;
  platform: Platform;
  appVersion: string | null;
  deviceId: string | null;
  userAgent: string | null;
  ip: string | null;
}
