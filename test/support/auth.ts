/**
 * Helpers for the login flow tests: fresh phone numbers and client IPs per
 * test (the Redis limits persist for the whole run), a recording SMS
 * provider, and the two requests of the flow.
 */
import { randomInt } from 'node:crypto';
import type { Mailer, MailDeliveryError, MailMessage } from '../../src/lib/mail/index.js';
import type { SmsDeliveryError, SmsMessage, SmsProvider } from '../../src/lib/sms/index.js';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { json, type TestServer, type TestResponse } from './http.js';

/**
 * Numbers and addresses are handed out in sequence from a random start, so no
 * two calls in one run collide (random picks did: about 200 logins in 10 s drew
 * one number twice, and its second send-otp met the resend cooldown), while
 * runs against a kept database rarely overlap.
 */
const PHONES = 10_000_000;
let nextPhone = randomInt(0, PHONES);
const IPS = 256 * 256 * 254;
let nextIp = randomInt(0, IPS);

/** A valid, unused Turkish mobile number (532 xxx xx xx is a Turkcell range). */
export function freshPhone(): { countryCode: string; phoneNumber: string; e164: string } {
  const phoneNumber = `532${(nextPhone++ % PHONES).toString().padStart(7, '0')}`;
  return { countryCode: '90', phoneNumber, e164: `+90${phoneNumber}` };
}

/** A client address not used before in this run, sent through X-Forwarded-For (tests run with TRUST_PROXY=true). */
export function freshIp(): string {
  const n = nextIp++ % IPS;
  return `10.${Math.floor(n / (256 * 254))}.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
}

export interface RecordingSms extends SmsProvider {
  sent: SmsMessage[];
  failWith?: SmsDeliveryError;
}

export function recordingSms(): RecordingSms {
  const sms: RecordingSms = {
    name: 'console',
    sent: [],
    async send(message) {
      sms.sent.push(message);
      if (sms.failWith) throw sms.failWith;
      return { providerMessageId: `rec-${sms.sent.length}` };
    },
  };
  return sms;
}

export interface RecordingMailer extends Mailer {
  sent: MailMessage[];
  failWith?: MailDeliveryError;
}

export function recordingMailer(): RecordingMailer {
  const mailer: RecordingMailer = {
    transport: 'json',
    sent: [],
    async send(message) {
      mailer.sent.push(message);
      if (mailer.failWith) throw mailer.failWith;
      return { messageId: `rec-${mailer.sent.length}` };
    },
    close() {},
  };
  return mailer;
}

/** The code in an SMS or e-mail text. */
export function codeIn(message: { text: string } | undefined): string {
  const m = message && /\b(\d{4,8})\b/.exec(message.text);
  if (!m) throw new Error('no code in the SMS');
  return m[1]!;
}

export function sendOtp(
  srv: TestServer,
  body: unknown,
  ip: string,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return srv.request('/api/v1/auth/send-otp', json(body, { 'x-forwarded-for': ip, ...headers }));
}

export function verifyOtp(
  srv: TestServer,
  body: unknown,
  ip: string,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return srv.request('/api/v1/auth/verify-otp', json(body, { 'x-forwarded-for': ip, ...headers }));
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` (`what` may describe the state then). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what: string | (() => Promise<string>) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`${typeof what === 'string' ? what : await what()} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const bearer = (token: string, extra: Record<string, string> = {}): RequestInit => ({
  headers: { authorization: `Bearer ${token}`, ...extra },
});

/** A JSON request with a bearer token (POST unless `method` says otherwise). */
export const post = (token: string, body: unknown = {}, method = 'POST'): RequestInit => ({
  ...json(body),
  method,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
});

/** Logs a fresh (or the given) number in through send-otp + verify-otp; returns tokens and ids. */
export async function login(srv: TestServer, phone = freshPhone(), headers: Record<string, string> = {}) {
  const ip = freshIp();
  const sent = await sendOtp(srv, { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }, ip);
  expect(sent.status, sent.text).to.equal(201);
  const res = await verifyOtp(
    srv,
    { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber, code: sent.body.data.code },
    ip,
    headers,
  );
  expect(res.status, res.text).to.equal(200);
  const claims = jwt.decode(res.body.data.accessToken) as jwt.JwtPayload;
  return {
    phone,
    accessToken: res.body.data.accessToken as string,
    refreshToken: res.body.data.refreshToken as string,
    sid: claims.sid as string,
    userId: claims.sub!,
    body: res.body.data,
  };
}
