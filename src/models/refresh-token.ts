/**
 * Refresh tokens, stored only as SHA-256 hashes (the tokens are 256 random
 * bits). Every refresh issues a new token whose `parentId` is the one it
 * replaced. The first use of a token inserts a `refresh_token_uses`
 * document under the token's hash: an insert into a unique index, atomic on
 * every server, decides which use was first and when, which is what the
 * reuse grace window and theft detection are measured from.
 */
import { model, Schema, type InferSchemaType } from 'mongoose';

const refreshTokenSchema = new Schema(
  {
    _id: { type: String, required: true }, // sha256 of the token
    sessionId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    parentId: { type: String, default: null },
    issuedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'refresh_tokens', versionKey: false },
);
refreshTokenSchema.index({ sessionId: 1 });
refreshTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type RefreshTokenRecord = InferSchemaType<typeof refreshTokenSchema>;
export const RefreshToken = model('RefreshToken', refreshTokenSchema);

const refreshTokenUseSchema = new Schema(
  {
    _id: { type: String, required: true }, // the used token's hash
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'refresh_token_uses', versionKey: false },
);
refreshTokenUseSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const RefreshTokenUse = model('RefreshTokenUse', refreshTokenUseSchema);
