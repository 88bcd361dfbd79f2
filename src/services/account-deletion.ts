/**
 * The account-deletion lifecycle (docs/api.md#account-deletion): request (pending, with a
 * grace period), cancel, and finalize: personal data erased, sessions
 * revoked, phone number, e-mail and username released, attribution kept.
 *
 * Finalizing is idempotent and happens once: the first finalizer inserts
 * `account_finalizations._id = <userId>`; a second one (a duplicate sweep,
 * finalize-now racing the sweep) sees the marker and does nothing more
 * than finish what a crashed first run may have left undone.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { conflict, forbidden } from '../lib/errors.js';
import { accountFinalizations, loginEvents, sessions, usernameClaims, users } from '../models/collections.js';
import { User, type UserRecord } from '../models/user.js';
import { isDuplicateKey } from '../models/write-once.js';
import { revokeSessions } from './sessions.js';

export interface DeletionStatus {
  status: UserRecord['accountDeletionStatus'];
  requestedAt: string | null;
  scheduledFor: string | null;
  cancelledAt: string | null;
  finalizedAt: string | null;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function deletionStatusOf(
  user: Pick<
    UserRecord,
    | 'accountDeletionStatus'
    | 'accountDeletionRequestedAt'
    | 'accountDeletionScheduledFor'
    | 'accountDeletionCancelledAt'
    | 'accountDeletionFinalizedAt'
  >,
): DeletionStatus {
  return {
    status: user.accountDeletionStatus ?? null,
    requestedAt: iso(user.accountDeletionRequestedAt),
    scheduledFor: iso(user.accountDeletionScheduledFor),
    cancelledAt: iso(user.accountDeletionCancelledAt),
    finalizedAt: iso(user.accountDeletionFinalizedAt),
  };
}

const alreadyDeleted = () => conflict({ errorCode: 'ACCOUNT_DELETED', messages: ['account: already deleted'] });

async function userOrConflict(userId: Types.ObjectId): Promise<UserRecord> {
  const user = await User.findById(userId).lean<UserRecord>();
  if (!user || user.accountDeletionStatus === 'finalized') throw alreadyDeleted();
  return user;
}

const DELETION_PROJECTION = {
  accountDeletionStatus: 1,
  accountDeletionRequestedAt: 1,
  accountDeletionScheduledFor: 1,
  accountDeletionCancelledAt: 1,
  accountDeletionFinalizedAt: 1,
};

/**
 * Requests deletion. Asking again while a request is pending returns that request unchanged.
 * One conditional update: it applies only to a user with no live request, whatever else changes the
 * user meanwhile (the worker's `lastLogin`, a profile update).
 */
export async function requestDeletion(config: Config, userId: Types.ObjectId, now: Date): Promise<DeletionStatus> {
  const fields = {
    accountDeletionStatus: 'pending' as const,
    accountDeletionRequestedAt: now,
    accountDeletionScheduledFor: new Date(now.getTime() + config.accounts.deletionGraceDays * 86_400_000),
    accountDeletionCancelledAt: null,
    accountDeletionFinalizedAt: null,
  };
  const res = await users().updateOne(
    { _id: userId, accountDeletionStatus: { $in: [null, 'cancelled'] } },
    { $set: { ...fields, updatedAt: now } },
  );
  if (res.matchedCount === 1) return deletionStatusOf(fields);
  return deletionStatusOf(await userOrConflict(userId)); // pending already (or gone: 409)
}

/** @throws 409 when no request is pending. */
export async function cancelDeletion(userId: Types.ObjectId, now: Date): Promise<DeletionStatus> {
  const after = await users().findOneAndUpdate(
    { _id: userId, accountDeletionStatus: 'pending' },
    { $set: { accountDeletionStatus: 'cancelled', accountDeletionCancelledAt: now, updatedAt: now } },
    { returnDocument: 'after', projection: DELETION_PROJECTION },
  );
  if (after) return deletionStatusOf(after as unknown as UserRecord);
  await userOrConflict(userId); // gone: 409 ACCOUNT_DELETED
  throw conflict({ errorCode: 'NO_PENDING_DELETION', messages: ['account: no deletion request is pending'] });
}

/** @throws 403 when the feature flag is off. */
export async function finalizeNow(
  config: Config,
  userId: Types.ObjectId,
  now: Date,
): Promise<DeletionStatus & { userId: string }> {
  if (!config.accounts.finalizeNowEnabled)
    throw forbidden({ errorCode: 'FEATURE_DISABLED', messages: ['account-deletion: finalize-now is not enabled'] });
  const user = await userOrConflict(userId);
  await finalizeAccount(user, 'finalize-now', now);
  const after = await User.findById(userId).lean<UserRecord>();
  return { ...deletionStatusOf(after ?? user), userId: userId.toHexString() };
}

const ERASED = {
  name: null,
  surname: null,
  username: null,
  countryCode: null,
  phoneNumber: null,
  email: null,
  profilePhoto: null,
  availabilityStatus: null,
  birthDate: null,
  gender: null,
  interests: [],
  expertise: [],
  bio: null,
  instagram: null,
  x: null,
  tiktok: null,
  snapchat: null,
  facebook: null,
  timezone: null,
  lastLogin: null,
  lastUsernameChangeDate: null,
};

/**
 * Erases the account. Safe to run any number of times, concurrently too.
 * @returns whether this call was the one that finalized it.
 */
export async function finalizeAccount(
  user: Pick<UserRecord, '_id' | 'accountDeletionRequestedAt'>,
  by: 'finalize-now' | 'scheduled',
  now: Date,
): Promise<boolean> {
  const userId = user._id;
  let first = true;
  try {
    await accountFinalizations().insertOne({ _id: userId, at: now, by });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    first = false;
  }
  const marker = first ? { at: now } : await accountFinalizations().findOne({ _id: userId });
  const finalizedAt = marker?.at ?? now;

  // Sessions first: from here on no token of the account works (within the session cache's TTL).
  await revokeSessions({ userId }, 'account-deleted', now);
  await Promise.all([
    users().updateOne(
      { _id: userId },
      {
        // Without its keys the user leaves the sparse unique indexes: the number and address are free.
        $unset: { phoneKey: '', emailKey: '' },
        $set: {
          ...ERASED,
          accountDeletionStatus: 'finalized',
          accountDeletionRequestedAt: user.accountDeletionRequestedAt ?? finalizedAt,
          accountDeletionFinalizedAt: finalizedAt,
          updatedAt: now,
        },
      },
    ),
    usernameClaims().deleteMany({ userId }),
    // Login history holds IPs and devices: personal data. Signup attributions hold none and are kept.
    loginEvents().deleteMany({ userId }),
    sessions().updateMany({ userId }, { $set: { ip: null, userAgent: null, deviceId: null } }),
  ]);
  return first;
}

/** Finalizes every pending request whose `scheduledFor` has passed (the worker's sweep). */
export async function finalizeDue(now: Date, batchSize = 100): Promise<{ finalized: number; seen: number }> {
  const due = await users()
    .find<UserRecord>(
      { accountDeletionStatus: 'pending', accountDeletionScheduledFor: { $lte: now } },
      { projection: { _id: 1, accountDeletionRequestedAt: 1 } },
    )
    .limit(batchSize)
    .toArray();
  let finalized = 0;
  for (const user of due) if (await finalizeAccount(user, 'scheduled', now)) finalized++;
  return { finalized, seen: due.length };
}
