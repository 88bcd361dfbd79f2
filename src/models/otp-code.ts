/**
 * One-time codes. Only an HMAC of the code is stored. The latest unexpired
 * code of a subject is the only usable one, so sending a new code replaces
 * the previous one. Single use and the attempt limit are enforced with
 * inserts into `otp_attempts` (see `src/services/otp.ts`), because inserts
 * into a unique index are atomic on every server we run on.
 */
import { model, Schema, type Types } from 'mongoose';

const otpCodeSchema = new Schema(
  {
    /** `phone:+905551234567` or `email:user@example.com`. */
    subject: { type: String, required: true },
    codeHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    isTestNumber: { type: Boolean, default: false },
  },
  { collection: 'otp_codes', versionKey: false },
);
// Latest first; `_id` breaks ties between codes issued in the same millisecond.
otpCodeSchema.index({ subject: 1, createdAt: -1, _id: -1 });
otpCodeSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 3600 });

export const OtpCode = model('OtpCode', otpCodeSchema);

const otpAttemptSchema = new Schema(
  {
    /** `<codeId>:ok` for the one accepted attempt (unique), a random id for a wrong one. */
    _id: { type: String, required: true },
    codeId: { type: Schema.Types.ObjectId, required: true },
    ok: { type: Boolean, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'otp_attempts', versionKey: false },
);
otpAttemptSchema.index({ codeId: 1 });
otpAttemptSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 3600 });

export const OtpAttempt = model('OtpAttempt', otpAttemptSchema);
export type OtpCodeId = Types.ObjectId;
