/**
 * The phone login flow (contract §2.1, §2.2): send a code, verify it, find
 * or create the user, open a session, return tokens, enqueue side effects.
 * Routes call these with validated input; nothing here sees `req`/`res`.
 */
import { Types } from 'mongoose';
import type { Config } from '../../config/index.js';
import { enqueueLastLogin } from '../jobs/last-login.js';
import type { Queues } from '../jobs/queues.js';
import { enqueueSignupAttribution } from '../jobs/signup-attribution.js';
import { AppError, conflict } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { NormalizedPhone } from '../lib/phone.js';
import { SmsDeliveryError, type SmsProvider } from '../lib/sms/index.js';
import { withTimeout } from '../lib/timeout.js';
import type { ClientInfo } from '../middleware/client-headers.js';
import { Session } from '../models/session.js';
import { toPrivateUser, User, type PrivateUser, type UserRecord } from '../models/user.js';
import { consumeCode, discardCode, issueCode } from './otp.js';
import type { LimitName, RateLimits } from './rate-limits.js';
import { newRefreshToken, signAccessToken } from './tokens.js';

export interface AuthDeps {
  config: Config;
  limits: RateLimits;
  sms: SmsProvider;
  queues: Queues;
  clock: () => Date;
}

export interface SendOtpResult {
  countryCode: string;
  phoneNumber: string;
  code?: string;
  expiresIn: number;
  resendAvailableIn: number;
}

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshExpiresIn: number;
  user: PrivateUser;
  isRegistrationComplete: boolean;
}

export interface Attribution {
  signupSource?: string;
  signupCampaign?: string;
}

const phoneSubject = (phone: NormalizedPhone) => `phone:${phone.e164}`;

function smsText(code: string, language: ClientInfo['language'], ttlSeconds: number): string {
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  return language === 'tr'
    ? `Allmine doğrulama kodunuz: ${code}. ${minutes} dakika geçerlidir. Kimseyle paylaşmayın.`
    : `Your Allmine code is ${code}. It expires in ${minutes} min. Do not share it.`;
}

export async function sendPhoneOtp(deps: AuthDeps, phone: NormalizedPhone, client: ClientInfo, log: Logger): Promise<SendOtpResult> {
  const { config } = deps;
  const now = deps.clock();
  const result = (code: string): SendOtpResult => ({
    countryCode: `+${phone.countryCode}`,
    phoneNumber: phone.phoneNumber,
    ...(config.otp.exposeCode ? { code } : {}),
    expiresIn: config.otp.ttlSeconds,
    resendAvailableIn: config.otp.resendCooldownSeconds,
  });

  const testCode = config.otp.testNumbers[phone.e164];
  if (testCode !== undefined) {
    // Test numbers send no SMS and skip the send limits; every use is logged.
    log.warn({ phone: phone.e164, ip: client.ip }, 'test number: code issued without SMS');
    const issued = await issueCode(config, phoneSubject(phone), now, testCode);
    return result(issued.code);
  }

  const cooldown: [LimitName, string] = ['send-cooldown', phone.e164];
  await deps.limits.consume([
    ['send-ip-hour', client.ip ?? 'unknown'],
    ['send-country-hour', phone.countryCode],
    ['send-number-day', phone.e164],
    ['send-number-hour', phone.e164],
    cooldown,
  ]);
  const issued = await issueCode(config, phoneSubject(phone), now);
  try {
    await deps.sms.send({ to: phone.e164, text: smsText(issued.code, client.language, config.otp.ttlSeconds) });
  } catch (err) {
    await discardCode(issued.id);
    await deps.limits.refund([cooldown]);
    const reason = err instanceof SmsDeliveryError ? err.reason : 'error';
    log.error({ err, provider: deps.sms.name, reason, phone: phone.e164 }, 'sms delivery failed; code discarded');
    throw new AppError(502, { errorCode: 'SMS_DELIVERY_FAILED', messages: ['sms: the code could not be delivered; try again'] });
  }
  log.info({ phone: phone.e164, provider: deps.sms.name }, 'otp sent');
  return result(issued.code);
}

/**
 * Finds the user of a phone number or creates it. The unique index on
 * `phoneKey` makes concurrent first logins converge on one user: the losers
 * of the insert read the winner's document.
 */
export async function findOrCreatePhoneUser(
  phone: NormalizedPhone,
  attribution: Attribution,
  client: ClientInfo,
  now: Date,
): Promise<{ user: UserRecord; isNew: boolean }> {
  const existing = await User.findOne({ phoneKey: phone.e164 }).lean<UserRecord>();
  if (existing) return { user: existing, isNew: false };
  return createPhoneUser(phone, attribution, client, now);
}

