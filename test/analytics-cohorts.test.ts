/**
 * The marketer's questions (issue 12): first-touch UTM fields and click ids, reports in a time zone across a
 * DST change, retention cohorts, spend and costs, all read from the rollups; a job applied twice counts once,
 * a crash between a fact and its rollup is mended, and the rebuild agrees with the worker.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import type { Job } from 'bullmq';
import { Types } from 'mongoose';
import { createLogger } from '../src/lib/logger.js';
import { analyticsRollupDays, analyticsRollups, signupAttributions } from '../src/models/collections.js';
import { User } from '../src/models/user.js';
import { rebuildRollups, rollupCellIdOf } from '../src/services/rollups.js';
import { jobHandler } from '../src/workers/processors.js';
import { bearer, eventually, freshIp, freshPhone, login, post, sendOtp, verifyOtp } from './support/auth.js';
import { childEnv, testConfig } from './support/env.js';
import { json, startApp, type TestServer } from './support/http.js';
import { storyWorkers, type Story } from './support/story.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The last Sunday of March of a year: Europe/Berlin moves from +01:00 to +02:00 at 01:00 UTC. */
function dstSunday(year: number): number {
  for (let d = 31; ; d--) if (new Date(Date.UTC(year, 2, d)).getUTCDay() === 0) return Date.UTC(year, 2, d);
}
const dayIn = (ms: number, tz: string) => new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(ms);

