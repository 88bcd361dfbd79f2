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
import { auditEvent, type WorkerAuditType } from '../jobs/audit.js';
import { conflict, forbidden } from '../lib/errors.js';
import {
  accountFinalizations,
  auditEvents,
  loginEvents,
  sessions,
  usernameClaims,
  users,
} from '../models/collections.js';
import { User, type UserRecord } from '../models/user.js';
import { isDuplicateKey } from '../models/write-once.js';
import { revokeSessions, type AuditTrail } from './sessions.js';

/** The account holder's own request, to be recorded in the audit trail: its session and the trail. */
export type OwnRequest = AuditTrail & { sessionId: string };

/** Records a deletion step the account holder took (through the outbox). */
async function audit(
  own: OwnRequest | undefined,
  type: WorkerAuditType,
  userId: Types.ObjectId,
  at: Date,
): Promise<void> {
  if (!own) return;
  await own.publisher.publish(
    [
      auditEvent({
        type,
        at: at.toISOString(),
        userId: userId.toHexString(),
        actorKind: 'user',
        actorSessionId: own.sessionId,
        reqId: own.reqId,
      }),
    ],
    own.log,
  );
}

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
 * user meanwhile (the worker's `lastLogin`, a profile update). When it finds a request pending, the request is
 * read back; a cancel may land between the two, and then the update is tried again (a request never answers
 * `cancelled`).
 */
export async function requestDeletion(
  config: Config,
  userId: Types.ObjectId,
  now: Date,
  own?: OwnRequest,
): Promise<DeletionStatus> {
  const fields = {
    accountDeletionStatus: 'pending' as const,
    accountDeletionRequestedAt: now,
    accountDeletionScheduledFor: new Date(now.getTime() + config.accounts.deletionGraceDays * 86_400_000),
    accountDeletionCancelledAt: null,
    accountDeletionFinalizedAt: null,
  };
  for (;;) {
    const res = await users().updateOne(
      { _id: userId, accountDeletionStatus: { $in: [null, 'cancelled'] } },
      { $set: { ...fields, updatedAt: now } },
    );
    if (res.matchedCount === 1) {
      await audit(own, 'deletion-requested', userId, now);
      return deletionStatusOf(fields);
    }
    const user = await userOrConflict(userId); // gone: 409
    if (user.accountDeletionStatus === 'pending') return deletionStatusOf(user);
    // Cancelled between the update and the read: try again. Another round needs another request and cancel
    // of the same account to land in the same gap, so this ends when they stop.
  }
}

/** @throws 409 when no request is pending. */
export async function cancelDeletion(userId: Types.ObjectId, now: Date, own?: OwnRequest): Promise<DeletionStatus> {
  const after = await users().findOneAndUpdate(
    { _id: userId, accountDeletionStatus: 'pending' },
    { $set: { accountDeletionStatus: 'cancelled', accountDeletionCancelledAt: now, updatedAt: now } },
    { returnDocument: 'after', projection: DELETION_PROJECTION },
  );
  if (after) {
    await audit(own, 'deletion-cancelled', userId, now);
    return deletionStatusOf(after as unknown as UserRecord);
  }
  await userOrConflict(userId); // gone: 409 ACCOUNT_DELETED
  throw conflict({ errorCode: 'NO_PENDING_DELETION', messages: ['account: no deletion request is pending'] });
}

/** @throws 403 when the feature flag is off. */
export async function finalizeNow(
  config: Config,
  userId: Types.ObjectId,
  now: Date,
  own?: OwnRequest,
): Promise<DeletionStatus & { userId: string }> {
  if (!config.accounts.finalizeNowEnabled)
    throw forbidden({ errorCode: 'FEATURE_DISABLED', messages: ['account-deletion: finalize-now is not enabled'] });
  return finalizeUser(userId, 'finalize-now', now, (first) =>
    first ? audit(own, 'deletion-finalized', userId, now) : Promise.resolve(),
  );
}

/**
 * Finalizes a live account at once (finalize-now, and the admin API's erasure).
 * @param recorded runs once the erasure is done, told whether this call was the one that finalized it.
 * @throws 409 ACCOUNT_DELETED when the account is already erased.
 */
export async function finalizeUser(
  userId: Types.ObjectId,
  by: FinalizedBy,
  now: Date,
  recorded: (first: boolean) => Promise<unknown>,
): Promise<DeletionStatus & { userId: string }> {
  const user = await userOrConflict(userId);
  await recorded(await finalizeAccount(user, by, now));
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
export type FinalizedBy = 'finalize-now' | 'scheduled' | 'staff';

export async function finalizeAccount(
  user: Pick<UserRecord, '_id' | 'accountDeletionRequestedAt'>,
  by: FinalizedBy,
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
    // The user's own addresses and devices in the audit trail go too; staff members' stay with their actions.
    auditEvents().updateMany(
      { targetUserId: userId, actorKind: { $in: ['user', 'anonymous'] } },
      { $set: { ip: null, userAgent: null, deviceId: null, appVersion: null } },
    ),
  ]);
  return first;
}

/**
 * Finalizes every pending request whose `scheduledFor` has passed (the worker's sweep).
 * `onFinalized` runs for each account this sweep finalized (the worker records it in the audit trail).
 */
export async function finalizeDue(
  now: Date,
  batchSize = 100,
  onFinalized?: (userId: Types.ObjectId) => Promise<unknown>,
): Promise<{ finalized: number; seen: number }> {
  const due = await users()
    .find<UserRecord>(
      { accountDeletionStatus: 'pending', accountDeletionScheduledFor: { $lte: now } },
      { projection: { _id: 1, accountDeletionRequestedAt: 1 } },
    )
    .limit(batchSize)
    .toArray();
  let finalized = 0;
  for (const user of due) {
    if (!(await finalizeAccount(user, 'scheduled', now))) continue;
    finalized++;
    await onFinalized?.(user._id);
  }
  return { finalized, seen: due.length };
}
