/**
 * Small crypto helpers: keyed hashes for codes, plain hashes for
 * high-entropy tokens, constant-time comparison, and random material.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 of `value` under `secret`, hex. Used for one-time codes. */
export function hmacHex(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}

/** SHA-256, hex. Enough for 256-bit random tokens (no dictionary to try). */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two hex digests in constant time (length is not secret). */
export function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && ab.length > 0 && timingSafeEqual(ab, bb);
}

/**
 * Compares two strings in constant time without leaking the length of the secret (`expected`): both
 * are hashed first, so the compared buffers always have equal length. For passwords and bearer tokens.
 */
export function safeEqualText(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** A uniformly random numeric code of `length` digits (leading zeros kept). */
export function randomDigits(length: number): string {
  return randomInt(0, 10 ** length)
    .toString()
    .padStart(length, '0');
}

/** 256 random bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
