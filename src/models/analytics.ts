/**
 * What the worker records. Each is keyed so that processing a job twice
 * inserts nothing the second time: one attribution and one registration
 * completion per user, one login event per session.
 */
import { model, Schema } from 'mongoose';

const signupAttributionSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true }, // the user's id
    source: { type: String, required: true }, // '(none)' when the signup had none
    campaign: { type: String, required: true },
    country: { type: String, default: null },
    platform: { type: String, default: null },
    /** UTC day of the signup, `YYYY-MM-DD`, for per-day reports. */
    day: { type: String, required: true },
    signedUpAt: { type: Date, required: true },
    recordedAt: { type: Date, required: true },
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
    /** The user's first-touch attribution, copied so reports need no join. */
    source: { type: String, required: true },
    campaign: { type: String, required: true },
    /** UTC day of the completion, `YYYY-MM-DD`. */
    day: { type: String, required: true },
    completedAt: { type: Date, required: true },
    recordedAt: { type: Date, required: true },
  },
  { collection: 'registration_completions', versionKey: false },
);
registrationCompletionSchema.index({ day: 1, source: 1, campaign: 1 });
export const RegistrationCompletion = model('RegistrationCompletion', registrationCompletionSchema);
