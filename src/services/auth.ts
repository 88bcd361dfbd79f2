/**
 * The one-time-code login flows (docs/api.md#auth-codes): send a code to a phone
 * number or an e-mail address, verify it, find or create the user, open a
 * session, return tokens, enqueue side effects. Phone and e-mail differ only
 * in their `Identity`; limits, guarantees and errors are the same.
 * Routes call these with validated input; nothing here sees `req`/`res`.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { auditEvent } from '../jobs/audit.js';
import { funnelEvent } from '../jobs/funnel.js';
import { lastLoginEvent } from '../jobs/last-login.js';
import type { Publisher } from '../jobs/outbox.js';
import { signupAttributionEvent } from '../jobs/signup-attribution.js';
import { AppError, conflict } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { MailDeliveryError, type Mailer } from '../lib/mail/index.js';
import type { OtpFailureReason, OtpMetrics } from '../lib/metrics.js';
import type { NormalizedPhone } from '../lib/phone.js';
import { SmsDeliveryError, type SmsProvider } from '../lib/sms/index.js';
import type { ClientInfo } from '../lib/client-info.js';
import { otpCodes, users } from '../models/collections.js';
import { newUserDocument, toPrivateUser, type PrivateUser, type UserRecord } from '../models/user.js';
import { isDuplicateKey } from '../models/write-once.js';
import { consumeCode, discardCode, issueCode, OTP_INVALID, type IssuedCode } from './otp.js';
import type { LimitName, RateLimits } from './rate-limits.js';
import { canLogIn, openSession, type TokenPair } from './sessions.js';

export interface AuthDeps {
  config: Config;
  limits: RateLimits;
  sms: SmsProvider;
  mailer: Mailer;
  publisher: Publisher;
  clock: () => Date;
  /** Counts sent, verified and refused codes (`otp_*_total`); absent when metrics are off. */
  otpMetrics?: OtpMetrics;
}

/** Who a code is for: a normalized phone number or a trimmed, lower-cased e-mail address. */
export type Identity = { kind: 'phone'; phone: NormalizedPhone } | { kind: 'email'; email: string };

export type ClickIdType = 'gclid' | 'fbclid' | 'ttclid' | 'other';

/** First-touch attribution of a verify request: stored only by the insert that creates the user. */
export interface Attribution {
  signupSource?: string;
  signupCampaign?: string;
  signupMedium?: string;
  signupContent?: string;
  signupTerm?: string;
  clickId?: string;
  clickIdType?: ClickIdType;
}

export interface SentCode {
  code?: string;
  expiresIn: number;
  resendAvailableIn: number;
  /** Only when the request asked to bind the code to its device (`bindToDevice`). */
  verificationId?: string;
}

export interface LoginResult extends TokenPair {
  user: PrivateUser;
  isRegistrationComplete: boolean;
}

/** The value of the identity's unique key on the user (`phoneKey` / `emailKey`). */
const keyOf = (id: Identity) => (id.kind === 'phone' ? id.phone.e164 : id.email);
/** What codes and the per-recipient limits are keyed by: `phone:+905551234567`, `email:user@example.com`. */
export const subjectKey = (kind: Identity['kind'], key: string) => `${kind}:${key}`;
const subjectOf = (id: Identity) => subjectKey(id.kind, keyOf(id));
const userFilter = (id: Identity) => (id.kind === 'phone' ? { phoneKey: id.phone.e164 } : { emailKey: id.email });
/** For logs: the logger masks `phone`; of an address only the domain is logged. */
const logFields = (id: Identity) =>
  id.kind === 'phone' ? { phone: id.phone.e164 } : { emailDomain: id.email.split('@')[1] };

function messageText(
  code: string,
  language: ClientInfo['language'],
  ttlSeconds: number,
): { subject: string; text: string } {
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  return language === 'tr'
    ? {
        subject: 'Allmine doğrulama kodunuz',
        text: `Allmine doğrulama kodunuz: ${code}. ${minutes} dakika geçerlidir. Kimseyle paylaşmayın.`,
      }
    : {
        subject: 'Your Allmine code',
        text: `Your Allmine code is ${code}. It expires in ${minutes} min. Do not share it.`,
      };
}

