/**
 * Typed raw-driver access to the collections the app writes through the driver (`Model.collection`) rather
 * than through mongoose documents (docs/architecture.md#mongoose-documents-or-the-driver). Mongoose's inferred
 * schema types make every `_id` an ObjectId; these document interfaces say what is really stored (a string
 * `_id` where it is one), so filters and inserts type-check without casts. The models stay the one source of
 * schemas and indexes; each accessor is the model's own collection, typed.
 */
import type { mongo, Types } from 'mongoose';
import { AccountFinalization, UsernameClaim } from './account.js';
import { AuditEvent, type ActorKind, type AuditType } from './audit-event.js';
import { FunnelEvent, LoginEvent, RegistrationCompletion, SignupAttribution } from './analytics.js';
import { OtpCode } from './otp-code.js';
import { Outbox } from './outbox.js';
import { RefreshToken, RefreshTokenUse } from './refresh-token.js';
import { AnalyticsDaySummary, AnalyticsRollup, AnalyticsRollupDay, AnalyticsSpend, RetentionReturn } from './rollup.js';
import { Session, type SessionRecord } from './session.js';
import { User, type UserRecord } from './user.js';

type Collection<T extends mongo.Document> = mongo.Collection<T>;

/** `otp_codes`: one code per subject. */
export interface OtpCodeDoc {
  /** The subject: `phone:+905551234567` or `email:user@example.com`. */
  _id: string;
  codeId: Types.ObjectId;
  codeHash: string;
  createdAt: Date;
  expiresAt: Date;
  attempts: number;
  isTestNumber: boolean;
  /** SHA-256 of the `verificationId` of a bound code; null (or absent, before binding existed) otherwise. */
  verificationHash?: string | null;
}

/** `outbox`: one document per request, its events still to deliver. */
export interface OutboxDoc {
  /** The first event's job id. */
  _id: string;
  events: { queue: string; jobId: string; data: Record<string, unknown> }[];
  createdAt: Date;
  expiresAt: Date;
}

/** `refresh_tokens`: one per token issued, by the token's hash. */
export interface RefreshTokenDoc {
  /** SHA-256 of the token. */
  _id: string;
  sessionId: Types.ObjectId;
  userId: Types.ObjectId;
  parentId: string | null;
  issuedAt: Date;
  expiresAt: Date;
}

/** `refresh_token_uses`: the first use of a refresh token, by the token's hash. */
export interface RefreshTokenUseDoc {
  _id: string;
  at: Date;
  expiresAt: Date;
}

/** `username_claims`: the lower-cased username, held by one user. */
export interface UsernameClaimDoc {
  _id: string;
  userId: Types.ObjectId;
  claimedAt: Date;
}

/** `account_finalizations`: an account erased, at most once, by the user's id. */
export interface AccountFinalizationDoc {
  _id: Types.ObjectId;
  at: Date;
  by: string;
}

/** `signup_attributions`: one per user, by the user's id. */
export interface SignupAttributionDoc extends RollupFields {
  _id: Types.ObjectId;
  source: string;
  campaign: string;
  country: string | null;
  platform: string | null;
  medium?: string;
  clickIdType?: string;
  day: string;
  signedUpAt: Date;
  recordedAt: Date;
}

/** `registration_completions`: one per user, by the user's id. */
export interface RegistrationCompletionDoc extends RollupFields {
  _id: Types.ObjectId;
  signupDay: string;
  source: string;
  campaign: string;
  country: string | null;
  platform: string | null;
  medium?: string;
  signedUpAt?: Date;
  day: string;
  completedAt: Date;
  recordedAt: Date;
}

/** `login_events`: one per session, by the session's id. */
export interface LoginEventDoc {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  at: Date;
  ip: string | null;
  platform: string | null;
  deviceId: string | null;
  appVersion: string | null;
  userAgent: string | null;
}

/** `funnel_events`: one per code sent or verified and per login, by `<step>-<codeId>` / `login-<sessionId>`. */
export interface FunnelEventDoc extends RollupFields {
  _id: string;
  step: 'otp-sent' | 'otp-verified' | 'login';
  day: string;
  at: Date;
  channel: string | null;
  country: string | null;
  platform: string | null;
  source: string | null;
  campaign: string | null;
  medium?: string | null;
}

/** Set while a fact is being counted in its rollup cells (src/services/rollups.ts). */
export interface RollupFields {
  applying?: boolean;
  applyingBy?: string;
  applyingSince?: Date;
}

