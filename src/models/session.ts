/**
 * A login session: one per successful verify, ended by logout, revoke-token,
 * refresh-token theft or account deletion. Refresh tokens live in
 * `refresh_tokens`, one document per token issued for the session.
 */
import { model, Schema, type InferSchemaType, type Types } from 'mongoose';

const sessionSchema = new Schema(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    /** Slides forward on every refresh (30 days of inactivity end a session). */
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    /** `logout`, `revoke-token`, `refresh-token-reuse`, `account-deleted`, `role-revoked`, `suspended`, `staff-revoked` (`RevokeReason`). */
    revokedReason: { type: String, default: null },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
    platform: { type: String, default: null },
    deviceId: { type: String, default: null },
    appVersion: { type: String, default: null },
  },
  { collection: 'sessions', versionKey: false },
);
sessionSchema.index({ userId: 1, expiresAt: -1 });
sessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 7 * 24 * 3600 });

export type SessionRecord = InferSchemaType<typeof sessionSchema> & { _id: Types.ObjectId };
export const Session = model('Session', sessionSchema);