async function deliver(deps: AuthDeps, id: Identity, code: string, client: ClientInfo): Promise<void> {
  const { subject, text } = messageText(code, client.language, deps.config.otp.ttlSeconds);
  if (id.kind === 'phone') await deps.sms.send({ to: id.phone.e164, text });
  else await deps.mailer.send({ to: id.email, subject, text });
}

/** The metrics channel of an identity. */
const channelOf = (id: Identity) => (id.kind === 'phone' ? 'sms' : 'email');

/** The `otp_failed_total` reason of a refused verification, if it is one. */
function failureReason(err: unknown): OtpFailureReason | undefined {
  if (!(err instanceof AppError)) return undefined;
  if (err.status === 429) return 'rate_limited';
  if (err.errorCode === 'OTP_INVALID') return 'invalid';
  if (err.errorCode === 'OTP_NOT_FOUND') return 'not_found';
  return undefined;
}

export async function sendCode(
  deps: AuthDeps,
  id: Identity,
  client: ClientInfo,
  log: Logger,
  opts: { bindToDevice?: boolean } = {},
): Promise<SentCode> {
  const sent = await issueAndDeliver(deps, id, client, log, opts);
  deps.otpMetrics?.sent(channelOf(id));
  return sent;
}

async function issueAndDeliver(
  deps: AuthDeps,
  id: Identity,
  client: ClientInfo,
  log: Logger,
  opts: { bindToDevice?: boolean },
): Promise<SentCode> {
  const { config } = deps;
  const now = deps.clock();
  const bind = opts.bindToDevice === true;
  const result = (issued: IssuedCode): SentCode => ({
    ...(config.otp.exposeCode ? { code: issued.code } : {}),
    expiresIn: config.otp.ttlSeconds,
    resendAvailableIn: config.otp.resendCooldownSeconds,
    ...(issued.verificationId ? { verificationId: issued.verificationId } : {}),
  });

  const testCode = id.kind === 'phone' ? config.otp.testNumbers[id.phone.e164] : undefined;
  if (testCode !== undefined) {
    // Test numbers send no SMS and skip the send limits; every use is logged.
    log.warn({ ...logFields(id), ip: client.ip }, 'test number: code issued without SMS');
    return result(await issueCode(config, subjectOf(id), now, { fixedCode: testCode, bind }));
  }

  const key = subjectOf(id);
  const cooldown: [LimitName, string] = ['send-cooldown', key];
  await deps.limits.consume([
    ['send-ip-hour', client.ip ?? 'unknown'],
    ...(id.kind === 'phone' ? [['send-country-hour', id.phone.countryCode] as [LimitName, string]] : []),
    ['send-recipient-day', key],
    ['send-recipient-hour', key],
    cooldown,
  ]);
  const issued = await issueCode(config, key, now, { bind });
  try {
    await deliver(deps, id, issued.code, client);
  } catch (err) {
    await discardCode(key, issued.id);
    await deps.limits.refund([cooldown]);
    const reason = err instanceof SmsDeliveryError || err instanceof MailDeliveryError ? err.reason : 'error';
    log.error({ err, ...logFields(id), reason }, 'code delivery failed; code discarded');
    throw new AppError(502, {
      errorCode: id.kind === 'phone' ? 'SMS_DELIVERY_FAILED' : 'MAIL_DELIVERY_FAILED',
      messages: [`${id.kind === 'phone' ? 'sms' : 'email'}: the code could not be delivered; try again`],
    });
  }
  await deps.publisher.publish(
    [
      funnelEvent({
        step: 'otp-sent',
        codeId: issued.id.toHexString(),
        at: now.toISOString(),
        channel: id.kind,
        country: id.kind === 'phone' ? id.phone.countryCode : null,
        platform: client.platform,
        source: null,
        campaign: null,
      }),
    ],
    log,
  );
  log.info({ ...logFields(id), channel: id.kind }, 'otp sent');
  return result(issued);
}

/**
 * Creates the user of an identity. The unique index on the identity's key
 * makes concurrent first logins converge on one user: the losers of the
 * insert read the winner's document. Attribution is written only here.
 */
