/**
 * Issuing and checking one-time codes (docs/api.md#send-otp, docs/api.md#verify-otp).
 *
 * A subject has at most one code: its `otp_codes` document, `_id` = subject.
 * The guarantees are compare-and-set updates of that one document, and every
 * query names exactly the fields of `_id` or of a unique index, so each is an
 * index lookup on MongoDB and on the embedded server alike (the embedded server
 * uses a unique index only when a filter names exactly its fields; an `_id`
 * filter with extra conditions would scan the collection):
 * - attempt limit: an attempt reads the code by `_id`, checks it (unexpired,
 *   attempts left, bound to this device or to none), then counts itself with
 *   `$inc: { attempts: 1 }` under `{ _id, codeId, attempts: <the value read> }`
 *   (unique index `_id_1_codeId_1_attempts_1`). Of attempts that read the same
 *   value exactly one is counted; the others read again. So every compare is
 *   preceded by its own increment from a value below the limit: at most
 *   `maxAttempts` attempts ever see the code, whatever the interleaving; a
 *   later one finds no usable code (OTP_NOT_FOUND).
 * - single use: an attempt with the right code deletes the document under
 *   `{ _id, codeId }` (unique index `_id_1_codeId_1`); of concurrent right
 *   attempts exactly one deletes it, the others get OTP_NOT_FOUND. The `codeId`
 *   keeps a verify from using up a newer code sent meanwhile.

 * Device binding (optional, asked for at send time): the code's document
 * then holds a hash of a random `verificationId` that only the requesting
 * device receives, and the code can be verified only together with it. An
 * attempt without it, or with another id, is refused before it is counted,
 * so strangers guessing at the number can neither use up the code's
 * attempts nor reach it at all; the holder has the same 5 attempts as
 * anyone has on an unbound code, charged to a verify budget of the subject and
 * that id (`verifyBudgetKey` in services/auth.ts), not to the subject's own.
 * RELIABILITY.md, "Lockout by strangers".
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
export async function issueCode(
  config: Config,
  subject: string,
  now: Date,
  opts: { fixedCode?: string; bind?: boolean } = {},
): Promise<IssuedCode> {
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
  new AppError(404, {
    errorCode: OTP_NOT_FOUND,
    messages: ['code: no usable code for this number; request a new one'],
  });

/**
 * Checks `code` against the subject's unexpired code and consumes it. With `verificationId`, only a
 * code bound to that id is tried; without, only an unbound code (an attempt on a bound code without
 * its id is not counted).
 * `opts.onReach` runs once the attempt has reached a usable code and been counted, before the code is
 * compared, with the reached code's binding (the `verificationId`'s hash, or null for an unbound code):
 * the verify budget is charged there, so attempts that reach nothing (no code, a dead code, a code bound
 * to another device, or a code whose last attempts others took first) cannot use up the owner's budget.
 * (Charging it beside the count, to save a round trip, would let a burst of concurrent guesses that all
 * read a usable code spend the budget while only 5 are counted.)
 * @throws AppError 404 OTP_NOT_FOUND (none, expired, used, attempts exhausted, bound to another device),
 *         400 OTP_INVALID with `details.attemptsRemaining`; whatever `onReach` throws.
 */
export async function consumeCode(
  config: Config,
  subject: string,
  code: string,
  now: Date,
  opts: { verificationId?: string; onReach?: (binding: string | null) => Promise<void> } = {},
): Promise<{ codeId: Types.ObjectId; isTestNumber: boolean }> {
  const wanted = opts.verificationId ? sha256Hex(opts.verificationId) : null;
  const max = config.otp.maxAttempts;
  const current = await countAttempt(subject, wanted, max, now);
  if (!current) throw notFound();
  await opts.onReach?.(wanted); // the code reached is bound to `wanted` (see `usable`)

  if (!safeEqualHex(codeHash(config, subject, code), current.codeHash)) {
    throw badRequest(['code: incorrect'], {
      errorCode: OTP_INVALID,
      details: { attemptsRemaining: Math.max(0, max - current.attempts) },
    });
  }
  const codeId = current.codeId;
  const claimed = await otpCodes().deleteOne({ _id: subject, codeId });
  if (claimed.deletedCount !== 1) throw notFound(); // another request with the right code was first
  return { codeId, isTestNumber: current.isTestNumber === true };
}

type CountedCode = { codeId: Types.ObjectId; codeHash: string; attempts: number; isTestNumber?: boolean };

/** A code is usable by an attempt carrying `wanted` (a verificationId's hash, or null for none). */
function usable(
  doc: { expiresAt: Date; attempts: number; verificationHash?: string | null },
  wanted: string | null,
  max: number,
  now: Date,
): boolean {
  if (!(doc.expiresAt.getTime() > now.getTime()) || doc.attempts >= max) return false;
  const bound = doc.verificationHash ?? null; // codes stored before binding existed have no such field
  if (bound === null || wanted === null) return bound === wanted;
  return safeEqualHex(bound, wanted);
}

/**
 * Counts one attempt on the subject's usable code and returns the code as counted, or null when there
 * is no usable code. A lost compare-and-set (another attempt was counted, or a new code was sent, since
 * the read) reads again; each loss means another attempt was counted or a code was replaced, so the
 * loop ends: once the attempts are used up the read finds the code unusable.
 */
async function countAttempt(
  subject: string,
  wanted: string | null,
  max: number,
  now: Date,
): Promise<CountedCode | null> {
  for (let round = 0; round < max + 8; round++) {
    const seen = await otpCodes().findOne(
      { _id: subject },
      { projection: { codeId: 1, expiresAt: 1, attempts: 1, verificationHash: 1 } },
    );
    if (!seen || !usable(seen, wanted, max, now)) return null;
    const counted = await otpCodes().findOneAndUpdate(
      { _id: subject, codeId: seen.codeId, attempts: seen.attempts },
      { $inc: { attempts: 1 } },
      { returnDocument: 'after', projection: { codeId: 1, codeHash: 1, attempts: 1, isTestNumber: 1 } },
    );
    if (counted) return counted;
  }
  return null; // a code replaced again and again while we tried: as good as none
}