/** `analytics_rollups`: one per kind, grain, UTC day and cell (src/services/rollups.ts). */
export interface AnalyticsRollupDoc {
  _id: string;
  kind: string;
  /** `f` (every dimension) or `m` (source, campaign, medium). */
  grain: string;
  day: string;
  /** Per counter: the day's total. */
  c: Record<string, number>;
  /** The same per hour of the UTC day (`0`-`23`). */
  h: Record<string, Record<string, number>>;
  /** The same per quarter hour of the UTC day (`0`-`95`). */
  q: Record<string, Record<string, number>>;
  /** Markers of the facts being counted. */
  p?: Record<string, 1>;
  /** The rebuild that wrote it. */
  g?: string;
}

/** `analytics_rollup_days`: the cells of a kind, grain and UTC day. */
export interface AnalyticsRollupDayDoc {
  _id: string;
  kind: string;
  grain: string;
  day: string;
  cells: Record<string, 1>;
  g?: string;
}

/** `analytics_day_summaries`: a closed UTC day's cells in one document (src/models/rollup.ts). */
export interface AnalyticsDaySummaryDoc {
  _id: string;
  kind: string;
  grain: string;
  day: string;
  /** Bumped by every fact counted in the day after it closed; the sealer writes only over the gen it read. */
  gen: number;
  /** True until sealed, and again once a fact is counted in the day after that. */
  stale: boolean;
  /** Per cell: the day's counters. */
  c?: Record<string, Record<string, number>>;
  /** Per hour of the UTC day, per cell. */
  h?: Record<string, Record<string, Record<string, number>>>;
  /** Per quarter hour of the UTC day, per cell. */
  q?: Record<string, Record<string, Record<string, number>>>;
  /** How many cells it holds. */
  cells?: number;
  /** The day has more cells than a summary holds: the reports read its cells. */
  large?: boolean;
  sealedAt?: Date;
}

/** `retention_returns`: a user back on day 1, 7 or 30 after signup, by `<userId>:<n>`. */
export interface RetentionReturnDoc extends RollupFields {
  _id: string;
  n: number;
  signedUpAt: Date;
  source: string;
  campaign: string;
  medium: string;
  country: string | null;
  platform: string | null;
  at: Date;
}

/** `analytics_spend`: one per day, source, campaign and currency. */
export interface AnalyticsSpendDoc {
  _id: string;
  day: string;
  source: string;
  campaign: string;
  currency: string;
  amount4: number;
  uploadedAt: Date;
}

/** `audit_events`: one per fact, by a deterministic id (worker) or a fresh one (admin API). */
export interface AuditEventDoc {
  _id: string;
  type: AuditType;
  at: Date;
  actorKind: ActorKind;
  actorId: Types.ObjectId | null;
  actorRoles: string[];
  targetUserId: Types.ObjectId | null;
  sessionId: Types.ObjectId | null;
  reqId: string | null;
  ip: string | null;
  userAgent: string | null;
  platform: string | null;
  deviceId: string | null;
  appVersion: string | null;
  reason: string | null;
  count: number | null;
  attempts?: number[];
  details: Record<string, unknown> | null;
  expiresAt: Date;
}

export type SessionDoc = SessionRecord;
export type UserDoc = UserRecord;

const typed = <T extends mongo.Document>(model: { collection: unknown }) => model.collection as Collection<T>;

export const otpCodes = () => typed<OtpCodeDoc>(OtpCode);
export const outbox = () => typed<OutboxDoc>(Outbox);
export const refreshTokens = () => typed<RefreshTokenDoc>(RefreshToken);
export const refreshTokenUses = () => typed<RefreshTokenUseDoc>(RefreshTokenUse);
export const usernameClaims = () => typed<UsernameClaimDoc>(UsernameClaim);
export const accountFinalizations = () => typed<AccountFinalizationDoc>(AccountFinalization);
export const signupAttributions = () => typed<SignupAttributionDoc>(SignupAttribution);
export const registrationCompletions = () => typed<RegistrationCompletionDoc>(RegistrationCompletion);
export const loginEvents = () => typed<LoginEventDoc>(LoginEvent);
export const funnelEvents = () => typed<FunnelEventDoc>(FunnelEvent);
export const analyticsRollups = () => typed<AnalyticsRollupDoc>(AnalyticsRollup);
export const analyticsRollupDays = () => typed<AnalyticsRollupDayDoc>(AnalyticsRollupDay);
export const analyticsDaySummaries = () => typed<AnalyticsDaySummaryDoc>(AnalyticsDaySummary);
export const retentionReturns = () => typed<RetentionReturnDoc>(RetentionReturn);
export const analyticsSpend = () => typed<AnalyticsSpendDoc>(AnalyticsSpend);
export const auditEvents = () => typed<AuditEventDoc>(AuditEvent);
export const sessions = () => typed<SessionDoc>(Session);
export const users = () => typed<UserDoc>(User);
