import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import { lastLoginJobId } from '../src/jobs/last-login.js';
import { signupAttributionJobId } from '../src/jobs/signup-attribution.js';
import { sha256Hex } from '../src/lib/crypto.js';
import { OtpCode } from '../src/models/otp-code.js';
import { Outbox } from '../src/models/outbox.js';
import { RefreshToken } from '../src/models/refresh-token.js';
import { Session } from '../src/models/session.js';
import { PRIVATE_USER_FIELDS, User } from '../src/models/user.js';
import { exampleUser } from '../src/openapi/examples.js';
import { otpCodes, users } from '../src/models/collections.js';
import { findOrCreateUser } from '../src/services/auth.js';
import { consumeCode, issueCode } from '../src/services/otp.js';
import {
  codeIn,
  eventually,
  freshIp,
  freshPhone,
  recordingSms,
  sendOtp,
  verifyOtp,
  type RecordingSms,
} from './support/auth.js';
import { testConfig } from './support/env.js';
import { queues } from './support/hooks.js';
import { startApp, type TestServer } from './support/http.js';

const ATTRIBUTION = { signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' };

describe('POST /api/v1/auth/verify-otp (contract §2.2)', () => {
  let srv: TestServer;
  let sms: RecordingSms;
  const config = testConfig();

  before(async () => {
    sms = recordingSms();
    // Generous per-number limits: these tests are about the code checks; the limits have their own tests.
    srv = await startApp(
      {
        TRUST_PROXY: 'true',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        OTP_VERIFY_PER_NUMBER_HOUR: '1000',
        OTP_SEND_PER_NUMBER_HOUR: '1000',
      },
      { sms },
    );
  });
  after(() => srv.close());

  /** Sends a code to a fresh number and returns what the test needs to verify it. */
  async function codeFor(phone = freshPhone(), ip = freshIp()) {
    const res = await sendOtp(srv, { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }, ip);
    expect(res.status, res.text).to.equal(201);
    return { phone, ip, code: res.body.data.code as string };
  }

  it('logs in the docs’ example as a new user, field for field, with stored state and queued jobs', async () => {
    // The docs' own number, cleared first so the test is repeatable on a long-lived database.
    await User.deleteMany({ phoneKey: '+905551234567' });
    const ip = freshIp();
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: '5551234567' }, ip);
    expect(sent.status).to.equal(201);
    expect(sent.body.data).to.deep.equal({
      countryCode: '+90',
      phoneNumber: '5551234567',
      code: sent.body.data.code,
      expiresIn: 180,
      resendAvailableIn: 0, // this suite's app runs without a resend cooldown
    });
    expect(sent.body.data.code).to.match(/^\d{4}$/);
    expect(codeIn(sms.sent.at(-1))).to.equal(sent.body.data.code);
    expect(sms.sent.at(-1)?.to).to.equal('+905551234567');
    // The code is stored only as an HMAC, in the number's one code document.
    const stored0 = await OtpCode.collection.findOne({ _id: 'phone:+905551234567' as never });
    expect(stored0).to.include({ attempts: 0, isTestNumber: false });
    expect(stored0?.codeHash).to.match(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored0)).to.not.match(new RegExp(`"${sent.body.data.code}"`));

    const res = await verifyOtp(
      srv,
      { countryCode: '90', phoneNumber: '5551234567', code: sent.body.data.code, ...ATTRIBUTION },
      ip,
      {
        'x-platform': 'mobile_ios',
        'x-device-id': 'device-A1',
        'x-app-version': '2.4.1',
        'user-agent': 'Allmine/2.4.1 iOS',
      },
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ isSuccess: true, statusCode: 200 });
    const data = res.body.data;
    expect(Object.keys(data)).to.deep.equal([
      'accessToken',
      'refreshToken',
      'expiresIn',
      'refreshExpiresIn',
      'user',
      'isRegistrationComplete',
    ]);
    expect(data).to.include({ expiresIn: 3600, refreshExpiresIn: 2592000, isRegistrationComplete: false });

    // The user object: exactly the documented keys, unset values as documented.
    const user = data.user;
    expect(Object.keys(user)).to.deep.equal([...PRIVATE_USER_FIELDS]);
    const stored = await User.findOne({ phoneKey: '+905551234567' }).lean();
    expect(stored).to.not.equal(null);
    // Exactly the docs' example user (its id aside): the docs show what a new user gets.
    expect(user).to.deep.equal({ ...exampleUser(), id: stored!._id.toHexString() });
    expect(exampleUser()).to.include({
      countryCode: '90',
      phoneNumber: '5551234567',
      ...ATTRIBUTION,
      isRegistrationComplete: false,
      lastLogin: null,
    });

    // The access token: HS256, our issuer and audience, the user and the session.
    const decoded = jwt.verify(data.accessToken, config.jwt.secret, {
      algorithms: ['HS256'],
      issuer: 'allmine-auth',
      audience: 'allmine-app',
      complete: true,
    });
    expect(decoded.header.alg).to.equal('HS256');
    const claims = decoded.payload as jwt.JwtPayload;
    expect(claims.sub).to.equal(user.id);
    expect(claims.roles).to.deep.equal(['user']);
    expect(claims.exp! - claims.iat!).to.equal(3600);

    // The session: stored with the device; the refresh token only as a hash.
    const session = await Session.findById(claims.sid).lean();
    expect(session).to.deep.include({
      ip,
      platform: 'mobile_ios',
      deviceId: 'device-A1',
      appVersion: '2.4.1',
      userAgent: 'Allmine/2.4.1 iOS',
      revokedAt: null,
    });
    expect(session!.userId.toHexString()).to.equal(user.id);
    const refresh = await RefreshToken.findById(sha256Hex(data.refreshToken)).lean();
    expect(refresh?.sessionId.toHexString()).to.equal(claims.sid);
    expect(await RefreshToken.countDocuments({ _id: data.refreshToken })).to.equal(0);
    expect(session!.expiresAt.getTime() - session!.createdAt.getTime()).to.equal(2592000 * 1000);

    // The code is used up: its document is gone.
    expect(await OtpCode.countDocuments({ _id: 'phone:+905551234567' })).to.equal(0);

    // The side effects are queued, with ids only; once queued, the login's outbox document is gone.
    await eventually(
      async () => (await Outbox.countDocuments({ 'events.data.sessionId': claims.sid })) === 0,
      5000,
      'outbox emptied',
    );
    const lastLogin = await eventually(
      () => queues()['last-login'].getJob(lastLoginJobId(claims.sid as string)),
      5000,
      'last-login queued',
    );
    expect(lastLogin?.data).to.deep.equal({
      userId: user.id,
      sessionId: claims.sid,
      loginAt: session!.createdAt.toISOString(),
      signedUpAt: (await users().findOne({ _id: new Types.ObjectId(user.id as string) }))!.createdAt.toISOString(),
      reqId: res.headers.get('x-request-id'),
    });
    const signup = await eventually(
      () => queues()['signup-attribution'].getJob(signupAttributionJobId(user.id)),
      5000,
      'signup queued',
    );
    expect(signup?.data).to.deep.equal({
      userId: user.id,
      sessionId: claims.sid,
      reqId: res.headers.get('x-request-id'),
    });
    expect(signup?.opts.attempts).to.be.greaterThan(1);
    expect(signup?.opts.backoff).to.deep.equal({ type: 'exponential', delay: 1000 });
  });

  it('logs a returning number into the same user and keeps the first-touch attribution', async () => {
    const first = await codeFor();
    const a = await verifyOtp(srv, { ...first.phone, e164: undefined, code: first.code, ...ATTRIBUTION }, first.ip);
    expect(a.status, a.text).to.equal(200);

    // A later login, spelled differently and carrying another source.
    const again = await sendOtp(
      srv,
      {
        countryCode: '+90',
        phoneNumber: `0${first.phone.phoneNumber.slice(0, 3)} ${first.phone.phoneNumber.slice(3, 6)} ${first.phone.phoneNumber.slice(6)}`,
      },
      freshIp(),
    );
    expect(again.status, again.text).to.equal(201);
    const b = await verifyOtp(
      srv,
      {
        countryCode: '90',
        phoneNumber: first.phone.phoneNumber,
        code: again.body.data.code,
        signupSource: 'tiktok_ads',
        signupCampaign: 'other',
      },
      freshIp(),
    );
    expect(b.status, b.text).to.equal(200);
    expect(b.body.data.user.id).to.equal(a.body.data.user.id);
    expect(b.body.data.isRegistrationComplete).to.equal(false);
    expect(b.body.data.user).to.include({ signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' });
    expect(await User.countDocuments({ phoneKey: first.phone.e164 })).to.equal(1);
    const stored = await User.findOne({ phoneKey: first.phone.e164 }).lean();
    expect(stored).to.include({ signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' });
    expect(await Session.countDocuments({ userId: stored!._id })).to.equal(2);
    // Only the first login queued a signup; both queued a last-login.
    const bSid = (jwt.decode(b.body.data.accessToken) as jwt.JwtPayload).sid as string;
    await eventually(() => queues()['last-login'].getJob(lastLoginJobId(bSid)), 5000, 'second last-login queued');
    const signup = await eventually(
      () => queues()['signup-attribution'].getJob(signupAttributionJobId(stored!._id.toHexString())),
      5000,
      'signup queued',
    );
    expect(signup?.data.sessionId).to.equal((jwt.decode(a.body.data.accessToken) as jwt.JwtPayload).sid);
  });

  it('refuses the right code after 5 wrong ones, counting down attemptsRemaining', async () => {
    const { phone, ip, code } = await codeFor();
    const wrong = code === '0000' ? '1111' : '0000';
    for (let i = 4; i >= 0; i--) {
      const res = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: wrong }, ip);
      expect(res.status).to.equal(400);
      expect(res.body).to.include({ errorCode: 'OTP_INVALID', data: null, isSuccess: false });
      expect(res.body.errors[0]).to.equal('Validation failed');
      expect(res.body.details).to.deep.equal({ attemptsRemaining: i });
    }
    const right = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, ip);
    expect(right.status).to.equal(404);
    expect(right.body.errorCode).to.equal('OTP_NOT_FOUND');
    expect(await User.countDocuments({ phoneKey: phone.e164 })).to.equal(0);
  });

  it('of 20 concurrent verifies with the right code, exactly one succeeds and one user exists', async () => {
    const { phone, code } = await codeFor();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, freshIp()),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok, results.map((r) => r.status).join(',')).to.have.length(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).to.equal(404);
      expect(r.body.errorCode).to.equal('OTP_NOT_FOUND');
    }
    const users = await User.find({ phoneKey: phone.e164 }).lean();
    expect(users).to.have.length(1);
    expect(await Session.countDocuments({ userId: users[0]!._id })).to.equal(1);
  });

  it('of 20 concurrent wrong guesses and the right code, at most 5 are honoured', async () => {
    const { phone, code } = await codeFor();
    const wrong = code === '0000' ? '1111' : '0000';
    const results = await Promise.all(
      Array.from({ length: 21 }, (_, i) =>
        verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: i === 10 ? code : wrong }, freshIp()),
      ),
    );
    const honoured = results.filter((r) => r.status === 200 || r.body?.errorCode === 'OTP_INVALID');
    expect(honoured.length).to.be.at.most(5);
    expect(results.filter((r) => r.body?.errorCode === 'OTP_NOT_FOUND').length).to.be.at.least(16);
    // The code is dead either way: used by the right guess, or its attempts spent.
    const left = await OtpCode.collection.findOne({ _id: `phone:${phone.e164}` as never });
    if (left) expect(left.attempts).to.equal(5);
    else expect(results.filter((r) => r.status === 200)).to.have.length(1);
  });

  it('accepts a code once', async () => {
    const { phone, ip, code } = await codeFor();
    expect((await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, ip)).status).to.equal(
      200,
    );
    const again = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, ip);
    expect(again.status).to.equal(404);
    expect(again.body.errorCode).to.equal('OTP_NOT_FOUND');
    expect(again.body.errors[0]).to.equal('Resource not found');
  });

  it('answers 404 OTP_NOT_FOUND for a number that was never sent a code, and creates nothing', async () => {
    const phone = freshPhone();
    const res = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: '1234' }, freshIp());
    expect(res.status).to.equal(404);
    expect(res.body).to.include({ errorCode: 'OTP_NOT_FOUND', data: null });
    expect(await User.countDocuments({ phoneKey: phone.e164 })).to.equal(0);
  });

  it('refuses malformed bodies with 400, naming each field, and changes nothing', async () => {
    const phone = freshPhone();
    const cases: [unknown, string[]][] = [
      [{}, ['countryCode: is required', 'phoneNumber: is required', 'code: is required']],
      [{ countryCode: 90, phoneNumber: phone.phoneNumber, code: '1234' }, ['countryCode: must be a string']],
      [
        { countryCode: '90', phoneNumber: '2125551234', code: '1234' },
        ['phoneNumber: not a valid mobile number for country code 90'],
      ],
      [{ countryCode: '90', phoneNumber: phone.phoneNumber, code: '12a4' }, ['code: must be 4 digits']],
      [
        { countryCode: '90', phoneNumber: phone.phoneNumber, code: '1234', signupSource: 'insta gram' },
        ['signupSource: must be 1-64 characters of A-Z a-z 0-9 . _ -'],
      ],
      [
        { countryCode: '90', phoneNumber: phone.phoneNumber, code: '1234', signupCampaign: 'x'.repeat(65) },
        ['signupCampaign: must be 1-64 characters of A-Z a-z 0-9 . _ -'],
      ],
      [
        { countryCode: '90', phoneNumber: phone.phoneNumber, code: '1234', signupSource: '' },
        ['signupSource: must be 1-64 characters of A-Z a-z 0-9 . _ -'],
      ],
      [{ countryCode: '90', phoneNumber: phone.phoneNumber, code: '1234', isAdmin: true }, ['isAdmin: unknown field']],
      [['90', phone.phoneNumber], ['body: must be a JSON object']],
    ];
    for (const [body, messages] of cases) {
      const res = await verifyOtp(srv, body, freshIp());
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.errors, JSON.stringify(body)).to.deep.equal(['Validation failed', ...messages]);
      expect(res.body.data).to.equal(null);
    }
    expect(await User.countDocuments({ phoneKey: phone.e164 })).to.equal(0);
    expect(await OtpCode.countDocuments({ _id: `phone:${phone.e164}` })).to.equal(0);
  });

  it('answers 409 ACCOUNT_SUSPENDED for a suspended account, and opens no session', async () => {
    const { phone, ip, code } = await codeFor();
    const user = await User.create({
      phoneKey: phone.e164,
      countryCode: '90',
      phoneNumber: phone.phoneNumber,
      suspendedAt: new Date(),
    });
    const res = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, ip);
    expect(res.status).to.equal(409);
    expect(res.body.errors[0]).to.equal('Resource already exists or cannot be changed in its current state');
    expect(res.body.errorCode).to.equal('ACCOUNT_SUSPENDED');
    expect(await Session.countDocuments({ userId: user._id })).to.equal(0);
  });

  it('logs in a user whose deletion is pending, showing the pending status', async () => {
    const { phone, ip, code } = await codeFor();
    await User.create({
      phoneKey: phone.e164,
      countryCode: '90',
      phoneNumber: phone.phoneNumber,
      accountDeletionStatus: 'pending',
      accountDeletionRequestedAt: new Date(),
    });
    const res = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, ip);
    expect(res.status).to.equal(200);
    expect(res.body.data.user.accountDeletionStatus).to.equal('pending');
  });

  it('limits verify attempts per number per hour with 429 and Retry-After, counting only attempts that reach a code', async () => {
    const limited = await startApp({ TRUST_PROXY: 'true', OTP_VERIFY_PER_NUMBER_HOUR: '2' }, { sms: recordingSms() });
    try {
      const phone = freshPhone();
      const body = { countryCode: '90', phoneNumber: phone.phoneNumber, code: '1234' };
      // No code yet: nothing to reach, nothing charged to the number.
      for (let i = 0; i < 3; i++) expect((await verifyOtp(limited, body, freshIp())).status).to.equal(404);
      const sent = await sendOtp(limited, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp());
      const wrong = { ...body, code: sent.body.data.code === '1234' ? '4321' : '1234' };
      expect((await verifyOtp(limited, wrong, freshIp())).status).to.equal(400);
      expect((await verifyOtp(limited, wrong, freshIp())).status).to.equal(400);
      const res = await verifyOtp(limited, { ...body, code: sent.body.data.code }, freshIp());
      expect(res.status).to.equal(429);
      expect(res.body.errors[0]).to.equal('Too many requests');
      expect(res.body.details.retryAfterSeconds).to.be.within(3500, 3600);
      expect(res.headers.get('retry-after')).to.equal(String(res.body.details.retryAfterSeconds));
    } finally {
      await limited.close();
    }
  });

  it('rejects a code that has expired (clock moved past its lifetime)', async () => {
    let now = Date.now();
    const clocked = await startApp({ TRUST_PROXY: 'true' }, { sms: recordingSms(), clock: () => new Date(now) });
    try {
      const phone = freshPhone();
      const ip = freshIp();
      const sent = await sendOtp(clocked, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      now += 181_000;
      const res = await verifyOtp(
        clocked,
        { countryCode: '90', phoneNumber: phone.phoneNumber, code: sent.body.data.code },
        ip,
      );
      expect(res.status).to.equal(404);
      expect(res.body.errorCode).to.equal('OTP_NOT_FOUND');
    } finally {
      await clocked.close();
    }
  });

  it('counts exactly 5 of 40 concurrent wrong attempts on one code and refuses the rest (service level)', async () => {
    const subject = `phone:${freshPhone().e164}`;
    const config = testConfig();
    const now = new Date();
    const issued = await issueCode(config, subject, now);
    const wrong = issued.code === '0000' ? '1111' : '0000';
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () =>
        consumeCode(config, subject, wrong, now).then(
          () => 'accepted',
          (err: { errorCode?: string }) => err.errorCode ?? String(err),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'OTP_INVALID')).to.have.length(config.otp.maxAttempts);
    expect(outcomes.filter((o) => o === 'OTP_NOT_FOUND')).to.have.length(40 - config.otp.maxAttempts);
    const left = await otpCodes().findOne({ _id: subject });
    expect(left?.attempts).to.equal(config.otp.maxAttempts);
    // The code is dead: even the right code finds nothing now.
    const late = await consumeCode(config, subject, issued.code, now).catch(
      (err: { errorCode?: string }) => err.errorCode,
    );
    expect(late).to.equal('OTP_NOT_FOUND');
  });

  it('of 30 concurrent attempts with the right code on one code, exactly one consumes it (service level)', async () => {
    const subject = `phone:${freshPhone().e164}`;
    const config = testConfig();
    const now = new Date();
    const issued = await issueCode(config, subject, now);
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        consumeCode(config, subject, issued.code, now).then(
          (r) => r.codeId.toHexString(),
          (err: { errorCode?: string }) => err.errorCode ?? String(err),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === issued.id.toHexString())).to.have.length(1);
    expect(outcomes.filter((o) => o === 'OTP_NOT_FOUND')).to.have.length(29);
    expect(await otpCodes().findOne({ _id: subject })).to.equal(null);
  });

  it('makes concurrent first logins of one number converge on one user (service level, 20 at once)', async () => {
    const phone = freshPhone();
    const client = {
      language: 'en',
      timezone: 'UTC',
      timezoneGiven: false,
      platform: 'web',
      appVersion: null,
      deviceId: null,
      userAgent: null,
      ip: null,
    } as const;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        findOrCreateUser(
          { kind: 'phone', phone: { countryCode: '90', phoneNumber: phone.phoneNumber, e164: phone.e164 } },
          { signupSource: `src${i}` },
          client,
          new Date(),
        ),
      ),
    );
    const ids = new Set(results.map((r) => r.user._id.toHexString()));
    expect(ids.size).to.equal(1);
    expect(results.filter((r) => r.isNew)).to.have.length(1);
    const users = await User.find({ phoneKey: phone.e164 }).lean();
    expect(users).to.have.length(1);
    // The attribution is the winner's, and every caller got the same document.
    const winner = results.find((r) => r.isNew)!;
    expect(users[0]!.signupSource).to.equal(winner.user.signupSource);
    expect(Types.ObjectId.isValid([...ids][0]!)).to.equal(true);
  });
});
