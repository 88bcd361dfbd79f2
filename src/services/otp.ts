/**
 * Issuing and checking one-time codes (docs/api.md#send-otp, docs/api.md#verify-otp).
 *
 * A subject has at most one code: its `otp_codes` document, `_id` = subject.
 * The guarantees are atomic updates of that one document:
 * - attempt limit: every attempt first increments `attempts` under the filter
 *   `attempts < maxAttempts` (and unexpired). The server applies these one at
 *   a time, so at most `maxAttempts` attempts ever see the code, whatever the
 *   interleaving; a later one finds nothing (OTP_NOT_FOUND).
 * - single use: an attempt with the right code deletes the document under
 *   its `codeId`; of concurrent right attempts exactly one deletes it, the
 *   others get OTP_NOT_FOUND. The `codeId` filter keeps a verify from using
 *   up a newer code sent meanwhile.
 * Both filter by `_id`: an index lookup on MongoDB. (The embedded server uses a unique index only
 * when the filter names exactly its fields, so with the extra conditions it scans: BENCHMARKS.md.)
 *
 * Device binding (optional, asked for at send time): the code's document
 * then holds a hash of a random `verificationId` that only the requesting
 * device receives, and the code can be verified only together with it. An
 * attempt without it, or with another id, is refused before it is counted,
 * so strangers guessing at the number can neither use up the code's
 * attempts nor reach it at all; the holder has the same 5 attempts as
 * anyone has on an unbound code. RELIABILITY.md, "Lockout by strangers".
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { hmacHex, randomDigits, randomToken, safeEqualHex, sha256Hex } from '../lib/crypto.js';
import { AppError, badRequest } from '../lib/errors.js';
import { otpCodes } from '../models/collections.js';

export const OTP_NOT_FOUND = 'OTP_NOT_FOUND';
export const OTP_INVALID = 'OTP_INVALID';

export function codeHash(config: Config, subject: string, code: string): string {
  // Binding the subject means a hash is useless for any other number or address.
  return hmacHex(config.otp.hmacSecret, `${subject}\n${code}`);
}

export interface IssuedCode {
  id: Types.ObjectId;
  code: string;
  expiresAt: Date;
  /** Set when the code was bound to the requesting device: only verifies that carry it can use the code. */
  verificationId?: string;
}

/**
 * Stores a new code for `subject`; it replaces the earlier one (one document per subject).
 * `opts.bind`: bind it to the requesting device (a `verificationId` is returned, only its hash stored).
 */
export async function issueCode(config: Config, subject: string, now: Date, opts: { fixedCode?: string; bind?: boolean } = {}): Promise<IssuedCode> {
  const code = opts.fixedCode ?? randomDigits(config.otp.length);
  const id = new Types.ObjectId();
  const expiresAt = new Date(now.getTime() + config.otp.ttlSeconds * 1000);
  const verificationId = opts.bind ? randomToken() : undefined;
  await otpCodes().replaceOne(
    { _id: subject },
    {
      codeId: id,
      codeHash: codeHash(config, subject, code),
      createdAt: now,
      expiresAt,
      attempts: 0,
      isTestNumber: opts.fixedCode !== undefined,
      verificationHash: verificationId ? sha256Hex(verificationId) : null,
    },
    { upsert: true },
  );
  return { id, code, expiresAt, ...(verificationId ? { verificationId } : {}) };
}

/** Makes a code unusable (its SMS could not be sent); a newer code of the subject is left alone. */
export async function discardCode(subject: string, id: Types.ObjectId): Promise<void> {
  await otpCodes().deleteOne({ _id: subject, codeId: id });
}

const notFound = () =>
  new AppError(404, { errorCode: OTP_NOT_FOUND, messages: ['code: no usable code for this number; request a new one'] });

/**
 * Checks `code` against the subject's unexpired code and consumes it. With `verificationId`, only a
 * code bound to that id is tried; without, only an unbound code (an attempt on a bound code without
 * its id is not counted).
 * `opts.onReach` runs once the attempt has reached a usable code and been counted, before the code is
 * compared: the per-number verify budget is charged there, so attempts that reach nothing (no code, a
 * dead code, a code bound to another device) cannot use up the owner's budget.
 * @throws AppError 404 OTP_NOT_FOUND (none, expired, used, attempts exhausted, bound to another device),
 *         400 OTP_INVALID with `details.attemptsRemaining`; whatever `onReach` throws.
 */
export async function consumeCode(
  config: Config,
  subject: string,
  code: string,
  now: Date,
  opts: { verificationId?: string; onReach?: () => Promise<void> } = {},
): Promise<{ codeId: Types.ObjectId; isTestNumber: boolean }> {
  const { verificationId } = opts;
  const max = config.otp.maxAttempts;
  const current = await otpCodes().findOneAndUpdate(
    // `verificationHash: null` also matches codes stored before binding existed (no such field).
    { _id: subject, expiresAt: { $gt: now }, attempts: { $lt: max }, verificationHash: verificationId ? sha256Hex(verificationId) : null },
    { $inc: { attempts: 1 } },
    { returnDocument: 'after', projection: { codeId: 1, codeHash: 1, attempts: 1, isTestNumber: 1 } },
  );
  if (!current) throw notFound();
  await opts.onReach?.();

  if (!safeEqualHex(codeHash(config, subject, code), current.codeHash)) {
    throw badRequest(['code: incorrect'], {
      errorCode: OTP_INVALID,
      details: { attemptsRemaining: Math.max(0, max - (current.attempts)) },
    });
  }
  const codeId = current.codeId;
  const claimed = await otpCodes().deleteOne({ _id: subject, codeId });
  if (claimed.deletedCount !== 1) throw notFound(); // another request with the right code was first
  return { codeId, isTestNumber: current.isTestNumber === true };
}
