/**
 * Registration completion, profile updates and usernames (docs/api.md#users).
 *
 * Username uniqueness is a claim: an insert of the lower-cased name into
 * `username_claims._id`, atomic on every server, so two users racing for one
 * name cannot both get it. A user's previous claim is released after the
 * new one is taken.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import type { Publisher } from '../jobs/outbox.js';
import { registrationCompletedEvent } from '../jobs/registration-completed.js';
import { badRequest, conflict, unauthorized } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { usernameClaims, users } from '../models/collections.js';
import { toPrivateUser, User, type PrivateUser, type UserRecord } from '../models/user.js';
import { isDuplicateKey } from '../models/write-once.js';
import { regex } from '../schemas/pattern.js';
import { RESERVED_USERNAMES, USERNAME } from '../schemas/users.js';

export interface UsersDeps {
  config: Config;
  publisher: Publisher;
  clock: () => Date;
}

const USERNAME_RE = regex(USERNAME.pattern);

/** @returns a reason the name cannot be used, or undefined. The name must already be lower-case. */
export function usernameProblem(name: string): string | undefined {
  if (!USERNAME_RE.test(name)) return USERNAME.message;
  if (RESERVED_USERNAMES.has(name)) return USERNAME.reservedMessage;
  return undefined;
}

async function liveUser(userId: Types.ObjectId): Promise<UserRecord> {
  const user = await User.findById(userId).lean<UserRecord>();
  if (!user || user.accountDeletionStatus === 'finalized')
    throw unauthorized({ errorCode: 'SESSION_REVOKED', messages: ['accessToken: the account no longer exists'] });
  return user;
}

/** `GET /auth/me`: the signed-in user as clients see it; 401 when the account no longer exists. */
export async function currentUser(userId: Types.ObjectId): Promise<PrivateUser> {
  const user = await User.findById(userId).lean<UserRecord>();
  if (!user)
    throw unauthorized({ errorCode: 'SESSION_REVOKED', messages: ['accessToken: the account no longer exists'] });
  return toPrivateUser(user);
}

/** Takes `name` for `userId`. @returns false when someone else holds it. */
async function claimUsername(name: string, userId: Types.ObjectId, now: Date): Promise<boolean> {
  try {
    await usernameClaims().insertOne({ _id: name, userId, claimedAt: now });
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const holder = await usernameClaims().findOne({ _id: name });
    return !!holder && holder.userId.equals(userId);
  }
}

const taken = () => conflict({ errorCode: 'USERNAME_TAKEN', messages: ['username: is already taken'] });

export async function isUsernameAvailable(name: string, userId: Types.ObjectId): Promise<boolean> {
  if (usernameProblem(name)) return false;
  const holder = await usernameClaims().findOne({ _id: name });
  return !holder || holder.userId.equals(userId);
}

export type ProfileFields = Partial<
  Pick<
    UserRecord,
    | 'name'
    | 'surname'
    | 'birthDate'
    | 'gender'
    | 'availabilityStatus'
    | 'interests'
    | 'expertise'
    | 'email'
    | 'bio'
    | 'instagram'
    | 'x'
    | 'tiktok'
    | 'snapchat'
    | 'facebook'
    | 'timezone'
    | 'profilePhoto'
  >
>;

export interface RegistrationInput extends ProfileFields {
  username: string;
  privacyPolicyVersion: string;
  termsOfUseVersion: string;
  consentFormAccepted?: boolean;
  consentFormVersion?: string;
}

