/**
 * What the worker records. Each is keyed so that processing a job twice
 * inserts nothing the second time: one attribution and one registration
 * completion per user, one login event per session.
 *
 * The facts the reports count are also counted in rollup cells (src/services/rollups.ts); `applying` is set
 * while that happens.
 */
import { model, Schema } from 'mongoose';

/** Set while the fact is being counted in its rollup cells, unset once it is (src/services/rollups.ts). */
export const rollupFields = {
  applying: { type: Boolean },
  /** The job attempt counting it (`<queue>:<jobId>#<attemptsMade>`) and since when. */
  applyingBy: { type: String },
  applyingSince: { type: Date },
};

const signupAttributionSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true }, // the user's id
    source: { type: String, required: true }, // '(none)' when the signup had none
    campaign: { type: String, required: true },
    country: { type: String, default: null },
    platform: { type: String, default: null },
    medium: { type: String }, // '(none)' when the signup had none; absent on facts recorded before it existed
    clickIdType: { type: String }, // gclid, fbclid, ttclid, other; absent without a click id
    /** UTC day of the signup, `YYYY-MM-DD`, for per-day reports. */
    day: { type: String, required: true },
    signedUpAt: { type: Date, required: true },
    recordedAt: { type: Date, required: true },
    ...rollupFields,
  },
  { collection: 'signup_attributions', versionKey: false },
);
signupAttributionSchema.index({ day: 1, source: 1, campaign: 1 });
export const SignupAttribution = model('SignupAttribution', signupAttributionSchema);

const loginEventSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true }, // the session's id
    userId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    ip: { type: String, default: null },
    platform: { type: String, default: null },
    deviceId: { type: String, default: null },
    appVersion: { type: String, default: null },
    userAgent: { type: String, default: null },
  },
  { collection: 'login_events', versionKey: false },
);
loginEventSchema.index({ userId: 1, at: -1 });
export const LoginEvent = model('LoginEvent', loginEventSchema);

const registrationCompletionSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true }, // the user's id
    /** The user's signup facts, copied so cohort reports (by signup day) need no join. */
    signupDay: { type: String, required: true },
    source: { type: String, required: true },
    campaign: { type: String, required: true },
    country: { type: String, default: null },
    platform: { type: String, default: null },
    medium: { type: String },
    /** The signup instant: the rollups bucket completions by the signup's quarter hour. */
    signedUpAt: { type: Date },
    /** UTC day of the completion, `YYYY-MM-DD`. */
    day: { type: String, required: true },
    completedAt: { type: Date, required: true },
    recordedAt: { type: Date, required: true },
    ...rollupFields,
  },
  { collection: 'registration_completions', versionKey: false },
);
registrationCompletionSchema.index({ signupDay: 1, source: 1, campaign: 1 });
export const RegistrationCompletion = model('RegistrationCompletion', registrationCompletionSchema);

/**
 * The funnel steps that have no table of their own: `otp-sent`, `otp-verified`
 * (one per code) and `login` (one per session). No personal data: a calling
 * code, a platform, and the request's attribution.
 */
const funnelEventSchema = new Schema(
  {
    _id: { type: String, required: true }, // `<step>-<codeId>` or `login-<sessionId>`
    step: { type: String, required: true, enum: ['otp-sent', 'otp-verified', 'login'] },
    day: { type: String, required: true },
    at: { type: Date, required: true },
    channel: { type: String, default: null },
    country: { type: String, default: null },
    platform: { type: String, default: null },
    source: { type: String, default: null },
    campaign: { type: String, default: null },
    medium: { type: String, default: null },
    ...rollupFields,
  },
  { collection: 'funnel_events', versionKey: false },
);
funnelEventSchema.index({ step: 1, day: 1, source: 1, campaign: 1 });
export const FunnelEvent = model('FunnelEvent', funnelEventSchema);
