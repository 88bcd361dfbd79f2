/**
 * Claims that must be taken atomically on every server we run on, so they
 * are inserts into unique `_id`s rather than updates of the user:
 * - a username (lower-cased) belongs to at most one user;
 * - an account is finalized (erased) at most once.
 */
import { model, Schema } from 'mongoose';

const usernameClaimSchema = new Schema(
  {
    _id: { type: String, required: true }, // the username, lower-case
    userId: { type: Schema.Types.ObjectId, required: true },
    claimedAt: { type: Date, required: true },
  },
  { collection: 'username_claims', versionKey: false },
);
usernameClaimSchema.index({ userId: 1 });
export const UsernameClaim = model('UsernameClaim', usernameClaimSchema);

const accountFinalizationSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true }, // the user's id
    at: { type: Date, required: true },
    /** `finalize-now` or `scheduled`. */
    by: { type: String, required: true },
  },
  { collection: 'account_finalizations', versionKey: false },
);
export const AccountFinalization = model('AccountFinalization', accountFinalizationSchema);
