/**
 * One-time codes: one document per subject (`_id` is the subject), so sending
 * a new code replaces the previous one and every lookup goes by `_id`. Only an
 * HMAC of the code is stored. Single use and the attempt limit are
 * compare-and-set updates of this one document (see `src/services/otp.ts`):
 * - an attempt is counted by `$inc` under `{ _id, codeId, attempts: <read> }`;
 * - the accepted attempt deletes the code under `{ _id, codeId }`: one winner.
 * The two unique indexes below name exactly those filters' fields. On MongoDB
 * `_id` alone would serve them; the embedded server uses an index only when a
 * filter names exactly its fields, and scans the collection otherwise. (Both
 * are trivially unique, as `_id` is.)
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
    /** SHA-256 of the `verificationId` of a code bound to a device; null otherwise. */
    verificationHash: { type: String, default: null },
  },
  { collection: 'otp_codes', versionKey: false },
);
// Expired codes go within the hour: by this TTL index on MongoDB, by the worker's expiry sweep elsewhere.
otpCodeSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 3600 });
otpCodeSchema.index({ _id: 1, codeId: 1 }, { unique: true });
otpCodeSchema.index({ _id: 1, codeId: 1, attempts: 1 }, { unique: true });

export const OtpCode = model('OtpCode', otpCodeSchema);
export type OtpCodeId = Types.ObjectId;
