/**
 * One-time codes: one document per subject (`_id` is the subject), so sending
 * a new code replaces the previous one and every lookup goes by `_id`. Only an
 * HMAC of the code is stored. Single use and the attempt limit are atomic
 * updates of this one document (see `src/services/otp.ts`):
 * - an attempt is counted by `$inc` under `attempts < max`;
 * - the accepted attempt deletes the code under its `codeId`: one winner.
 */
import { model, Schema, type Types } from 'mongoose';

const otpCodeSchema = new Schema(
  {
    /** `phone:+905551234567` or `email:user@example.com`. */
    _id: { type: String, required: true },
    /** The issued code's own id: names it in funnel events, and tells it apart from a newer code of the subject. */
    codeId: { type: Schema.Types.ObjectId, required: true },
    codeHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    /** Attempts made on this code, the accepted one included. */
    attempts: { type: Number, required: true, default: 0 },
    isTestNumber: { type: Boolean, default: false },
  },
  { collection: 'otp_codes', versionKey: false },
);
// Expired codes go within the hour: by this TTL index on MongoDB, by the worker's expiry sweep elsewhere.
otpCodeSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 3600 });

export const OtpCode = model('OtpCode', otpCodeSchema);
export type OtpCodeId = Types.ObjectId;
