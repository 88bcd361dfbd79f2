/**
 * Typed raw-driver access to the collections the app writes through the driver (`Model.collection`) rather
 * than through mongoose documents (docs/architecture.md#mongoose-documents-or-the-driver). Mongoose's inferred
 * schema types make every `_id` an ObjectId; these document interfaces say what is really stored (a string
 * `_id` where it is one), so filters and inserts type-check without casts. The models stay the one source of
 * schemas and indexes; each accessor is the model's own collection, typed.
 */
import type { mongo, Types } from 'mongoose';
import { AccountFinalization, UsernameClaim } from './account.js';
import { FunnelEvent, LoginEvent, RegistrationCompletion, SignupAttribution } from './analytics.js';
import { OtpCode } from './otp-code.js';
import { Outbox } from './outbox.js';
import { RefreshToken, RefreshTokenUse } from './refresh-token.js';
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
export interface SignupAttributionDoc {
  _id: Types.ObjectId;
  source: string;
  campaign: string;
  country: string | null;
  platform: string | null;
  day: string;
  signedUpAt: Date;
  recordedAt: Date;
}

/** `registration_completions`: one per user, by the user's id. */
export interface RegistrationCompletionDoc {
  _id: Types.ObjectId;
  signupDay: string;
  source: string;
  campaign: string;
  country: string | null;
  platform: string | null;
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
export interface FunnelEventDoc {
  _id: string;
  step: 'otp-sent' | 'otp-verified' | 'login';
  day: string;
  at: Date;
  channel: string | null;
  country: string | null;
  platform: string | null;
  source: string | null;
  campaign: string | null;
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
export const sessions = () => typed<SessionDoc>(Session);
export const users = () => typed<UserDoc>(User);