export async function completeRegistration(
  deps: UsersDeps,
  userId: Types.ObjectId,
  input: RegistrationInput,
  log: Logger,
  reqId: string,
): Promise<PrivateUser> {
  const { config } = deps;
  const now = deps.clock();
  const stale: string[] = [];
  if (input.privacyPolicyVersion !== config.policies.privacyPolicyVersion)
    stale.push(`privacyPolicyVersion: the current version is ${config.policies.privacyPolicyVersion}`);
  if (input.termsOfUseVersion !== config.policies.termsOfUseVersion)
    stale.push(`termsOfUseVersion: the current version is ${config.policies.termsOfUseVersion}`);
  if (input.consentFormAccepted && input.consentFormVersion !== config.policies.consentFormVersion) {
    stale.push(`consentFormVersion: the current version is ${config.policies.consentFormVersion}`);
  }
  if (stale.length) throw badRequest(stale, { errorCode: 'POLICY_VERSION_STALE' });

  const user = await liveUser(userId);
  if (user.isRegistrationComplete)
    throw conflict({ errorCode: 'REGISTRATION_ALREADY_COMPLETE', messages: ['registration: already complete'] });
  if (!(await claimUsername(input.username, userId, now))) throw taken();

  const { privacyPolicyVersion, termsOfUseVersion, consentFormAccepted, consentFormVersion, username, ...profile } =
    input;
  const res = await users().updateOne(
    { _id: userId, isRegistrationComplete: false },
    {
      $set: {
        ...profile,
        username,
        privacyPolicyAccepted: true,
        privacyPolicyVersion,
        termsOfUseAccepted: true,
        termsOfUseVersion,
        consentFormAccepted: consentFormAccepted === true,
        consentFormVersion: consentFormAccepted ? consentFormVersion : null,
        isRegistrationComplete: true,
        updatedAt: now,
      },
    },
  );
  if (res.matchedCount === 0) {
    // Completed concurrently by another request of the same user: give the name back.
    if (user.username !== username) await usernameClaims().deleteOne({ _id: username, userId });
    throw conflict({ errorCode: 'REGISTRATION_ALREADY_COMPLETE', messages: ['registration: already complete'] });
  }
  // A name the user held before registering (none today) would be released here.
  if (user.username && user.username !== username) await usernameClaims().deleteOne({ _id: user.username, userId });

  await deps.publisher.publish(
    [registrationCompletedEvent({ userId: userId.toHexString(), completedAt: now.toISOString(), reqId })],
    log,
  );
  log.info({ userId: userId.toHexString() }, 'registration completed');
  return toPrivateUser(await liveUser(userId));
}

/** One `$set` of the given fields, only on a live account. */
export async function updateProfile(
  deps: UsersDeps,
  userId: Types.ObjectId,
  fields: ProfileFields,
): Promise<PrivateUser> {
  if (Object.keys(fields).length === 0) return toPrivateUser(await liveUser(userId));
  const after = await users().findOneAndUpdate(
    { _id: userId, accountDeletionStatus: { $ne: 'finalized' } },
    { $set: { ...fields, updatedAt: deps.clock() } },
    { returnDocument: 'after' },
  );
  if (!after) return toPrivateUser(await liveUser(userId)); // gone: 401
  return toPrivateUser(after as unknown as UserRecord);
}

/**
 * Changes the username, at most once every `USERNAME_CHANGE_INTERVAL_DAYS`. The interval is part of
 * the update's filter, so of two concurrent changes one applies and the other gets 409.
 */
export async function changeUsername(
  deps: UsersDeps,
  userId: Types.ObjectId,
  newUsername: string,
): Promise<PrivateUser> {
  const now = deps.clock();
  const user = await liveUser(userId);
  if (!user.isRegistrationComplete)
    throw conflict({ errorCode: 'REGISTRATION_INCOMPLETE', messages: ['registration: complete it first'] });
  if (user.username === newUsername) return toPrivateUser(user);
  const intervalMs = deps.config.accounts.usernameChangeIntervalDays * 86_400_000;
  const tooSoon = (last: Date) => {
    const next = new Date(last.getTime() + intervalMs);
    return conflict({
      errorCode: 'USERNAME_CHANGE_TOO_SOON',
      messages: [`username: can be changed again after ${next.toISOString()}`],
      details: { nextChangeAt: next.toISOString() },
    });
  };
  if (user.lastUsernameChangeDate && now.getTime() - user.lastUsernameChangeDate.getTime() < intervalMs)
    throw tooSoon(user.lastUsernameChangeDate);
  if (!(await claimUsername(newUsername, userId, now))) throw taken();

  const before = await users().findOneAndUpdate(
    {
      _id: userId,
      accountDeletionStatus: { $ne: 'finalized' },
      $or: [
        { lastUsernameChangeDate: null },
        { lastUsernameChangeDate: { $lte: new Date(now.getTime() - intervalMs) } },
      ],
    },
    { $set: { username: newUsername, lastUsernameChangeDate: now, updatedAt: now } },
    { returnDocument: 'before', projection: { username: 1 } },
  );
  if (!before) {
    // Another change won meanwhile (or the account went): give the name back.
    await usernameClaims().deleteOne({ _id: newUsername, userId });
    const current = await liveUser(userId);
    throw current.lastUsernameChangeDate ? tooSoon(current.lastUsernameChangeDate) : taken();
  }
  if (before.username && before.username !== newUsername)
    await usernameClaims().deleteOne({ _id: before.username, userId });
  return toPrivateUser(await liveUser(userId));
}
