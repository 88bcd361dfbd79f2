import { expect } from 'chai';
import { Worker } from 'bullmq';
import { randomBytes, randomInt } from 'node:crypto';
import { Types } from 'mongoose';
import { closeQueues, createQueues, QUEUE_NAMES, type Queues } from '../src/jobs/queues.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis, type Redis } from '../src/lib/redis.js';
import { FunnelEvent, RegistrationCompletion, SignupAttribution } from '../src/models/analytics.js';
import { Session } from '../src/models/session.js';
import { User } from '../src/models/user.js';
import { jobHandler } from '../src/workers/processors.js';
import { bearer, eventually, freshIp, freshPhone, login, post, sendOtp, verifyOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { redis } from './support/hooks.js';
import { json, startApp, type TestServer } from './support/http.js';
import { runCli } from './support/processes.js';

const DAY = 86_400_000;
const SOURCES = ['instagram_ads', 'tiktok_ads', 'google_search'];
const CAMPAIGNS = ['spring_launch', 'summer_promo', 'autumn_push', 'winter_sale'];

/** Runs a CLI of src/cli the way an operator would; resolves to its exit code and output. */
const cli = runCli;

describe('marketing reports (contract §5)', function () {
  this.timeout(120_000);
  // Three UTC days of their own, far from every other test's data.
  const base = Date.UTC(2031, 0, 1) + randomInt(0, 3000) * DAY;
  const days = [0, 1, 2].map((i) => new Date(base + i * DAY).toISOString().slice(0, 10));
  let now = base;
  /**
   * The story's present: the days above lie in the future of the real clock, and the worker refuses a login
   * dated ahead of its own clock, so this test runs the worker's job handlers in process, on the story's
   * clock, over queues of its own (no other test's jobs or schedulers; `QUEUE_PREFIX` for the CLI).
   */
  const present = base + 10 * DAY;
  const QUEUE_PREFIX = `{analytics-${randomBytes(4).toString('hex')}}`;
  let ownQueues: Queues;
  let connection: Redis;
  let workers: Worker[] = [];
  let srv: TestServer;
  let marketer: Awaited<ReturnType<typeof login>>;
  let plain: Awaited<ReturnType<typeof login>>;
  const plan: { day: string; source: string; campaign: string; completes: boolean }[] = [];

  before(async () => {
    const config = testConfig({ QUEUE_PREFIX });
    ownQueues = createQueues(config, redis());
    srv = await startApp(
      { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', QUEUE_PREFIX },
      { clock: () => new Date(now), queues: ownQueues },
    );
    connection = createRedis(config, 'bullmq');
    const logger = createLogger({ level: 'silent' });
    workers = QUEUE_NAMES.map(
      (name) =>
        new Worker(name, jobHandler(name, { logger, config, queues: ownQueues, now: () => new Date(present) }), {
          connection,
          prefix: config.redis.queuePrefix,
        }),
    );

    // 50 signups over 3 days, 3 sources × 4 campaigns; every 10th without attribution; every 5th completes.
    for (let i = 0; i < 50; i++) {
      const attributed = i % 10 !== 9;
      const entry = {
        day: days[i % 3]!,
        source: attributed ? SOURCES[i % 3]! : '(none)',
        campaign: attributed ? CAMPAIGNS[i % 4]! : '(none)',
        completes: i % 5 === 0,
      };
      plan.push(entry);
      now = Date.parse(`${entry.day}T10:00:00.000Z`) + i * 1000;
      const phone = freshPhone();
      const ip = freshIp();
      const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      const body = {
        countryCode: '90',
        phoneNumber: phone.phoneNumber,
        code: sent.body.data.code,
        ...(attributed ? { signupSource: entry.source, signupCampaign: entry.campaign } : {}),
      };
      const res = await verifyOtp(srv, body, ip, { 'x-platform': i % 2 ? 'mobile_ios' : 'mobile_android' });
      expect(res.status, res.text).to.equal(200);
      if (entry.completes) {
        const done = await srv.request(
          '/api/v1/users/me/complete-registration',
          post(res.body.data.accessToken, {
            name: 'N',
            surname: 'S',
            username: `r${res.body.data.user.id}`.slice(0, 30),
            birthDate: '1990-05-05',
            gender: 'other',
            privacyPolicyAccepted: true,
            privacyPolicyVersion: '1.2.0',
            termsOfUseAccepted: true,
            termsOfUseVersion: '1.1.0',
          }),
        );
        expect(done.status, done.text).to.equal(200);
      }
    }
    // A marketer and a plain user, who log in a week later (outside the reported days).
    now = present;
    const mPhone = freshPhone();
    await User.create({
      phoneKey: mPhone.e164,
      countryCode: '90',
      phoneNumber: mPhone.phoneNumber,
      roles: ['user', 'marketing'],
    });
    marketer = await login(srv, mPhone);
    plain = await login(srv);

    await eventually(
      async () => (await SignupAttribution.countDocuments({ day: { $in: days } })) === 50,
      60_000,
      '50 signup facts',
    );
    await eventually(
      async () => (await RegistrationCompletion.countDocuments({ signupDay: { $in: days } })) === 10,
      60_000,
      '10 completion facts',
    );
    await eventually(
      async () => (await FunnelEvent.countDocuments({ step: 'login', day: { $in: days } })) === 50,
      60_000,
      '50 login facts',
    );
    // Each fact is counted in its rollup right after it is stored.
    await eventually(
      async () => {
        const f = (
          await srv.request(`/api/v1/analytics/funnel?from=${days[0]}&to=${days[2]}`, bearer(marketer.accessToken))
        ).body.data;
        return f.signups === 50 && f.registrationsCompleted === 10 && f.logins === 50 && f.otpSent === 50;
      },
      30_000,
      'the rollups up to date',
    );
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await srv?.close();
    if (ownQueues) {
      await Promise.all(Object.values(ownQueues).map((q) => q.obliterate({ force: true })));
      await closeQueues(ownQueues);
    }
    if (connection) await closeRedis(connection);
  });

  const report = (token: string, query: string) => srv.request(`/api/v1/analytics/signups?${query}`, bearer(token));

  function expectedRows(dims: ('day' | 'source' | 'campaign')[]) {
    const rows = new Map<string, Record<string, unknown>>();
    for (const p of plan) {
      const key = dims.map((d) => p[d]).join('|');
      const row: Record<string, unknown> = rows.get(key) ?? {
        ...Object.fromEntries(dims.map((d) => [d, p[d]])),
        signups: 0,
        registrationsCompleted: 0,
        spend: [],
      };
      (row.signups as number)++;
      if (p.completes) (row.registrationsCompleted as number)++;
      rows.set(key, row);
    }
    return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  }

  it('groups the 50 signups by day, source and campaign, exactly, with (none) and completions', async () => {
    const res = await report(marketer.accessToken, `from=${days[0]}&to=${days[2]}&groupBy=day,source,campaign`);
    expect(res.status, res.text).to.equal(200);
    const expected = expectedRows(['day', 'source', 'campaign']);
    expect(res.body.data).to.deep.equal({
      from: days[0],
      to: days[2],
      tz: 'UTC',
      groupBy: ['day', 'source', 'campaign'],
      rows: expected,
      totals: { signups: 50, registrationsCompleted: 10, spend: [] },
    });
    expect(res.body.data.rows.some((r: { source: string }) => r.source === '(none)')).to.equal(true);
  });

  it('groups by campaign alone and by source, and filters by a source', async () => {
    const byCampaign = await report(marketer.accessToken, `from=${days[0]}&to=${days[2]}&groupBy=campaign`);
    expect(byCampaign.body.data.rows).to.deep.equal(expectedRows(['campaign']));
    const bySource = await report(marketer.accessToken, `from=${days[0]}&to=${days[2]}&groupBy=source`);
    expect(bySource.body.data.rows).to.deep.equal(expectedRows(['source']));
    const oneDay = await report(marketer.accessToken, `from=${days[1]}&to=${days[1]}&groupBy=day`);
    expect(oneDay.body.data.rows).to.deep.equal(expectedRows(['day']).filter((r) => r.day === days[1]));
    const filtered = await report(
      marketer.accessToken,
      `from=${days[0]}&to=${days[2]}&groupBy=campaign&source=tiktok_ads`,
    );
    const tiktok = plan.filter((p) => p.source === 'tiktok_ads');
    expect(filtered.body.data.totals).to.deep.equal({
      signups: tiktok.length,
      registrationsCompleted: tiktok.filter((p) => p.completes).length,
      spend: [],
    });
  });

  it('exports the same rows as CSV', async () => {
    const res = await report(
      marketer.accessToken,
      `from=${days[0]}&to=${days[2]}&groupBy=day,source,campaign&format=csv`,
    );
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    expect(res.headers.get('content-disposition')).to.include(`signups_${days[0]}_${days[2]}.csv`);
    const header =
      'day,source,campaign,signups,registrationsCompleted,currency,spend,costPerSignup,costPerCompletedRegistration';
    const expected = [
      header,
      ...expectedRows(['day', 'source', 'campaign']).map(
        (r) => `${r.day},${r.source},${r.campaign},${r.signups},${r.registrationsCompleted},,,,`,
      ),
    ];
    expect(res.text).to.equal(`${expected.join('\r\n')}\r\n`);
  });

  it('answers the funnel for the range, and for one source', async () => {
    const res = await srv.request(
      `/api/v1/analytics/funnel?from=${days[0]}&to=${days[2]}`,
      bearer(marketer.accessToken),
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.body.data).to.deep.equal({
      from: days[0],
      to: days[2],
      tz: 'UTC',
      source: null,
      campaign: null,
      medium: null,
      otpSent: 50,
      otpVerified: 50,
      signups: 50,
      registrationsCompleted: 10,
      logins: 50,
    });
    const one = await srv.request(
      `/api/v1/analytics/funnel?from=${days[0]}&to=${days[2]}&source=instagram_ads&campaign=spring_launch`,
      bearer(marketer.accessToken),
    );
    const mine = plan.filter((p) => p.source === 'instagram_ads' && p.campaign === 'spring_launch');
    expect(one.body.data).to.include({
      otpSent: null,
      otpVerified: mine.length,
      signups: mine.length,
      registrationsCompleted: mine.filter((p) => p.completes).length,
    });
  });

  it('refuses a user-role token with 403 and bad queries with 400', async () => {
    for (const path of ['/api/v1/analytics/signups', '/api/v1/analytics/funnel']) {
      const res = await srv.request(path, bearer(plain.accessToken));
      expect(res.status, path).to.equal(403);
      expect(res.body.errors[0]).to.equal('Insufficient permissions');
      expect(res.body.errorCode).to.equal('ROLE_REQUIRED');
      expect((await srv.request(path)).status).to.equal(401);
    }
    const cases: [string, string][] = [
      [`from=${days[2]}&to=${days[0]}`, 'from: must not be after to'],
      ['from=2026-02-30', 'from: must be a UTC day YYYY-MM-DD'],
      ['groupBy=day,weekday', 'groupBy: "weekday" is not one of day, source, campaign, medium, country, platform'],
      ['format=xml', 'format: must be json or csv'],
      ['from=2020-01-01&to=2026-01-01', 'to: the range is at most 366 days'],
      ['limit=5', 'limit: unknown query parameter'],
      ['from=2026-01-01&from=2026-01-02', 'from: must be given once'],
    ];
    for (const [query, message] of cases) {
      const res = await report(marketer.accessToken, query);
      expect(res.status, query).to.equal(400);
      expect(res.body.errors, query).to.deep.equal(['Validation failed', message]);
    }
  });

  it('grant-role makes a marketer from a phone number; the role is in the next token', async () => {
    const someone = await login(srv);
    const user = await User.findById(someone.userId).lean();
    const e164 = `+${user!.countryCode}${user!.phoneNumber}`;
    const { code, stdout, stderr } = await cli('grant-role', [e164, 'marketing']);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.include(someone.userId).and.include('marketing');
    expect((await User.findById(someone.userId).lean())?.roles).to.deep.equal(['user', 'marketing']);
    expect((await report(someone.accessToken, 'groupBy=source')).status).to.equal(403); // the old token
    const refreshed = await srv.request('/api/v1/auth/refresh', json({ refreshToken: someone.refreshToken }));
    expect((await report(refreshed.body.data.accessToken, 'groupBy=source')).status).to.equal(200);
    const bad = await cli('grant-role', [e164, 'superuser']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('unknown role');
    const nobody = await cli('grant-role', [freshPhone().e164, 'admin']);
    expect(nobody.code).to.equal(2);
    expect(nobody.stderr).to.include('no user has the number');
  });

  it('keeps a failed job with its error and retries it on an operator command', async () => {
    const q = ownQueues.funnel;
    const codeId = new Types.ObjectId().toHexString();
    const job = await q.add(
      'funnel',
      {
        step: 'otp-sent',
        codeId,
        at: 'not-a-date',
        channel: 'phone',
        country: '90',
        platform: 'web',
        source: null,
        campaign: null,
      },
      { jobId: `broken-${codeId}`, attempts: 1 },
    );
    await eventually(async () => (await q.getJob(job.id!))?.failedReason, 15_000, 'job failed');
    const listed = await cli('jobs', ['failed', 'funnel'], { QUEUE_PREFIX });
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout)
      .to.include(`broken-${codeId}`)
      .and.include('funnel job payload refused: at: must be an ISO 8601 UTC time');

    await (await q.getJob(job.id!))!.updateData({ ...job.data, at: new Date(base).toISOString() }); // the operator's fix
    const retried = await cli('jobs', ['retry', 'funnel'], { QUEUE_PREFIX });
    expect(retried.code, retried.stderr).to.equal(0);
    expect(retried.stdout).to.match(/funnel: \d+ failed job\(s\) moved back to waiting/);
    await eventually(() => FunnelEvent.findById(`otp-sent-${codeId}`).lean(), 15_000, 'retried job applied');
  });
});

describe('grant-role --revoke: rights end when they are removed', function () {
  this.timeout(60_000);
  let srv: TestServer;
  before(async () => {
    srv = await startApp({ TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0' }); // the real clock, the default session cache
  });
  after(() => srv.close());

  it('ends the user’s sessions: the old access token is 401 within SESSION_CACHE_TTL_MS, and a new login has no role', async () => {
    const cacheTtlMs = testConfig().sessions.cacheTtlMs;
    const phone = freshPhone();
    await User.create({
      phoneKey: phone.e164,
      countryCode: phone.countryCode,
      phoneNumber: phone.phoneNumber,
      roles: ['user', 'marketing'],
    });
    const marketer = await login(srv, phone);
    const otherDevice = await login(srv, phone);
    const funnel = (token: string) => srv.request('/api/v1/analytics/funnel', bearer(token));
    // Both tokens work, and this dyno has the session cached as live.
    expect((await funnel(marketer.accessToken)).status).to.equal(200);
    expect((await funnel(otherDevice.accessToken)).status).to.equal(200);

    const { code, stdout, stderr } = await cli('grant-role', [phone.e164, 'marketing', '--revoke']);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.equal(`${marketer.userId}: roles user; 2 session(s) ended\n`);
    const revokedAt = Date.now();
    expect((await User.findById(marketer.userId).lean())?.roles).to.deep.equal(['user']);
    const sessions = await Session.find({ userId: new Types.ObjectId(marketer.userId) }).lean();
    expect(sessions.map((x) => x.revokedReason)).to.deep.equal(['role-revoked', 'role-revoked']);

    // Each token's cached "live" answer lasts at most SESSION_CACHE_TTL_MS from the request that cached it (the
    // other device's a little later than the marketer's); poll each until it is refused.
    const refusedWithin = (token: string, what: string) =>
      eventually(
        async () => {
          const res = await funnel(token);
          return res.status === 401 ? res : undefined;
        },
        cacheTtlMs + 2000,
        what,
      );
    const refused = await refusedWithin(marketer.accessToken, 'the old access token refused');
    const otherRefused = await refusedWithin(otherDevice.accessToken, 'the other device’s access token refused');
    expect(Date.now() - revokedAt).to.be.at.most(cacheTtlMs + 2000);
    expect(refused.body).to.include({ isSuccess: false, statusCode: 401, data: null, errorCode: 'SESSION_REVOKED' });
    expect(otherRefused.body.errorCode).to.equal('SESSION_REVOKED');
    const refreshed = await srv.request('/api/v1/auth/refresh', json({ refreshToken: marketer.refreshToken }));
    expect(refreshed.status).to.equal(401);
    expect(refreshed.body.errorCode).to.equal('REFRESH_TOKEN_INVALID');

    // Signing in again works, without the role.
    const again = await login(srv, phone);
    expect(again.body.user.roles).to.deep.equal(['user']);
    const forbidden = await funnel(again.accessToken);
    expect(forbidden.status).to.equal(403);
    expect(forbidden.body.errorCode).to.equal('ROLE_REQUIRED');
  });
});
