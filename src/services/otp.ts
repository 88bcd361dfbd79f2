/**
 * Issuing and checking one-time codes (contract §2.1, §2.2).
 *
 * Guarantees, on MongoDB and on FerretDB v1 alike (whose single-document
 * updates are not atomic), rest on inserts into unique indexes:
 * - single use: the accepted attempt inserts `<codeId>:ok`; a second
 *   accepted attempt hits the unique `_id` and gets OTP_NOT_FOUND;
 * - attempt limit: every attempt inserts a row, then reads the rows of its
 *   code; an attempt is honoured only when at most `maxAttempts` rows exist,
 *   counting its own. Whatever the interleaving, the attempt that reads last
 *   sees every row inserted before it, so no more than `maxAttempts`
 *   attempts are ever honoured.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { hmacHex, randomDigits, safeEqualHex } from '../lib/crypto.js';
import { AppError, badRequest } from '../lib/errors.js';
import { OtpAttempt, OtpCode } from '../models/otp-code.js';

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
}

/** Stores a new code for `subject`; it replaces every earlier one (only the latest is usable). */
export async function issueCode(config: Config, subject: string, now: Date, fixedCode?: string): Promise<IssuedCode> {
  const code = fixedCode ?? randomDigits(config.otp.length);
  const id = new Types.ObjectId();
  const expiresAt = new Date(now.getTime() + config.otp.ttlSeconds * 1000);
  await OtpCode.collection.insertOne({
    _id: id,
    subject,
    codeHash: codeHash(config, subject, code),
    createdAt: now,
    expiresAt,
    isTestNumber: fixedCode !== undefined,
  });
  return { id, code, expiresAt };
}

/** Makes a code unusable (its SMS could not be sent). */
export async function discardCode(id: Types.ObjectId): Promise<void> {
  await OtpCode.collection.deleteOne({ _id: id });
}

const notFound = () =>
  new AppError(404, { errorCode: OTP_NOT_FOUND, messages: ['code: no usable code for this number; request a new one'] });

/**
 * Checks `code` against the latest unexpired code of `subject` and consumes it.
 * @throws AppError 404 OTP_NOT_FOUND (none, expired, used, attempts exhausted),
 *         400 OTP_INVALID with `details.attemptsRemaining`.
 */
export async function consumeCode(config: Config, subject: string, code: string, now: Date): Promise<{ codeId: Types.ObjectId; isTestNumber: boolean }> {
  const latest = await OtpCode.collection.findOne(
    { subject, expiresAt: { $gt: now } },
    { sort: { createdAt: -1, _id: -1 }, projection: { codeHash: 1, expiresAt: 1, isTestNumber: 1 } },
  );
  if (!latest) throw notFound();

  const matches = safeEqualHex(codeHash(config, subject, code), latest.codeHash as string);
  const codeId = latest._id as Types.ObjectId;
  const attemptId = matches ? `${codeId.toHexString()}:ok` : new Types.ObjectId().toHexString();
  try {
    await OtpAttempt.collection.insertOne({ _id: attemptId as never, codeId, ok: matches, at: now, expiresAt: latest.expiresAt });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw notFound(); // already used
    throw err;
  }

  const attempts = await OtpAttempt.collection.find({ codeId }, { projection: { ok: 1 } }).toArray();
  if (attempts.length > config.otp.maxAttempts) throw notFound();
  if (!matches) {
    if (attempts.some((a) => a.ok === true)) throw notFound(); // used by someone else already
    throw badRequest(['code: incorrect'], {
      errorCode: OTP_INVALID,
      details: { attemptsRemaining: config.otp.maxAttempts - attempts.length },
    });
  }
  return { codeId, isTestNumber: latest.isTestNumber === true };
}