async function createUser(
  id: Identity,
  attribution: Attribution,
  client: ClientInfo,
  now: Date,
): Promise<{ user: UserRecord; isNew: boolean }> {
  try {
    // The document mongoose would build (schema defaults, the validators of the given fields), made from the
    // schema's defaults read once (newUserDocument); the driver inserts it, as `User.create` would.
    const user = await newUserDocument(
      {
        ...(id.kind === 'phone'
          ? {
              phoneKey: id.phone.e164,
              countryCode: id.phone.countryCode,
              phoneNumber: id.phone.phoneNumber,
              signupCountry: id.phone.countryCode,
            }
          : { emailKey: id.email, email: id.email }),
        signupSource: attribution.signupSource ?? null,
        signupCampaign: attribution.signupCampaign ?? null,
        signupMedium: attribution.signupMedium ?? null,
        signupContent: attribution.signupContent ?? null,
        signupTerm: attribution.signupTerm ?? null,
        clickId: attribution.clickId ?? null,
        clickIdType: attribution.clickIdType ?? null,
        signupPlatform: client.platform,
        timezone: client.timezoneGiven ? client.timezone : null,
      },
      now,
    );
    await users().insertOne(user);
    return { user, isNew: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const winner = await users().findOne(userFilter(id));
    if (!winner)
      throw conflict({ errorCode: 'ACCOUNT_UNAVAILABLE', messages: ['account: is changing state; try again'] });
    return { user: winner, isNew: false };
  }
}

/** Finds the user of an identity or creates it (see `createUser`). */
export async function findOrCreateUser(
  id: Identity,
  attribution: Attribution,
  client: ClientInfo,
  now: Date,
): Promise<{ user: UserRecord; isNew: boolean }> {
  const existing = await users().findOne(userFilter(id));
  return existing ? { user: existing, isNew: false } : createUser(id, attribution, client, now);
}

/**
 * The key of the `verify-recipient-hour` budget an attempt that reached a code is charged to. An unbound
 * code: the number's (or address's) own budget, shared by everyone who guesses at it. A code bound to a
 * device: a budget of that number and that `verificationId` (by its hash), which only the holder of the id
 * can reach. Otherwise a stranger could send itself bound codes for the number, spend the number-wide budget
 * on them with wrong guesses, and so block the owner's own bound code for an hour. The attacker gains no
 * guesses per day by it: every code still takes at most `OTP_MAX_ATTEMPTS` attempts and the send budget caps
 * the codes (RELIABILITY.md, "Lockout by strangers").
 */
export function verifyBudgetKey(subject: string, binding: string | null): string {
  return binding === null ? subject : `${subject}#bound:${binding}`;
}

export type VerifyInput = { identity: Identity; code: string; verificationId?: string } & Attribution;

export async function verifyCode(
  deps: AuthDeps,
  input: VerifyInput,
  client: ClientInfo,
  log: Logger,
  reqId: string,
): Promise<LoginResult> {
  const channel = channelOf(input.identity);
  try {
    const result = await logIn(deps, input, client, log, reqId);
    deps.otpMetrics?.verified(channel);
    return result;
  } catch (err) {
    const reason = failureReason(err);
    if (reason) deps.otpMetrics?.failed(channel, reason);
    throw err;
  }
}

async function logIn(
  deps: AuthDeps,
  input: VerifyInput,
  client: ClientInfo,
  log: Logger,
  reqId: string,
): Promise<LoginResult> {
  const { config } = deps;
  const id = input.identity;
  const now = deps.clock();

  // The verify budget is charged only by attempts that reach a usable code (see consumeCode), so
  // strangers guessing at a number whose code is bound to its owner's device cannot spend it.
  await deps.limits.consume([['verify-ip-hour', client.ip ?? 'unknown']]);
  const onReach = (binding: string | null) =>
    deps.limits.consume([['verify-recipient-hour', verifyBudgetKey(subjectOf(id), binding)]]);
  // The user is read while the code is checked: one round trip less for returning users.
  const userRead = users().findOne(userFilter(id));
  const [otp, existing] = await Promise.all([
    consumeCode(config, subjectOf(id), input.code, now, { verificationId: input.verificationId, onReach }).catch(
      (err: unknown) => auditWrongCode(deps, err, { id, userRead, client, now, reqId }, log),
    ),
    userRead,
  ]);
  if (otp.isTestNumber) log.warn({ ...logFields(id), ip: client.ip }, 'test number: login');

  const { user, isNew } = existing ? { user: existing, isNew: false } : await createUser(id, input, client, now);
  if (user.suspendedAt && user.accountDeletionStatus !== 'finalized') {
    throw conflict({ errorCode: 'ACCOUNT_SUSPENDED', messages: ['account: suspended; contact support'] });
  }
  if (!canLogIn(user)) {
    throw conflict({ errorCode: 'ACCOUNT_UNAVAILABLE', messages: ['account: cannot log in in its current state'] });
  }

  // The session and the login's events are written in parallel: one round trip of latency.
  const sessionId = new Types.ObjectId();
  const userId = user._id.toHexString();
  const sid = sessionId.toHexString();
  const login = lastLoginEvent({
    userId,
    sessionId: sid,
    loginAt: now.toISOString(),
    signedUpAt: user.createdAt.toISOString(),
    reqId,
  });
  const events = [
    login,
    funnelEvent({
      step: 'otp-verified',
      codeId: otp.codeId.toHexString(),
      at: now.toISOString(),
      channel: id.kind,
      country: id.kind === 'phone' ? id.phone.countryCode : null,
      platform: client.platform,
      source: input.signupSource ?? null,
      campaign: input.signupCampaign ?? null,
      medium: input.signupMedium ?? null,
    }),
    ...(isNew ? [signupAttributionEvent({ userId, sessionId: sid, reqId })] : []),
  ];
  // The login's audit event is recorded by the worker's `last-login` job (src/workers/last-login.ts).
  // In parallel, but the jobs are enqueued only once the session they read exists. Should storing
  // the session fail, the request fails and there was no login (its event is withdrawn); the code
  // was still verified and a new user still exists, so those events stay.
  const session = openSession(config, user, client, now, sessionId);
  const [{ tokens }] = await Promise.all([
    session,
    deps.publisher.publish(events, log, { after: session, cancelIfAfterFails: [login] }),
  ]);

  log.info({ userId, sessionId: sid, isNew, channel: id.kind, platform: client.platform }, 'login');
  return { ...tokens, user: toPrivateUser(user), isRegistrationComplete: user.isRegistrationComplete === true };
}

/**
 * A wrong code is recorded in the audit trail of the number's (or address's) user, if it has one: one
 * event per code, counting its wrong attempts (the worker counts each attempt once, by its number).
 * Always rethrows `err`; an audit that cannot be recorded is logged, never the caller's error.
 */
async function auditWrongCode(
  deps: AuthDeps,
  err: unknown,
  at: { id: Identity; userRead: Promise<UserRecord | null>; client: ClientInfo; now: Date; reqId: string },
  log: Logger,
): Promise<never> {
  const remaining =
    err instanceof AppError && err.errorCode === OTP_INVALID ? err.details?.attemptsRemaining : undefined;
  if (typeof remaining === 'number') {
    try {
      const [user, code] = await Promise.all([
        at.userRead.catch(() => null),
        otpCodes().findOne({ _id: subjectOf(at.id) }, { projection: { codeId: 1 } }),
      ]);
      if (user && code) {
        const attempt = deps.config.otp.maxAttempts - remaining;
        await deps.publisher.publish(
          [
            auditEvent({
              type: 'verify-failed',
              at: at.now.toISOString(),
              userId: user._id.toHexString(),
              actorKind: 'anonymous',
              codeId: code.codeId.toHexString(),
              attempt,
              channel: at.id.kind,
              platform: at.client.platform,
              reqId: at.reqId,
            }),
          ],
          log,
        );
      }
    } catch (auditErr) {
      log.warn({ err: (auditErr as Error).message }, 'wrong code not recorded in the audit trail');
    }
  }
  throw err;
}