describe('attribution, time zones, retention and spend (issue 12)', function () {
  this.timeout(180_000);
  // A DST change of its own, far from every other test's data.
  const D = dstSunday(2041 + randomInt(0, 50));
  const day = (n: number) => new Date(D + n * DAY).toISOString().slice(0, 10);
  const at = (n: number, hhmm: string) =>
    D + n * DAY + Number(hhmm.slice(0, 2)) * HOUR + Number(hhmm.slice(3)) * 60_000;
  const present = D + 45 * DAY;
  let now = present;
  let story: Story;
  let srv: TestServer;
  let marketer: Awaited<ReturnType<typeof login>>;

  interface Signup {
    at: number;
    source?: string;
    campaign?: string;
    medium?: string;
    platform: string;
    email?: boolean;
    completes?: boolean;
    /** Hours after the signup at which the user logs in again. */
    returns?: number[];
    /** Local days in Europe/Berlin and UTC, written out (not computed) for the record. */
    berlin: string;
    userId?: string;
  }
  const plan: Signup[] = [
    {
      at: at(-1, '10:00'),
      source: 'instagram_ads',
      campaign: 'spring',
      medium: 'cpc',
      platform: 'mobile_ios',
      completes: true,
      returns: [26, 29],
      berlin: day(-1),
    },
    {
      at: at(-1, '23:30'),
      source: 'instagram_ads',
      campaign: 'spring',
      medium: 'cpc',
      platform: 'mobile_android',
      returns: [7 * 24 + 1],
      berlin: day(0),
    },
    {
      at: at(0, '00:30'),
      source: 'google_search',
      campaign: 'brand',
      medium: 'search',
      platform: 'web',
      completes: true,
      returns: [23, 30 * 24 + 3],
      berlin: day(0),
    },
    {
      at: at(0, '01:30'),
      source: 'instagram_ads',
      campaign: 'summer',
      medium: 'social',
      platform: 'mobile_ios',
      returns: [25],
      berlin: day(0),
    },
    { at: at(0, '21:45'), platform: 'mobile_android', email: true, berlin: day(0) },
    {
      at: at(0, '22:15'),
      source: 'google_search',
      campaign: 'brand',
      medium: 'search',
      platform: 'web',
      completes: true,
      returns: [24, 24 * 3],
      berlin: day(1),
    },
    {
      at: at(1, '10:00'),
      source: 'instagram_ads',
      campaign: 'spring',
      medium: 'cpc',
      platform: 'mobile_ios',
      returns: [7 * 24 + 12],
      berlin: day(1),
    },
  ];
  /** Every send-otp / verify-otp / login instant, for the funnel. */
  const events: { at: number; verifiedMedium: string | null }[] = [];

  before(async () => {
    story = storyWorkers('cohorts', () => new Date(present));
    srv = await startApp(
      { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', QUEUE_PREFIX: story.prefix },
      { clock: () => new Date(now), queues: story.queues },
    );

    const phones = new Map<Signup, ReturnType<typeof freshPhone>>();
    for (const [i, s] of plan.entries()) {
      now = s.at;
      const ip = freshIp();
      const attribution = {
        ...(s.source
          ? {
              signupSource: s.source,
              signupCampaign: s.campaign,
              signupMedium: s.medium,
              signupContent: `ad_${i}`,
              signupTerm: 'allmine',
            }
          : {}),
        ...(i === 0 ? { clickId: 'Cj0KCQjw.abc-DEF_123', clickIdType: 'gclid' } : {}),
      };
      let res;
      if (s.email) {
        const email = `cohort_${randomBytes(5).toString('hex')}@example.com`;
        const sent = await srv.request('/api/v1/auth/send-otp-email', json({ email }, { 'x-forwarded-for': ip }));
        res = await srv.request(
          '/api/v1/auth/verify-otp-email',
          json(
            { email, code: sent.body.data.code, ...attribution },
            { 'x-forwarded-for': ip, 'x-platform': s.platform },
          ),
        );
      } else {
        const phone = freshPhone();
        phones.set(s, phone);
        const sent = await sendOtp(srv, { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }, ip);
        res = await verifyOtp(
          srv,
          { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber, code: sent.body.data.code, ...attribution },
          ip,
          { 'x-platform': s.platform },
        );
      }
      expect(res.status, res.text).to.equal(200);
      events.push({ at: s.at, verifiedMedium: s.medium ?? null });
      s.userId = res.body.data.user.id;
      if (s.completes) {
        const done = await srv.request(
          '/api/v1/users/me/complete-registration',
          post(res.body.data.accessToken, {
            name: 'N',
            surname: 'S',
            username: `c${s.userId}`.slice(0, 30),
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
    // Signups are recorded before their returns are (the worker reads the signup fact for a return).
    await eventually(
      async () =>
        (await signupAttributions().countDocuments({ _id: { $in: plan.map((s) => new Types.ObjectId(s.userId)) } })) ===
        plan.length,
      30_000,
      'the signups recorded',
    );
    for (const s of plan) {
      for (const h of s.returns ?? []) {
        now = s.at + h * HOUR;
        await login(srv, phones.get(s));
        events.push({ at: now, verifiedMedium: null });
      }
    }
    now = present;
    const mPhone = freshPhone();
    await User.create({
      phoneKey: mPhone.e164,
      countryCode: '90',
      phoneNumber: mPhone.phoneNumber,
      roles: ['user', 'marketing'],
    });
    marketer = await login(srv, mPhone);
    await story.drained();
  });
  after(async () => {
    await srv?.close();
    await story?.close();
  });

  const get = (path: string) => srv.request(path, bearer(marketer.accessToken));
  const range = `from=${day(-1)}&to=${day(1)}`;

  it('stores the UTM fields and the click id once, keeps them out of the user object, and refuses bad ones', async () => {
    const first = await User.findById(plan[0]!.userId).lean();
    expect(first).to.include({
      signupSource: 'instagram_ads',
      signupCampaign: 'spring',
      signupMedium: 'cpc',
      signupContent: 'ad_0',
      signupTerm: 'allmine',
      clickId: 'Cj0KCQjw.abc-DEF_123',
      clickIdType: 'gclid',
    });
    const me = await get('/api/v1/auth/me');
    expect(me.body.data).to.not.have.any.keys('signupMedium', 'clickId', 'clickIdType');
    // A later login with other attribution changes nothing.
    const phone = freshPhone();
    const ip = freshIp();
    const signup = async (extra: Record<string, unknown>) => {
      const sent = await sendOtp(srv, { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }, ip);
      return verifyOtp(
        srv,
        { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber, code: sent.body.data.code, ...extra },
        ip,
      );
    };
    const a = await signup({ signupMedium: 'email', clickId: 'fb.1', clickIdType: 'fbclid' });
    expect(a.status, a.text).to.equal(200);
    const b = await signup({ signupMedium: 'cpc', signupTerm: 'other', clickId: 'g.2', clickIdType: 'gclid' });
    expect(b.status, b.text).to.equal(200);
    expect(await User.findById(a.body.data.user.id).lean()).to.include({
      signupMedium: 'email',
      signupTerm: null,
      clickId: 'fb.1',
      clickIdType: 'fbclid',
    });

    const cases: [Record<string, unknown>, string[]][] = [
      [{ signupMedium: 'has space' }, ['signupMedium: must be 1-64 characters of A-Z a-z 0-9 . _ -']],
      [{ signupTerm: 'x'.repeat(65) }, ['signupTerm: must be 1-64 characters of A-Z a-z 0-9 . _ -']],
      [{ clickId: 'abc' }, ['clickId: clickId and clickIdType come together']],
      [{ clickIdType: 'gclid' }, ['clickIdType: clickId and clickIdType come together']],
      [{ clickId: 'abc', clickIdType: 'bing' }, ['clickIdType: must be one of gclid, fbclid, ttclid, other']],
    ];
    for (const [extra, messages] of cases) {
      const res = await verifyOtp(
        srv,
        { countryCode: '90', phoneNumber: '5551234567', code: '0000', ...extra },
        freshIp(),
      );
      expect(res.status, JSON.stringify(extra)).to.equal(400);
      expect(res.body.errors, JSON.stringify(extra)).to.deep.equal(['Validation failed', ...messages]);
    }
  });

  /** The expected signups rows in `tz`, from the plan (local days by Intl, the spend as uploaded). */
  function expectedSignups(
    tz: string,
    dims: ('day' | 'source' | 'campaign' | 'medium')[],
    spend?: Map<string, Map<string, number>>,
  ): Record<string, unknown>[] {
    const rows = new Map<string, Record<string, unknown>>();
    for (const s of plan) {
      const values = {
        day: dayIn(s.at, tz),
        source: s.source ?? '(none)',
        campaign: s.campaign ?? '(none)',
        medium: s.medium ?? '(none)',
      };
      const key = JSON.stringify(dims.map((d) => values[d]));
      const row = rows.get(key) ?? {
        ...Object.fromEntries(dims.map((d) => [d, values[d]])),
        signups: 0,
        registrationsCompleted: 0,
      };
      (row.signups as number)++;
      if (s.completes) (row.registrationsCompleted as number)++;
      rows.set(key, row);
    }
    const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
    if (!spend) return sorted;
    return sorted.map((r) => {
      const amounts = spend.get(JSON.stringify(dims.map((d) => r[d]))) ?? new Map<string, number>();
      const lines = [...amounts]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([currency, amount]) => ({
          currency,
          amount,
          costPerSignup: Math.round((amount / (r.signups as number)) * 10_000) / 10_000,
          costPerCompletedRegistration:
            (r.registrationsCompleted as number) > 0
              ? Math.round((amount / (r.registrationsCompleted as number)) * 10_000) / 10_000
              : null,
        }));
      return { ...r, spend: lines };
    });
  }

  it('buckets signups in the days of tz across a DST change: Europe/Berlin, UTC, Asia/Kolkata', async () => {
    // The Berlin days, written out: 23:30 UTC before the change is the next Berlin day; 22:15 UTC after it too.
    expect(plan.map((s) => dayIn(s.at, 'Europe/Berlin'))).to.deep.equal(plan.map((s) => s.berlin));
    for (const tz of ['Europe/Berlin', 'UTC', 'Asia/Kolkata', 'America/New_York']) {
      const res = await get(`/api/v1/analytics/signups?${range}&groupBy=day,source,medium&tz=${tz}`);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.data.tz).to.equal(tz);
      const inRange = expectedSignups(tz, ['day', 'source', 'medium']).filter(
        (r) => (r.day as string) >= day(-1) && (r.day as string) <= day(1),
      );
      expect(res.body.data.rows, tz).to.deep.equal(inRange);
    }
    const berlin = await get(`/api/v1/analytics/signups?from=${day(0)}&to=${day(0)}&groupBy=day&tz=Europe/Berlin`);
    expect(berlin.body.data.rows).to.deep.equal([{ day: day(0), signups: 4, registrationsCompleted: 1, spend: [] }]);
    const utc = await get(`/api/v1/analytics/signups?from=${day(0)}&to=${day(0)}&groupBy=day`);
    expect(utc.body.data.rows).to.deep.equal([{ day: day(0), signups: 4, registrationsCompleted: 2, spend: [] }]);
    const medium = await get(`/api/v1/analytics/signups?${range}&groupBy=medium&medium=cpc&tz=Europe/Berlin`);
    expect(medium.body.data.rows).to.deep.equal([{ medium: 'cpc', signups: 3, registrationsCompleted: 1 }]);
  });

  it('takes spend as CSV and JSON, replaces a row uploaded again, refuses a malformed upload whole, and shows costs', async () => {
    const csv = (text: string) =>
      srv.request('/api/v1/analytics/spend', {
        method: 'PUT',
        headers: { authorization: `Bearer ${marketer.accessToken}`, 'content-type': 'text/csv' },
        body: text,
      });
    const first = await csv(
      `day,source,campaign,amount,currency\r\n${day(0)},instagram_ads,spring,100.50,USD\r\n${day(0)},instagram_ads,spring,300,TRY\r\n${day(1)},google_search,brand,40,USD\r\n`,
    );
    expect(first.status, first.text).to.equal(200);
    expect(first.body.data).to.deep.equal({ rows: 3, created: 3, replaced: 0 });
    const again = await srv.request(
      '/api/v1/analytics/spend',
      post(
        marketer.accessToken,
        { rows: [{ day: day(0), source: 'instagram_ads', campaign: 'spring', amount: 60, currency: 'USD' }] },
        'PUT',
      ),
    );
    expect(again.status, again.text).to.equal(200);
    expect(again.body.data).to.deep.equal({ rows: 1, created: 0, replaced: 1 });

    const bad = await csv(
      `day,source,campaign,amount,currency\n${day(0)},instagram_ads,spring,1,USD\n${day(0)},google_search,brand,12.345678,USD\n${day(0)},tiktok ads,x,1,usd\n${day(0)},instagram_ads,spring,2,USD\n`,
    );
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.deep.equal([
      'Validation failed',
      'line 3: amount: must be a decimal amount ≥ 0 with at most 4 decimals, such as 120.50',
      'line 4: source: must be 1-64 characters of A-Z a-z 0-9 . _ - ( )',
      'line 4: currency: must be an ISO 4217 code such as USD or TRY',
      'line 5: repeats line 2 (the same day, source, campaign and currency)',
    ]);
    const badJson = await srv.request(
      '/api/v1/analytics/spend',
      post(
        marketer.accessToken,
        { rows: [{ day: day(0), source: 'a', campaign: 'b', amount: -1, currency: 'USD' }] },
        'PUT',
      ),
    );
    expect(badJson.status).to.equal(400);
    expect(badJson.body.errors).to.deep.equal([
      'Validation failed',
      'rows[0] (line 1): amount: must be a decimal amount ≥ 0 with at most 4 decimals, such as 120.50',
    ]);
    // Days of the right shape that name no day (a fuzz finding: 0000-00-00 was a 500).
    for (const bogus of ['0000-00-00', '2026-02-30']) {
      const res = await srv.request(
        '/api/v1/analytics/spend',
        post(
          marketer.accessToken,
          { rows: [{ day: bogus, source: 'a', campaign: 'b', amount: 1, currency: 'USD' }] },
          'PUT',
        ),
      );
      expect(res.status, bogus).to.equal(400);
      expect(res.body.errors).to.deep.equal(['Validation failed', 'rows[0] (line 1): day: must be a day YYYY-MM-DD']);
    }

    const spend = new Map([
      [
        JSON.stringify([day(0), 'instagram_ads', 'spring']),
        new Map([
          ['USD', 60],
          ['TRY', 300],
        ]),
      ],
      [JSON.stringify([day(1), 'google_search', 'brand']), new Map([['USD', 40]])],
    ]);
    const res = await get(`/api/v1/analytics/signups?${range}&groupBy=day,source,campaign&tz=Europe/Berlin`);
    expect(res.status, res.text).to.equal(200);
    const rows = expectedSignups('Europe/Berlin', ['day', 'source', 'campaign'], spend);
    expect(res.body.data).to.deep.equal({
      from: day(-1),
      to: day(1),
      tz: 'Europe/Berlin',
      groupBy: ['day', 'source', 'campaign'],
      rows,
      totals: {
        signups: 7,
        registrationsCompleted: 3,
        spend: [
          { currency: 'TRY', amount: 300, costPerSignup: 42.8571, costPerCompletedRegistration: 100 },
          { currency: 'USD', amount: 100, costPerSignup: 14.2857, costPerCompletedRegistration: 33.3333 },
        ],
      },
    });
    expect(rows.find((r) => r.day === day(0) && r.source === 'instagram_ads' && r.campaign === 'spring')).to.deep.equal(
      {
        day: day(0),
        source: 'instagram_ads',
        campaign: 'spring',
        signups: 1,
        registrationsCompleted: 0,
        spend: [
          { currency: 'TRY', amount: 300, costPerSignup: 300, costPerCompletedRegistration: null },
          { currency: 'USD', amount: 60, costPerSignup: 60, costPerCompletedRegistration: null },
        ],
      },
    );

    const asCsv = await get(
      `/api/v1/analytics/signups?${range}&groupBy=day,source,campaign&tz=Europe/Berlin&format=csv`,
    );
    expect(asCsv.status).to.equal(200);
    const lines = [
      'day,source,campaign,signups,registrationsCompleted,currency,spend,costPerSignup,costPerCompletedRegistration',
    ];
    for (const r of rows) {
      const base = `${String(r.day)},${String(r.source)},${String(r.campaign)},${String(r.signups)},${String(r.registrationsCompleted)}`;
      const lineSpend = r.spend as {
        currency: string;
        amount: number;
        costPerSignup: number;
        costPerCompletedRegistration: number | null;
      }[];
      if (lineSpend.length === 0) lines.push(`${base},,,,`);
      for (const s of lineSpend)
        lines.push(`${base},${s.currency},${s.amount},${s.costPerSignup},${s.costPerCompletedRegistration ?? ''}`);
    }
    expect(asCsv.text).to.equal(`${lines.join('\r\n')}\r\n`);
  });

  it('answers the funnel in tz, and for a medium', async () => {
    const berlinFrom = Date.parse(`${day(-1)}T00:00:00+01:00`);
    const berlinEnd = Date.parse(`${day(2)}T00:00:00+02:00`);
    const inRange = events.filter((e) => e.at >= berlinFrom && e.at < berlinEnd);
    const res = await get(`/api/v1/analytics/funnel?${range}&tz=Europe/Berlin`);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.data).to.deep.equal({
      from: day(-1),
      to: day(1),
      tz: 'Europe/Berlin',
      source: null,
      campaign: null,
      medium: null,
      otpSent: inRange.length,
      otpVerified: inRange.length,
      signups: 7,
      registrationsCompleted: 3,
      logins: inRange.length,
    });
    const cpc = await get(`/api/v1/analytics/funnel?${range}&tz=Europe/Berlin&medium=cpc`);
    expect(cpc.body.data).to.include({
      medium: 'cpc',
      otpSent: null,
      otpVerified: 3,
      signups: 3,
      registrationsCompleted: 1,
      logins: 0,
    });
  });

  it('answers retention cohorts in JSON and CSV: day n is the 24 hours from n days after the signup', async () => {
    const res = await get(`/api/v1/analytics/retention?${range}&groupBy=source&tz=Europe/Berlin`);
    expect(res.status, res.text).to.equal(200);
    const r = (d: number, source: string, signups: number, d1: number, d7: number, d30: number) => ({
      day: day(d),
      source,
      signups,
      returnedDay1: d1,
      retentionDay1: d1 / signups,
      returnedDay7: d7,
      retentionDay7: d7 / signups,
      returnedDay30: d30,
      retentionDay30: d30 / signups,
    });
    const rows = [
      r(-1, 'instagram_ads', 1, 1, 0, 0), // two logins on day 1: one return
      r(0, '(none)', 1, 0, 0, 0),
      r(0, 'google_search', 1, 0, 0, 1), // 23 h after signing up is still day 0
      r(0, 'instagram_ads', 2, 1, 1, 0),
      r(1, 'google_search', 1, 1, 0, 0), // exactly 24 h: day 1; day 3 is not reported
      r(1, 'instagram_ads', 1, 0, 1, 0),
    ];
    expect(res.body.data).to.deep.equal({
      from: day(-1),
      to: day(1),
      tz: 'Europe/Berlin',
      groupBy: ['source'],
      rows,
      totals: {
        signups: 7,
        returnedDay1: 3,
        retentionDay1: 0.4286,
        returnedDay7: 2,
        retentionDay7: 0.2857,
        returnedDay30: 1,
        retentionDay30: 0.1429,
      },
    });
    const csv = await get(`/api/v1/analytics/retention?${range}&groupBy=source&tz=Europe/Berlin&format=csv`);
    expect(csv.headers.get('content-disposition')).to.include(`retention_${day(-1)}_${day(1)}.csv`);
    const header =
      'day,source,signups,returnedDay1,retentionDay1,returnedDay7,retentionDay7,returnedDay30,retentionDay30';
    expect(csv.text).to.equal(`${[header, ...rows.map((x) => Object.values(x).join(','))].join('\r\n')}\r\n`);

    // Before day 30 has ended for the cohort, its share is not given.
    now = at(1, '00:00') + 20 * DAY;
    const early = await get(`/api/v1/analytics/retention?from=${day(1)}&to=${day(1)}&tz=Europe/Berlin`);
    now = present;
    expect(early.body.data.rows).to.deep.equal([
      {
        day: day(1),
        signups: 2,
        returnedDay1: 1,
        retentionDay1: 0.5,
        returnedDay7: 1,
        retentionDay7: 0.5,
        returnedDay30: 0,
        retentionDay30: null,
      },
    ]);

    const bad = await get('/api/v1/analytics/retention?tz=Mars/Olympus&groupBy=country');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.deep.equal([
      'Validation failed',
      'tz: must be an IANA time zone such as UTC or Europe/Istanbul',
      'groupBy: "country" is not one of source, campaign, medium',
    ]);
    const plain = await login(srv);
    expect((await srv.request('/api/v1/analytics/retention', bearer(plain.accessToken))).status).to.equal(403);
    expect(
      (await srv.request('/api/v1/analytics/spend', post(plain.accessToken, { rows: [] }, 'PUT'))).status,
    ).to.equal(403);
  });

  /** The rollups of `days`: cells and day documents, without the markers and rebuild tags (bookkeeping). */
  const rollupsOf = async (days: string[]) => {
    const read = async (c: ReturnType<typeof analyticsRollups> | ReturnType<typeof analyticsRollupDays>) =>
      await (c as ReturnType<typeof analyticsRollups>)
        .find({ day: { $in: days } }, { projection: { p: 0, g: 0 } })
        .sort({ _id: 1 })
        .toArray();
    return { cells: await read(analyticsRollups()), days: await read(analyticsRollupDays()) };
  };

  it('counts a job applied twice once, and mends a crash between the fact and its cells', async () => {
    const handler = jobHandler('signup-attribution', {
      logger: createLogger({ level: 'silent' }),
      config: testConfig(),
      queues: story.queues,
      now: () => new Date(present),
    });
    const days = [day(-2), day(-1), day(0), day(1), day(2)];
    const before = await rollupsOf(days);
    const job = (userId: string, attemptsMade = 0) =>
      ({
        id: `x-${userId}`,
        queueName: 'signup-attribution',
        data: { userId, sessionId: new Types.ObjectId().toHexString() },
        attemptsMade,
      }) as unknown as Job;
    for (const s of plan) await handler(job(s.userId!));
    expect(await rollupsOf(days)).to.deep.equal(before);

    const signedUpAt = new Date(at(0, '12:00'));
    const newUser = async (source: string) => {
      const _id = new Types.ObjectId();
      await User.collection.insertOne({
        _id,
        phoneKey: freshPhone().e164,
        signupSource: source,
        signupCampaign: 'c',
        signupMedium: 'm',
        createdAt: signedUpAt,
        updatedAt: signedUpAt,
      });
      return _id;
    };
    const cells = (source: string) => [
      rollupCellIdOf('signup', 'full', day(0), `${source}|c|m||`),
      rollupCellIdOf('signup', 'marketing', day(0), `${source}|c|m`),
    ];
    const counts = async (source: string) =>
      await Promise.all(cells(source).map(async (id) => (await analyticsRollups().findOne({ _id: id }))?.c ?? null));
    const fact = (id: Types.ObjectId, source: string, by: string) => ({
      _id: id,
      source,
      campaign: 'c',
      medium: 'm',
      country: null,
      platform: null,
      day: day(0),
      signedUpAt,
      recordedAt: signedUpAt,
      applying: true,
      applyingBy: by,
      applyingSince: new Date(present),
    });

    // 1. Attempt 1 stopped after inserting its fact: attempt 2 of the same job counts it, once.
    const a = await newUser('crash_a');
    await signupAttributions().insertOne(fact(a, 'crash_a', `signup-attribution:x-${a.toHexString()}#0`));
    expect(await counts('crash_a')).to.deep.equal([null, null]);
    await handler(job(a.toHexString(), 1));
    await handler(job(a.toHexString(), 2));
    expect(await counts('crash_a')).to.deep.equal([{ signups: 1 }, { signups: 1 }]);
    expect((await signupAttributions().findOne({ _id: a }))!.applying).to.equal(undefined);

    // 2. It stopped after counting the fact in one cell (its marker there), before the other: the retry
    //    counts the other cell only.
    const b = await newUser('crash_b');
    await signupAttributions().insertOne(fact(b, 'crash_b', `signup-attribution:x-${b.toHexString()}#0`));
    const marker = `p.${b.toHexString()}`;
    await analyticsRollups().updateOne(
      { _id: cells('crash_b')[0]! },
      {
        $inc: { 'c.signups': 1, 'h.12.signups': 1, 'q.48.signups': 1 },
        $set: { [marker]: 1, kind: 'signup', grain: 'f', day: day(0) },
      },
      { upsert: true },
    );
    await analyticsRollupDays().updateOne(
      { _id: `signup|f|${day(0)}` },
      { $set: { 'cells.crash_b|c|m||': 1 } },
      { upsert: true },
    );
    await handler(job(b.toHexString(), 1));
    expect(await counts('crash_b')).to.deep.equal([{ signups: 1 }, { signups: 1 }]);

    // 3. Another job began counting it a moment ago and may still be at it: this one waits (fails, retried).
    const c = await newUser('crash_c');
    await signupAttributions().insertOne(fact(c, 'crash_c', 'last-login:someone-else#0'));
    let thrown: unknown;
    await handler(job(c.toHexString(), 0)).catch((err: unknown) => (thrown = err));
    expect((thrown as Error | undefined)?.name).to.equal('FactInFlightError');
    expect(await counts('crash_c')).to.deep.equal([null, null]);
    // ... and takes it over once that began longer ago than twice the job lock.
    const later = jobHandler('signup-attribution', {
      logger: createLogger({ level: 'silent' }),
      config: testConfig(),
      queues: story.queues,
      now: () => new Date(present + 2 * testConfig().worker.lockDurationMs),
    });
    await later(job(c.toHexString(), 0));
    await later(job(c.toHexString(), 0));
    expect(await counts('crash_c')).to.deep.equal([{ signups: 1 }, { signups: 1 }]);

    // Every cell of these users is listed in its day, and the report counts each once.
    const listing = await analyticsRollupDays().findOne({ _id: `signup|m|${day(0)}` });
    expect(Object.keys(listing!.cells)).to.include.members(['crash_a|c|m', 'crash_b|c|m', 'crash_c|c|m']);
  });

  it('counts a fact once when twenty jobs deliver it while another is counting it', async () => {
    const userId = new Types.ObjectId();
    const signedUpAt = new Date(at(1, '09:00'));
    await User.collection.insertOne({
      _id: userId,
      phoneKey: freshPhone().e164,
      signupSource: 'burst',
      signupCampaign: 'c',
      signupMedium: 'm',
      createdAt: signedUpAt,
      updatedAt: signedUpAt,
    });
    const handler = jobHandler('signup-attribution', {
      logger: createLogger({ level: 'silent' }),
      config: testConfig(),
      queues: story.queues,
      now: () => new Date(present),
    });
    // Another job has just begun counting the fact (inserted, not yet counted) when twenty deliveries of it
    // arrive at once: each fails as in flight and counts nothing.
    const inFlightBy = 'signup-attribution:first';
    await signupAttributions().insertOne({
      _id: userId,
      source: 'burst',
      campaign: 'c',
      medium: 'm',
      country: null,
      platform: null,
      day: day(1),
      signedUpAt,
      recordedAt: signedUpAt,
      applying: true,
      applyingBy: `${inFlightBy}#0`,
      applyingSince: new Date(present),
    });
    const deliveryOf = (id: string, attemptsMade: number) =>
      ({
        id,
        queueName: 'signup-attribution',
        data: { userId: userId.toHexString(), sessionId: new Types.ObjectId().toHexString() },
        attemptsMade,
      }) as unknown as Job;
    const burst = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => handler(deliveryOf(`burst-${i}`, 0))));
    expect(burst.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'counted'))).to.deep.equal(
      Array(20).fill('FactInFlightError'),
    );
    expect(await analyticsRollups().findOne({ _id: rollupCellIdOf('signup', 'full', day(1), 'burst|c|m||') })).to.equal(
      null,
    );
    // The first job's retry finishes it; the twenty retried at once then count nothing more.
    await handler(deliveryOf('first', 1));
    await Promise.all(Array.from({ length: 20 }, (_, i) => handler(deliveryOf(`burst-${i}`, 1))));
    const full = await analyticsRollups().findOne({ _id: rollupCellIdOf('signup', 'full', day(1), 'burst|c|m||') });
    const mk = await analyticsRollups().findOne({ _id: rollupCellIdOf('signup', 'marketing', day(1), 'burst|c|m') });
    expect(full!.c).to.deep.equal({ signups: 1 });
    expect(mk!.c).to.deep.equal({ signups: 1 });
    expect(full!.q).to.deep.equal({ '36': { signups: 1 } });
    expect(full!.h).to.deep.equal({ '9': { signups: 1 } });
  });

  it('rebuilds rollups equal to the incremental ones (the CLI and the function)', async () => {
    const days = [day(-2), day(-1), day(0), day(1), day(2), day(8), day(31)];
    const incremental = await rollupsOf(days);
    expect(incremental.cells.length).to.be.at.least(8);
    expect(incremental.days.length).to.be.at.least(4);
    // Damage: one cell's counters gone, one cell unlisted, one stray cell.
    const first = incremental.cells.find((c) => c.kind === 'signup')!;
    const listed = incremental.days.find((d) => d.kind === 'signup')!;
    await analyticsRollups().updateOne({ _id: first._id }, { $set: { c: {} } });
    await analyticsRollupDays().updateOne({ _id: listed._id }, { $set: { cells: {} } });
    await analyticsRollups().insertOne({
      _id: `signup|m|${day(0)}|stray|x|y`,
      kind: 'signup',
      grain: 'm',
      day: day(0),
      c: { signups: 9 },
      h: {},
      q: {},
    });
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/rebuild-rollups.ts', 'signup'], {
        env: childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.match(/^signup: \d+ fact\(s\), \d+ rollup document\(s\)$/m);
    expect(await rollupsOf(days)).to.deep.equal(incremental);
    await rebuildRollups();
    expect(await rollupsOf(days)).to.deep.equal(incremental);
  });
});
