import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { registrationCompletedJobId } from '../src/jobs/registration-completed.js';
import { AccountFinalization, UsernameClaim } from '../src/models/account.js';
import { LoginEvent, SignupAttribution } from '../src/models/analytics.js';
import { User } from '../src/models/user.js';
import { exampleRegistration } from '../src/openapi/examples.js';
import { cancelDeletion, finalizeDue, requestDeletion } from '../src/services/account-deletion.js';
import { processAccountDeletionSweep } from '../src/workers/account-deletion.js';
import { bearer, eventually, freshIp, login, post, sendOtp, verifyOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { queues } from './support/hooks.js';
import { json, startApp, type TestServer } from './support/http.js';
import { createLogger } from '../src/lib/logger.js';
import type { Job } from 'bullmq';

const DAY = 86_400_000;
const uniqueName = () => `user_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const registration = (username: string) => ({ ...exampleRegistration(), username });

describe('registration and profile (contract §4.2)', () => {
  let now = Date.now();
  let srv: TestServer;
  before(async () => {
    srv = await startApp(
      { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', SESSION_CACHE_TTL_MS: '0' },
      { clock: () => new Date(now) },
    );
  });
  after(() => srv.close());
  afterEach(() => {
    now = Date.now();
  });

  const complete = (token: string, body: unknown) =>
    srv.request('/api/v1/users/me/complete-registration', post(token, body));

  it('completes registration: the user, me and the next verify show it; the funnel event is queued', async () => {
    const s = await login(srv);
    const username = uniqueName();
    const res = await complete(s.accessToken, {
      ...registration(username.toUpperCase()),
      consentFormAccepted: true,
      consentFormVersion: '1.0.0',
      interests: [' music ', 'travel'],
      expertise: ['musician', 'creator'],
      instagram: '@ayse.music',
      bio: 'Singer',
      timezone: 'UTC+03:00',
    });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.data).to.include({
      id: s.userId,
      name: 'Ayşe',
      surname: 'Yılmaz',
      username,
      birthDate: '1995-04-12T00:00:00.000Z',
      gender: 'female',
      privacyPolicyAccepted: true,
      privacyPolicyVersion: '1.2.0',
      termsOfUseAccepted: true,
      termsOfUseVersion: '1.1.0',
      consentFormAccepted: true,
      consentFormVersion: '1.0.0',
      isRegistrationComplete: true,
      instagram: 'ayse.music',
      bio: 'Singer',
      timezone: 'UTC+03:00',
    });
    expect(res.body.data.interests).to.deep.equal(['music', 'travel']);
    expect(res.body.data.expertise).to.deep.equal(['musician', 'creator']);

    const me = await srv.request('/api/v1/auth/me', bearer(s.accessToken));
    expect(me.body.data.isRegistrationComplete).to.equal(true);
    const ip = freshIp();
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: s.phone.phoneNumber }, ip);
    const again = await verifyOtp(
      srv,
      { countryCode: '90', phoneNumber: s.phone.phoneNumber, code: sent.body.data.code },
      ip,
    );
    expect(again.body.data.isRegistrationComplete).to.equal(true);
    expect(again.body.data.user.username).to.equal(username);

    const job = await eventually(
      () => queues()['registration-completed'].getJob(registrationCompletedJobId(s.userId)),
      5000,
      'queued',
    );
    expect(job?.data).to.include({ userId: s.userId });
    expect((await UsernameClaim.findById(username).lean())?.userId.toHexString()).to.equal(s.userId);

    const twice = await complete(s.accessToken, registration(uniqueName()));
    expect(twice.status).to.equal(409);
    expect(twice.body.errorCode).to.equal('REGISTRATION_ALREADY_COMPLETE');
  });

  it('refuses bad registrations with 400 naming each field, and changes nothing', async () => {
    const s = await login(srv);
    const name = uniqueName();
    const cases: [Record<string, unknown>, string[]][] = [
      [{ ...registration(name), birthDate: '2015-01-01' }, ['birthDate: must be at least 18 years ago']],
      [{ ...registration(name), birthDate: '1995-02-30' }, ['birthDate: must be a date YYYY-MM-DD']],
      [{ ...registration(name), gender: 'robot' }, ['gender: must be one of male, female, other, prefer_not_to_say']],
      [{ ...registration('admin') }, ['username: is reserved']],
      [
        { ...registration('.dotted') },
        ['username: must be 3-30 characters of a-z 0-9 . _, not starting or ending with .'],
      ],
      [{ ...registration('ab') }, ['username: must be 3-30 characters of a-z 0-9 . _, not starting or ending with .']],
      [{ ...registration(name), privacyPolicyAccepted: false }, ['privacyPolicyAccepted: must be true']],
      [
        { ...registration(name), expertise: ['astronaut'] },
        [
          `expertise: must be a list of distinct values of musician, trainer, chef, photographer, designer, stylist, gamer, educator, coach, entertainer, developer, creator`,
        ],
      ],
      [{ ...registration(name), roles: ['admin'] }, ['roles: unknown field']],
      [{ ...registration(name), phoneNumber: '5550000000' }, ['phoneNumber: unknown field']],
    ];
    for (const [body, messages] of cases) {
      const res = await complete(s.accessToken, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.errors, JSON.stringify(body)).to.deep.equal(['Validation failed', ...messages]);
    }
    const stale = await complete(s.accessToken, { ...registration(name), privacyPolicyVersion: '1.1.0' });
    expect(stale.status).to.equal(400);
    expect(stale.body.errorCode).to.equal('POLICY_VERSION_STALE');
    expect(stale.body.errors).to.deep.equal([
      'Validation failed',
      'privacyPolicyVersion: the current version is 1.2.0',
    ]);
    const stored = await User.findById(s.userId).lean();
    expect(stored).to.include({ isRegistrationComplete: false, username: null, name: null });
    expect(await UsernameClaim.countDocuments({ _id: name })).to.equal(0);
  });

  it('gives a contested username to exactly one of two racing users (and of 10)', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => login(srv)));
    const name = uniqueName();
    const results = await Promise.all(users.map((u) => complete(u.accessToken, registration(name))));
    expect(results.filter((r) => r.status === 200)).to.have.length(1);
    const losers = results.filter((r) => r.status !== 200);
    expect(losers.map((r) => r.status)).to.deep.equal(Array(9).fill(409));
    expect(losers.every((r) => r.body.errorCode === 'USERNAME_TAKEN')).to.equal(true);
    expect(await User.countDocuments({ username: name })).to.equal(1);
    const winner = results.find((r) => r.status === 200)!.body.data.id;
    expect((await UsernameClaim.findById(name).lean())?.userId.toHexString()).to.equal(winner);
  });

  it('checks usernames case-insensitively', async () => {
    const a = await login(srv);
    const b = await login(srv);
    const name = uniqueName();
    expect((await complete(a.accessToken, registration(name))).status).to.equal(200);
    const check = (token: string, username: string) =>
      srv.request('/api/v1/users/check-username', post(token, { username }));
    expect((await check(b.accessToken, name.toUpperCase())).body.data).to.deep.equal({ available: false });
    expect((await check(a.accessToken, name)).body.data).to.deep.equal({ available: true }); // your own
    expect((await check(b.accessToken, uniqueName())).body.data).to.deep.equal({ available: true });
    expect((await check(b.accessToken, 'support')).body.data).to.deep.equal({
      available: false,
      reason: 'is reserved',
    });
    expect((await srv.request('/api/v1/users/check-username', json({ username: name }))).status).to.equal(401);
    expect((await complete(b.accessToken, registration(name.toUpperCase()))).status).to.equal(409);
  });

  it('lets the username change once every 30 days (clock injected)', async () => {
    const s = await login(srv);
    const first = uniqueName();
    expect((await complete(s.accessToken, registration(first))).status).to.equal(200);
    let tokens = { accessToken: s.accessToken, refreshToken: s.refreshToken };
    // After days have passed the access token has expired: the app refreshes, as a real client would.
    const refreshTokens = async () => {
      const r = await srv.request('/api/v1/auth/refresh', json({ refreshToken: tokens.refreshToken }));
      expect(r.status, r.text).to.equal(200);
      tokens = r.body.data;
    };
    const change = (newUsername: string) =>
      srv.request('/api/v1/users/username', post(tokens.accessToken, { newUsername }, 'PATCH'));
    const second = uniqueName();
    const ok = await change(second);
    expect(ok.status, ok.text).to.equal(200);
    expect(ok.body.data.username).to.equal(second);
    expect(ok.body.data.lastUsernameChangeDate).to.equal(new Date(now).toISOString());
    expect(await UsernameClaim.countDocuments({ _id: first })).to.equal(0); // released

    now += 10 * DAY;
    await refreshTokens();
    const tooSoon = await change(uniqueName());
    expect(tooSoon.status).to.equal(409);
    expect(tooSoon.body.errorCode).to.equal('USERNAME_CHANGE_TOO_SOON');
    expect((await User.findById(s.userId).lean())?.username).to.equal(second);

    now += 21 * DAY; // 31 days after the last change
    await refreshTokens();
    const third = uniqueName();
    const later = await change(third);
    expect(later.status, later.text).to.equal(200);
    expect(later.body.data.username).to.equal(third);
  });

  it('updates profile fields with PATCH /users/me, clears with null, and refuses what is not a profile field', async () => {
    const s = await login(srv);
    const res = await srv.request(
      '/api/v1/users/me',
      post(s.accessToken, { bio: 'Hello', availabilityStatus: 'busy', tiktok: '@me', interests: ['a'] }, 'PATCH'),
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.body.data).to.include({ bio: 'Hello', availabilityStatus: 'busy', tiktok: 'me' });
    const cleared = await srv.request('/api/v1/users/me', post(s.accessToken, { bio: null, interests: null }, 'PATCH'));
    expect(cleared.body.data).to.include({ bio: null, availabilityStatus: 'busy' });
    expect(cleared.body.data.interests).to.deep.equal([]);
    for (const forbidden of [
      'phoneNumber',
      'roles',
      'followersCount',
      'signupSource',
      'username',
      'isRegistrationComplete',
    ]) {
      const bad = await srv.request('/api/v1/users/me', post(s.accessToken, { [forbidden]: 'x' }, 'PATCH'));
      expect(bad.status, forbidden).to.equal(400);
      expect(bad.body.errors, forbidden).to.deep.equal(['Validation failed', `${forbidden}: unknown field`]);
    }
    const stored = await User.findById(s.userId).lean();
    expect(stored?.roles).to.deep.equal(['user']);
  });

  it('takes birthDate back in the form the API returns it (midnight UTC), and refuses any other time of day', async () => {
    const s = await login(srv);
    const done = await complete(s.accessToken, { ...registration(uniqueName()), birthDate: '1995-04-12T00:00:00Z' });
    expect(done.status, done.text).to.equal(200);
    expect(done.body.data.birthDate).to.equal('1995-04-12T00:00:00.000Z');
    // A client edits the profile it read and sends the value back as it came.
    const read = (await srv.request('/api/v1/auth/me', bearer(s.accessToken))).body.data.birthDate as string;
    expect(read).to.equal('1995-04-12T00:00:00.000Z');
    const echoed = await srv.request(
      '/api/v1/users/me',
      post(s.accessToken, { birthDate: read, bio: 'echo' }, 'PATCH'),
    );
    expect(echoed.status, echoed.text).to.equal(200);
    expect(echoed.body.data).to.include({ birthDate: read, bio: 'echo' });
    const dateOnly = await srv.request('/api/v1/users/me', post(s.accessToken, { birthDate: '1990-01-31' }, 'PATCH'));
    expect(dateOnly.body.data.birthDate).to.equal('1990-01-31T00:00:00.000Z');

    const otherTime =
      'birthDate: must be a date YYYY-MM-DD or its midnight UTC YYYY-MM-DDT00:00:00.000Z; other times are refused';
    for (const [value, message] of [
      ['1980-06-15T03:00:00.000Z', otherTime],
      ['1980-06-15T00:00:00.000+03:00', otherTime],
      ['1980-06-15T00:00:00.001Z', otherTime],
      ['1980-06-14T23:59:59Z', otherTime],
      ['1980-06-15T00:00', otherTime],
      ['1980-02-30T00:00:00.000Z', 'birthDate: must be a date YYYY-MM-DD'],
    ]) {
      const res = await srv.request('/api/v1/users/me', post(s.accessToken, { birthDate: value }, 'PATCH'));
      expect(res.status, value).to.equal(400);
      expect(res.body.errors, value).to.deep.equal(['Validation failed', message]);
    }
    const refused = await complete((await login(srv)).accessToken, {
      ...registration(uniqueName()),
      birthDate: '1995-04-12T12:00:00.000Z',
    });
    expect(refused.status).to.equal(400);
    expect(refused.body.errors).to.deep.equal(['Validation failed', otherTime]);
    expect((await User.findById(s.userId).lean())?.birthDate?.toISOString()).to.equal('1990-01-31T00:00:00.000Z');
  });

  it('stores a profile e-mail in one spelling, and refuses quoted or invisible look-alikes', async () => {
    const s = await login(srv);
    const ok = await srv.request(
      '/api/v1/users/me',
      post(s.accessToken, { email: ' Zoe\u0308@Example.COM ' }, 'PATCH'),
    );
    expect(ok.status, ok.text).to.equal(200);
    expect(ok.body.data.email).to.equal('zo\u00EB@example.com');
    for (const [email, message] of [
      ['"zoe"@example.com', 'email: must not have a quoted local part'],
      ['zoe\u200B@example.com', 'email: must not contain spaces, invisible, formatting or control characters'],
      ['zoe\u3164@example.com', 'email: must not contain spaces, invisible, formatting or control characters'],
      ['zoe\u2800@example.com', 'email: must not contain spaces, invisible, formatting or control characters'],
      ['zoe\uFE0F@example.com', 'email: must not contain spaces, invisible, formatting or control characters'],
    ]) {
      const res = await srv.request('/api/v1/users/me', post(s.accessToken, { email }, 'PATCH'));
      expect(res.status, email).to.equal(400);
      expect(res.body.errors, email).to.deep.equal(['Validation failed', message]);
    }
    expect((await User.findById(s.userId).lean())?.email).to.equal('zo\u00EB@example.com');
  });
});

describe('account deletion (contract §4.3)', () => {
  const now = Date.now();
  let srv: TestServer;
  let flagOff: TestServer;
  before(async () => {
    const common = { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', SESSION_CACHE_TTL_MS: '0' };
    srv = await startApp({ ...common, ACCOUNT_DELETION_FINALIZE_NOW: 'true' }, { clock: () => new Date(now) });
    flagOff = await startApp(common);
  });
  after(async () => {
    await srv.close();
    await flagOff.close();
  });

  const deletion = (token: string, method: 'POST' | 'DELETE') =>
    srv.request('/api/v1/users/me/account-deletion', { method, headers: { authorization: `Bearer ${token}` } });

  it('request → pending (login still works) → cancel → cancelled; cancelling again is 409', async () => {
    const s = await login(srv);
    const req = await deletion(s.accessToken, 'POST');
    expect(req.status, req.text).to.equal(200);
    expect(req.body.data).to.deep.equal({
      status: 'pending',
      requestedAt: new Date(now).toISOString(),
      scheduledFor: new Date(now + 30 * DAY).toISOString(),
      cancelledAt: null,
      finalizedAt: null,
    });
    const again = await login(srv, s.phone);
    expect(again.body.user.accountDeletionStatus).to.equal('pending');
    expect(again.userId).to.equal(s.userId);

    const cancel = await deletion(s.accessToken, 'DELETE');
    expect(cancel.status).to.equal(200);
    expect(cancel.body.data).to.include({ status: 'cancelled', cancelledAt: new Date(now).toISOString() });
    expect((await User.findById(s.userId).lean())?.accountDeletionStatus).to.equal('cancelled');
    const twice = await deletion(s.accessToken, 'DELETE');
    expect(twice.status).to.equal(409);
    expect(twice.body.errorCode).to.equal('NO_PENDING_DELETION');
  });

  it('finalize-now erases the account, ends its tokens, frees its number and username; the number signs up anew', async () => {
    const s = await login(srv, undefined, { 'x-device-id': 'old-phone' });
    const username = uniqueName();
    expect(
      (await srv.request('/api/v1/users/me/complete-registration', post(s.accessToken, registration(username)))).status,
    ).to.equal(200);
    await SignupAttribution.collection.insertOne({
      _id: new Types.ObjectId(s.userId),
      source: 'kept',
      campaign: 'kept',
      day: '2026-01-01',
      country: '90',
      platform: 'web',
      signedUpAt: new Date(),
      recordedAt: new Date(),
    });
    await LoginEvent.collection.insertOne({
      _id: new Types.ObjectId(s.sid),
      userId: new Types.ObjectId(s.userId),
      at: new Date(),
      ip: '10.0.0.1',
      platform: 'web',
      deviceId: 'old-phone',
      appVersion: null,
      userAgent: null,
    });

    const fin = await srv.request('/api/v1/users/me/account-deletion/finalize-now', post(s.accessToken));
    expect(fin.status, fin.text).to.equal(200);
    expect(fin.body.data).to.include({
      status: 'finalized',
      userId: s.userId,
      finalizedAt: new Date(now).toISOString(),
    });

    expect((await srv.request('/api/v1/auth/me', bearer(s.accessToken))).status).to.equal(401);
    expect((await srv.request('/api/v1/auth/refresh', json({ refreshToken: s.refreshToken }))).status).to.equal(401);
    const erased = await User.findById(s.userId).lean();
    expect(erased).to.include({
      name: null,
      surname: null,
      username: null,
      phoneNumber: null,
      countryCode: null,
      accountDeletionStatus: 'finalized',
    });
    expect(erased).to.not.have.any.keys('phoneKey', 'emailKey'); // out of the sparse unique indexes: the number is free
    expect(await UsernameClaim.countDocuments({ _id: username })).to.equal(0);
    expect(await LoginEvent.countDocuments({ userId: new Types.ObjectId(s.userId) })).to.equal(0);
    expect(await SignupAttribution.countDocuments({ _id: new Types.ObjectId(s.userId) })).to.equal(1); // counts kept

    const reborn = await login(srv, s.phone);
    expect(reborn.userId).to.not.equal(s.userId);
    expect(reborn.body.user).to.include({
      phoneNumber: s.phone.phoneNumber,
      isRegistrationComplete: false,
      username: null,
    });
    const other = await login(srv);
    expect(
      (await srv.request('/api/v1/users/check-username', post(other.accessToken, { username }))).body.data,
    ).to.deep.equal({ available: true });
  });

  it('finalize-now is 403 when the feature flag is off, and changes nothing', async () => {
    const s = await login(flagOff);
    const res = await flagOff.request('/api/v1/users/me/account-deletion/finalize-now', post(s.accessToken));
    expect(res.status).to.equal(403);
    expect(res.body).to.include({ errorCode: 'FEATURE_DISABLED', data: null });
    expect(res.body.errors[0]).to.equal('Insufficient permissions');
    expect((await User.findById(s.userId).lean())?.accountDeletionStatus).to.equal(null);
    expect((await flagOff.request('/api/v1/auth/me', bearer(s.accessToken))).status).to.equal(200);
  });

  it('a deletion request racing a cancel answers pending, never cancelled (50 rounds, service level)', async () => {
    const s = await login(srv);
    const userId = new Types.ObjectId(s.userId);
    const config = testConfig();
    const at = new Date(now);
    const answers: string[] = [];
    for (let round = 0; round < 50; round++) {
      expect((await requestDeletion(config, userId, at)).status).to.equal('pending');
      // The request's update finds the pending request; the cancel lands before or after its read.
      const [asked, cancelled] = await Promise.all([requestDeletion(config, userId, at), cancelDeletion(userId, at)]);
      answers.push(String(asked.status));
      expect(cancelled.status).to.equal('cancelled');
    }
    expect(
      answers.filter((a) => a !== 'pending'),
      'requests answered other than pending',
    ).to.deep.equal([]);
  });

  it('the scheduled sweep, run twice at once on a due request, finalizes it once', async () => {
    const s = await login(srv);
    expect((await deletion(s.accessToken, 'POST')).status).to.equal(200);
    const notYet = await finalizeDue(new Date(now + 29 * DAY));
    expect((await User.findById(s.userId).lean())?.accountDeletionStatus).to.equal('pending');
    expect(notYet.finalized).to.equal(0);

    const ctx = {
      log: createLogger({ level: 'silent' }),
      config: testConfig(),
      now: () => new Date(now + 31 * DAY),
      queues: queues(),
    };
    const job = {} as Job;
    const [a, b] = await Promise.all([processAccountDeletionSweep(job, ctx), processAccountDeletionSweep(job, ctx)]);
    const finalizedHere = (r: { finalized: number }) => r.finalized;
    expect(await AccountFinalization.countDocuments({ _id: new Types.ObjectId(s.userId) })).to.equal(1);
    expect((await User.findById(s.userId).lean())?.accountDeletionStatus).to.equal('finalized');
    // Across both runs this user was finalized once (other due users of the shared database may add to both).
    const mine = await AccountFinalization.findById(s.userId).lean();
    expect(mine?.by).to.equal('scheduled');
    expect(finalizedHere(a) + finalizedHere(b)).to.be.at.least(1);
    const third = await processAccountDeletionSweep(job, ctx);
    expect(third.seen).to.equal(0);
    expect((await srv.request('/api/v1/auth/me', bearer(s.accessToken))).status).to.equal(401);
  });
});