async function createPhoneUser(phone: NormalizedPhone, attribution: Attribution, client: ClientInfo, now: Date) {
  try {
    const doc = await User.create({
      phoneKey: phone.e164,
      countryCode: phone.countryCode,
      phoneNumber: phone.phoneNumber,
      signupSource: attribution.signupSource ?? null,
      signupCampaign: attribution.signupCampaign ?? null,
      signupCountry: phone.countryCode,
      signupPlatform: client.platform,
      timezone: client.timezoneGiven ? client.timezone : null,
      createdAt: now,
      updatedAt: now,
    });
    return { user: doc.toObject() as UserRecord, isNew: true };
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const winner = await User.findOne({ phoneKey: phone.e164 }).lean<UserRecord>();
    if (!winner) throw conflict({ messages: ['account: is changing state; try again'] });
    return { user: winner, isNew: false };
  }
}

function assertCanLogIn(user: UserRecord): void {
  if (user.accountDeletionStatus === 'finalized' || user.suspendedAt) {
    throw conflict({ errorCode: 'ACCOUNT_UNAVAILABLE', messages: ['account: cannot log in in its current state'] });
  }
}

export async function verifyPhoneOtp(
  deps: AuthDeps,
  input: { phone: NormalizedPhone; code: string } & Attribution,
  client: ClientInfo,
  log: Logger,
  reqId: string,
): Promise<LoginResult> {
  const { config } = deps;
  const { phone } = input;
  const now = deps.clock();

  await deps.limits.consume([
    ['verify-number-hour', phone.e164],
    ['verify-ip-hour', client.ip ?? 'unknown'],
  ]);
  // The user is read while the code is checked: one round trip less for returning users.
  const [otp, existing] = await Promise.all([
    consumeCode(config, phoneSubject(phone), input.code, now),
    User.findOne({ phoneKey: phone.e164 }).lean<UserRecord>(),
  ]);
  if (otp.isTestNumber) log.warn({ phone: phone.e164, ip: client.ip }, 'test number: login');

  const { user, isNew } = existing ? { user: existing, isNew: false } : await createPhoneUser(phone, input, client, now);
  assertCanLogIn(user);

  const sessionId = new Types.ObjectId();
  const refresh = newRefreshToken();
  await Session.collection.insertOne({
    _id: sessionId,
    userId: user._id,
    refreshTokenHash: refresh.hash,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: new Date(now.getTime() + config.tokens.refreshTtlSeconds * 1000),
    revokedAt: null,
    ip: client.ip,
    userAgent: client.userAgent,
    platform: client.platform,
    deviceId: client.deviceId,
    appVersion: client.appVersion,
  });

  const userId = user._id.toHexString();
  const accessToken = signAccessToken(config, { sub: userId, sid: sessionId.toHexString(), roles: user.roles ?? ['user'] }, now);
  await enqueueLoginEffects(deps, { userId, sessionId: sessionId.toHexString(), loginAt: now, isNew, reqId }, log);

  log.info({ userId, sessionId: sessionId.toHexString(), isNew, platform: client.platform }, 'login');
  return {
    accessToken,
    refreshToken: refresh.token,
    expiresIn: config.tokens.accessTtlSeconds,
    refreshExpiresIn: config.tokens.refreshTtlSeconds,
    user: toPrivateUser(user),
    isRegistrationComplete: user.isRegistrationComplete === true,
  };
}

/** Enqueue budget: a slow or absent Redis must not hold the login response. */
const ENQUEUE_TIMEOUT_MS = 1000;

async function enqueueLoginEffects(
  deps: AuthDeps,
  e: { userId: string; sessionId: string; loginAt: Date; isNew: boolean; reqId: string },
  log: Logger,
): Promise<void> {
  const jobs: Promise<void>[] = [
    enqueueLastLogin(deps.queues, { userId: e.userId, sessionId: e.sessionId, loginAt: e.loginAt.toISOString(), reqId: e.reqId }),
  ];
  if (e.isNew) jobs.push(enqueueSignupAttribution(deps.queues, { userId: e.userId, sessionId: e.sessionId, reqId: e.reqId }));
  const results = await Promise.allSettled(jobs.map((j) => withTimeout(j, ENQUEUE_TIMEOUT_MS, 'enqueue timed out')));
  for (const r of results) {
    if (r.status === 'rejected') log.error({ err: r.reason, userId: e.userId, sessionId: e.sessionId }, 'enqueue failed; side effect not queued');
  }
}

