/**
 * Every model of the app. Importing this module registers them on the
 * default mongoose connection; `registerModels()` makes that dependency
 * explicit for entry points that only need the registry (the index setup).
 */
import { AccountFinalization, UsernameClaim } from './account.js';
import { AuditEvent } from './audit-event.js';
import { FunnelEvent, LoginEvent, RegistrationCompletion, SignupAttribution } from './analytics.js';
import { Outbox } from './outbox.js';
import { OtpCode } from './otp-code.js';
import { RefreshToken, RefreshTokenUse } from './refresh-token.js';
import { AnalyticsDaySummary, AnalyticsRollup, AnalyticsRollupDay, AnalyticsSpend, RetentionReturn } from './rollup.js';
import { Session } from './session.js';
import { User } from './user.js';

export const MODELS = [
  User,
  OtpCode,
  Session,
  RefreshToken,
  RefreshTokenUse,
  SignupAttribution,
  LoginEvent,
  RegistrationCompletion,
  UsernameClaim,
  AccountFinalization,
  FunnelEvent,
  Outbox,
  AuditEvent,
  AnalyticsRollup,
  AnalyticsRollupDay,
  AnalyticsDaySummary,
  RetentionReturn,
  AnalyticsSpend,
] as const;

export function registerModels(): typeof MODELS {
  return MODELS;
}
