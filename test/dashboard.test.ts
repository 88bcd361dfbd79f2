/**
 * The marketers' dashboard (`/dashboard`), driven in Debian's headless Chromium
 * through playwright-core against the real app on a loopback port: sign in
 * with a phone code, load the reports, check what the page shows against the
 * seeded facts, export CSV, and the 403 page for a user without the role.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Browser, Page } from 'playwright-core';
import { User } from '../src/models/user.js';
import { recordFact } from '../src/services/rollups.js';
import { freshPhone, login, post } from './support/auth.js';
import type { TestServer } from './support/http.js';
import { OUTPUT, openPage, signInWithCode as signIn, startPageTest } from './support/browser.js';

const DAY_MS = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const todayStart = Date.parse(`${isoDay(Date.now())}T00:00:00Z`);
const daysAgo = (n: number) => isoDay(todayStart - n * DAY_MS);

/**
 * Waits until the reports' current load has finished; returns 'ready' or 'error'. (Locators, not
 * `waitForFunction`: its polling evaluates strings in the page, which the CSP forbids.)
 */
async function loaded(page: Page): Promise<string> {
  const reports = page.locator('#reports[data-state="ready"], #reports[data-state="error"]');
  await reports.waitFor({ state: 'attached', timeout: 15_000 });
  return (await reports.getAttribute('data-state'))!;
}

/** Waits for the current load and expects it to have succeeded (else the page's error is the message). */
async function ready(page: Page): Promise<void> {
  const state = await loaded(page);
  expect(state, (await page.locator('#report-error').textContent()) ?? '').to.equal('ready');
}

const evaluate = <T>(page: Page, js: string) => page.evaluate(js) as Promise<T>;
const rate = (done: number, signups: number) => (signups > 0 ? `${((done / signups) * 100).toFixed(1)}%` : '—');

describe('dashboard (/dashboard) in headless Chromium', function () {
  this.timeout(90_000);
  let srv: TestServer;
  let browser: Browser | undefined;

  before(async function () {
    ({ srv, browser } = await startPageTest(this, 'the dashboard tests'));
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('serves the page, its files and Chart.js with cache headers; anything else under /dashboard/ is a 404', async () => {
    const page = await srv.request('/dashboard');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('cache-control')).to.equal('no-cache');
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    expect(page.text).to.include('<script src="/dashboard/app.js" defer></script>');
    expect(page.text).to.not.match(/<script>|<script(?![^>]*\bsrc=)[^>]*>/); // no inline script

    const js = await srv.request('/dashboard/app.js');
    expect(js.status).to.equal(200);
    expect(js.headers.get('content-type')).to.match(/javascript/);
    expect(js.headers.get('cache-control')).to.equal('no-cache');
    expect(js.headers.get('last-modified')).to.be.a('string');
    const css = await srv.request('/dashboard/app.css');
    expect(css.status).to.equal(200);
    expect(css.headers.get('content-type')).to.match(/^text\/css/);

    const chartJs = await srv.request('/dashboard/vendor/chart.umd.min.js');
    expect(chartJs.status).to.equal(200);
    expect(chartJs.headers.get('content-type')).to.match(/javascript/);
    expect(chartJs.headers.get('cache-control')).to.equal('public, max-age=86400');
    expect(chartJs.text).to.include('Chart.js');

    for (const missing of ['/dashboard/nope.js', '/dashboard/vendor/chart.js', '/dashboard/.env']) {
      const res = await srv.request(missing);
      expect(res.status, missing).to.equal(404);
      expect(res.body, missing).to.include({ isSuccess: false, statusCode: 404 });
    }
    const post = await srv.request('/dashboard', { method: 'POST' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
  });

  describe('a marketer', () => {
    const tag = `dash_${randomBytes(4).toString('hex')}`;
    const src = { a: `${tag}_a`, b: `${tag}_b`, c: `${tag}_c` };
    const days = [daysAgo(3), daysAgo(2), daysAgo(1)];
    const range = { from: daysAgo(7), to: daysAgo(1) }; // today left out: the other tests' signups land there
    // source, campaign, signups on each of `days`, how many of them completed their registration (the same day)
    const seed: [string, string, number[], number[]][] = [
      [src.a, `${tag}_spring`, [2, 1, 0], [1, 1, 0]],
      [src.a, `${tag}_summer`, [0, 1, 1], [0, 0, 1]],
      [src.b, `${tag}_spring`, [1, 2, 3], [1, 0, 2]],
      [src.c, '(none)', [1, 0, 1], [0, 0, 0]],
    ];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const signupsOf = (source: string, day: number) => sum(seed.filter((s) => s[0] === source).map((s) => s[2][day]!));
    const completionsOf = (source: string, day: number) =>
      sum(seed.filter((s) => s[0] === source).map((s) => s[3][day]!));
    const marketer = freshPhone();
    let ctx: Awaited<ReturnType<typeof openPage>>;

    before(async () => {
      await User.create({
        phoneKey: marketer.e164,
        countryCode: marketer.countryCode,
        phoneNumber: marketer.phoneNumber,
        roles: ['user', 'marketing'],
      });
      // The facts go through the worker's own path, so the rollups the reports read count them (they are
      // kept afterwards, as facts always are: their sources are this run's own).
      for (const [source, campaign, signups, completed] of seed) {
        for (const [i, day] of days.entries()) {
          for (let n = 0; n < signups[i]!; n++) {
            const _id = new Types.ObjectId();
            const at = new Date(Date.parse(`${day}T10:00:00Z`) + n * 60_000);
            const facts = { source, campaign, country: 'TR', platform: 'mobile_ios', signedUpAt: at };
            await recordFact('signup', { _id, ...facts, day, recordedAt: at });
            if (n < completed[i]!)
              await recordFact('completion', {
                _id,
                ...facts,
                signupDay: day,
                day,
                completedAt: new Date(at.getTime() + 3_600_000),
                recordedAt: at,
              });
            // The first signup of each group comes back the next day.
            if (n === 0)
              await recordFact('return', {
                _id: `${_id.toHexString()}:1`,
                n: 1,
                ...facts,
                medium: '(none)',
                at: new Date(at.getTime() + 25 * 3_600_000),
              });
          }
        }
      }
      // Spend, uploaded by another marketer (the page's sign-in would meet this number's resend cooldown).
      const uploader = freshPhone();
      await User.create({
        phoneKey: uploader.e164,
        countryCode: uploader.countryCode,
        phoneNumber: uploader.phoneNumber,
        roles: ['user', 'marketing'],
      });
      const spent = await srv.request(
        '/api/v1/analytics/spend',
        post(
          (await login(srv, uploader)).accessToken,
          { rows: [{ day: days[0], source: src.a, campaign: `${tag}_spring`, amount: '12.50', currency: 'USD' }] },
          'PUT',
        ),
      );
      expect(spent.status, spent.text).to.equal(200);
      ctx = await openPage(browser!, { acceptDownloads: true });
    });
    after(async () => {
      await ctx?.context.close();
    });

    it('signs in with a phone code, loads the range and shows the chart, campaign table and funnel of the data', async () => {
      const { page, problems } = ctx;
      await page.goto(`${srv.url}/dashboard`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Allmine — signups');

      await signIn(page, marketer);
      await page.locator('#reports').waitFor({ state: 'visible' });
      // Default range: the last 30 days of the server's default zone (ANALYTICS_DEFAULT_TZ, UTC here).
      expect(await page.getByLabel('From', { exact: true }).inputValue()).to.equal(daysAgo(29));
      expect(await page.getByLabel('To', { exact: true }).inputValue()).to.equal(daysAgo(0));
      expect(await evaluate<string | null>(page, `sessionStorage.getItem('allmine.dashboard.accessToken')`)).to.be.a(
        'string',
      );
      await loaded(page); // the automatic first load

      expect(await page.getByLabel('Time zone').inputValue()).to.equal('UTC');
      await page.getByLabel('From', { exact: true }).fill(range.from);
      await page.getByLabel('To', { exact: true }).fill(range.to);
      await page.getByRole('button', { name: 'Load' }).click();
      const state = await loaded(page);
      if (state === 'ready') await page.locator(`#campaign-table tr[data-source="${src.a}"]`).first().waitFor();
      const shot = path.join(OUTPUT, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`    screenshot: ${shot}`);
      expect(state, (await page.locator('#report-error').textContent()) ?? '').to.equal('ready');

      // Chart: one stacked dataset per source, one bar per day of the range, drawn on the canvas.
      const chart = await evaluate<{
        stacked: [boolean, boolean];
        days: string[];
        datasets: { label: string; data: number[] }[];
        painted: number;
      }>(
        page,
        `(() => {
        const canvas = document.getElementById('signups-chart');
        const c = Chart.getChart(canvas);
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
        return {
          stacked: [c.options.scales.x.stacked, c.options.scales.y.stacked],
          days: canvas.dataset.days.split(','),
          datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })),
          painted,
        };
      })()`,
      );
      expect(chart.stacked).to.deep.equal([true, true]);
      expect(chart.days).to.have.length(7);
      expect(chart.days[0]).to.equal(range.from);
      expect(chart.days[6]).to.equal(range.to);
      expect(chart.painted).to.be.above(5000);
      for (const source of Object.values(src)) {
        const dataset = chart.datasets.find((d) => d.label === source);
        expect(dataset, source).to.not.equal(undefined);
        const expected = chart.days.map((day) => (days.includes(day) ? signupsOf(source, days.indexOf(day)) : 0));
        expect(dataset!.data, source).to.deep.equal(expected);
      }

      // Table: one row per (source, campaign) with signups, completed registrations, the rate and the costs.
      const ours = page.locator(`#campaign-table tbody tr[data-source^="${tag}_"]`);
      expect(await ours.count()).to.equal(seed.length);
      for (const [source, campaign, signups, completed] of seed) {
        const row = page.locator(`#campaign-table tbody tr[data-source="${source}"][data-campaign="${campaign}"]`);
        const cells = (await row.locator('th, td').allTextContents()).map((t) => t.trim());
        // 12.50 USD over 3 signups and 2 completed registrations; no spend elsewhere.
        const costs =
          source === src.a && campaign === `${tag}_spring` ? ['USD 12.50', 'USD 4.17', 'USD 6.25'] : ['—', '—', '—'];
        expect(cells, `${source} / ${campaign}`).to.deep.equal([
          source,
          campaign,
          String(sum(signups)),
          String(sum(completed)),
          rate(sum(completed), sum(signups)),
          ...costs,
        ]);
      }

      // Cohort table: one row per signup day, the API's retention shares ("—" while a day has not ended).
      const token = await evaluate<string>(page, `sessionStorage.getItem('allmine.dashboard.accessToken')`);
      const retention = await srv.request(`/api/v1/analytics/retention?from=${range.from}&to=${range.to}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(retention.status, retention.text).to.equal(200);
      const share = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
      const cohortRows = retention.body.data.rows as {
        day: string;
        signups: number;
        retentionDay1: number | null;
        retentionDay7: number | null;
        retentionDay30: number | null;
      }[];
      expect(cohortRows.map((r) => r.day)).to.include.members(days);
      for (const r of cohortRows) {
        const cells = (
          await page.locator(`#cohort-table tbody tr[data-day="${r.day}"]`).locator('th, td').allTextContents()
        ).map((t) => t.trim());
        expect(cells, r.day).to.deep.equal([
          r.day,
          r.signups.toLocaleString('en-US'),
          share(r.retentionDay1),
          share(r.retentionDay7),
          share(r.retentionDay30),
        ]);
      }
      const ourCohort = await srv.request(`/api/v1/analytics/retention?from=${days[0]}&to=${days[0]}&source=${src.b}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(ourCohort.body.data.rows).to.deep.equal([
        {
          day: days[0],
          signups: 1,
          returnedDay1: 1,
          retentionDay1: 1,
          returnedDay7: 0,
          retentionDay7: null,
          returnedDay30: 0,
          retentionDay30: null,
        },
      ]);

      // Funnel: the API's four numbers, a bar each, and step-to-step conversion.
      const api = await srv.request(`/api/v1/analytics/funnel?from=${range.from}&to=${range.to}`, {
        headers: { authorization: `Bearer ${token}`, 'x-platform': 'admin' },
      });
      expect(api.status, api.text).to.equal(200);
      const steps = page.locator('#funnel .funnel-step');
      expect(await steps.count()).to.equal(4);
      const keys = ['otpSent', 'otpVerified', 'signups', 'registrationsCompleted'];
      for (const [i, key] of keys.entries()) {
        const step = steps.nth(i);
        expect(await step.getAttribute('data-step')).to.equal(key);
        const value = api.body.data[key] as number | null;
        expect((await step.locator('.funnel-value').textContent())?.replace(/,/g, ''), key).to.equal(
          value === null ? 'not tracked' : String(value),
        );
        expect(await step.locator('.funnel-bar').count()).to.equal(1);
      }
      expect(api.body.data.signups).to.be.at.least(sum(seed.flatMap((s) => s[2])));
      expect(await steps.nth(3).locator('.funnel-conversion').textContent()).to.match(/^\d+\.\d% of signups$/);

      // CSV: the chart's query as a file.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      expect(download.suggestedFilename()).to.equal(`allmine-signups_${range.from}_${range.to}_UTC.csv`);
      const csv = fs
        .readFileSync(await download.path(), 'utf8')
        .trim()
        .split(/\r?\n/);
      expect(csv[0]).to.equal(
        'day,source,signups,registrationsCompleted,currency,spend,costPerSignup,costPerCompletedRegistration',
      );
      for (const source of Object.values(src)) {
        const lines = csv.filter((l) => l.split(',')[1] === source);
        const spend = (day: string) => (source === src.a && day === days[0] ? 'USD,12.5,6.25,12.5' : ',,,'); // 2 signups, 1 completed that day
        const expected = days.flatMap((day, i) =>
          signupsOf(source, i) > 0
            ? [`${day},${source},${signupsOf(source, i)},${completionsOf(source, i)},${spend(day)}`]
            : [],
        );
        expect(lines, source).to.deep.equal(expected);
      }

      expect(problems.csp, 'CSP violations').to.deep.equal([]);
      expect(problems.pageErrors, 'uncaught errors').to.deep.equal([]);
      expect(problems.console, 'console errors').to.deep.equal([]);
    });

    it('refreshes an expired access token once and keeps the reports; a dead refresh token means signing in again', async () => {
      const { page, problems } = ctx;
      const before = await evaluate<string>(page, `sessionStorage.getItem('allmine.dashboard.refreshToken')`);
      expect(before, 'signed in by the previous test').to.be.a('string');
      problems.console.length = 0;
      const refreshes: string[] = [];
      page.on('request', (req) => {
        if (req.url().endsWith('/api/v1/auth/refresh')) refreshes.push(req.method());
      });
      // A token this server never signed: 401, as an expired one would be.
      await page.evaluate(
        `sessionStorage.setItem('allmine.dashboard.accessToken', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm9wZQ')`,
      );
      await page.getByRole('button', { name: 'Load' }).click();
      expect(await loaded(page)).to.equal('ready');
      expect(await page.locator('#reports').isVisible()).to.equal(true);
      expect(await evaluate<string>(page, `sessionStorage.getItem('allmine.dashboard.refreshToken')`)).to.not.equal(
        before,
      );
      // The four reports were refused together and shared one refresh (refresh tokens rotate).
      expect(refreshes).to.deep.equal(['POST']);
      // Chromium logs every failed load: those four 401s, nothing else.
      expect(problems.console).to.have.length(4);
      expect(
        problems.console.every((t) => /status of 401/.test(t)),
        problems.console.join('\n'),
      ).to.equal(true);

      // When the refresh token is dead too, the user signs in again.
      await page.evaluate(`sessionStorage.setItem('allmine.dashboard.accessToken', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm9wZQ');
        sessionStorage.setItem('allmine.dashboard.refreshToken', 'not-a-refresh-token')`);
      await page.getByRole('button', { name: 'Load' }).click();
      await page.locator('#sign-in').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('#sign-in-error').textContent()).to.equal('Your session has ended. Sign in again.');
      expect(await page.locator('#reports').isVisible()).to.equal(false);
      expect(await evaluate<string | null>(page, `sessionStorage.getItem('allmine.dashboard.refreshToken')`)).to.equal(
        null,
      );
      expect(refreshes).to.have.length(2);
      expect(problems.csp).to.deep.equal([]);
      expect(problems.pageErrors).to.deep.equal([]);
    });
  });

  describe('a marketer in another time zone', () => {
    const tag = `dashtz_${randomBytes(4).toString('hex')}`;
    const source = `${tag}_src`;
    // Days no other test here signs anyone up on. On `day`, one signup at 12:00 UTC and three late ones at
    // 22:30–22:32 UTC: 04:00–04:02 the next morning in Asia/Kolkata (+05:30).
    const day = daysAgo(20);
    const nextDay = daysAgo(19);
    const range = { from: daysAgo(21), to: daysAgo(18) };
    const signupTimes = ['12:00', '22:30', '22:31', '22:32'].map((hm) => new Date(`${day}T${hm}:00Z`));
    const marketer = freshPhone();
    let ctx: Awaited<ReturnType<typeof openPage>>;

    before(async () => {
      await User.create({
        phoneKey: marketer.e164,
        countryCode: marketer.countryCode,
        phoneNumber: marketer.phoneNumber,
        roles: ['user', 'marketing'],
      });
      for (const at of signupTimes) {
        const facts = { source, campaign: `${tag}_camp`, country: 'IN', platform: 'mobile_android', signedUpAt: at };
        await recordFact('signup', { _id: new Types.ObjectId(), ...facts, day, recordedAt: at });
      }
      // The browser in New York: the picker's default must be the server's zone, not the browser's.
      ctx = await openPage(browser!, { acceptDownloads: true, timezoneId: 'America/New_York' });
    });
    after(async () => {
      await ctx?.context.close();
    });

    /** The report requests (JSON and CSV) the page sends from now on. */
    function recordReportRequests(page: Page): URL[] {
      const urls: URL[] = [];
      page.on('request', (req) => {
        const url = new URL(req.url());
        if (url.pathname.startsWith('/api/v1/analytics/')) urls.push(url);
      });
      return urls;
    }

    /** The cohort table's rows in range: [day, signups]. */
    const cohortRows = async (page: Page) =>
      (
        await page
          .locator('#cohort-table tbody tr[data-day]')
          .evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]))
      ).map(([d, n]) => [String(d), Number(n)]);

    /** Our source's bars in the chart, by day. */
    const ourBars = (page: Page) =>
      evaluate<Record<string, number>>(
        page,
        `(() => {
          const canvas = document.getElementById('signups-chart');
          const days = canvas.dataset.days.split(',');
          const set = Chart.getChart(canvas).data.datasets.find((d) => d.label === ${JSON.stringify(source)});
          const out = {};
          if (set) set.data.forEach((n, i) => { if (n) out[days[i]] = n; });
          return out;
        })()`,
      );

    it('picks the zone of the reports: every request and the CSV carry tz, and a late-UTC signup moves to the next day', async () => {
      const { page, problems } = ctx;
      const requests = recordReportRequests(page);
      await page.goto(`${srv.url}/dashboard`);
      await signIn(page, marketer);
      await page.locator('#reports').waitFor({ state: 'visible' });
      await ready(page);

      // No choice stored: the first load asks the server's default zone (no tz), and the picker shows its answer.
      const picker = page.getByLabel('Time zone');
      expect(await picker.evaluate((el) => el.tagName)).to.equal('SELECT');
      expect(await picker.inputValue()).to.equal('UTC');
      expect(requests).to.have.length(4);
      expect(requests.map((u) => u.searchParams.get('tz'))).to.deep.equal([null, null, null, null]);
      expect(await evaluate<string>(page, 'Intl.DateTimeFormat().resolvedOptions().timeZone')).to.equal(
        'America/New_York',
      );
      // The browser's zones, under their IANA names, with the offset.
      const options = await picker
        .locator('option')
        .evaluateAll((os) => os.map((o) => [o.getAttribute('value'), o.textContent]));
      expect(options.length).to.be.above(300);
      expect(options[0]).to.deep.equal(['UTC', 'UTC']);
      expect(options).to.deep.include(['Asia/Kolkata', 'Asia/Kolkata (UTC+05:30)']);
      expect(options).to.deep.include(['Europe/Istanbul', 'Europe/Istanbul (UTC+03:00)']);
      expect(options.map((o) => o[0])).to.include('America/New_York');
      expect(options.map((o) => o[0])).to.not.include('Asia/Calcutta'); // one option per zone, not per alias

      // UTC: all four signups on `day`.
      await page.getByLabel('From', { exact: true }).fill(range.from);
      await page.getByLabel('To', { exact: true }).fill(range.to);
      requests.length = 0;
      await page.getByRole('button', { name: 'Load' }).click();
      await ready(page);
      expect(requests.map((u) => u.searchParams.get('tz'))).to.deep.equal(['UTC', 'UTC', 'UTC', 'UTC']);
      expect(await cohortRows(page)).to.deep.equal([[day, 4]]);
      expect(await ourBars(page)).to.deep.equal({ [day]: 4 });
      expect(await page.locator('#cohort-zone').textContent()).to.equal('Days in UTC.');
      expect(await page.locator('#chart-total').textContent()).to.match(/ days in UTC$/);

      // Asia/Kolkata: changing the picker reloads the reports in that zone; the late three count the next day.
      requests.length = 0;
      await picker.selectOption('Asia/Kolkata');
      await ready(page);
      expect(requests).to.have.length(4);
      expect(requests.map((u) => u.pathname.replace('/api/v1/analytics/', ''))).to.have.members([
        'signups',
        'signups',
        'funnel',
        'retention',
      ]);
      for (const url of requests) {
        expect(url.searchParams.get('tz'), url.href).to.equal('Asia/Kolkata');
        expect(url.searchParams.get('from'), url.href).to.equal(range.from);
        expect(url.searchParams.get('to'), url.href).to.equal(range.to);
      }
      expect(await cohortRows(page)).to.deep.equal([
        [day, 1],
        [nextDay, 3],
      ]);
      expect(await ourBars(page)).to.deep.equal({ [day]: 1, [nextDay]: 3 });
      expect(await page.locator('#cohort-zone').textContent()).to.equal('Days in Asia/Kolkata.');
      expect(await page.locator('#chart-total').textContent()).to.equal('4 signups, 4 days in Asia/Kolkata');
      expect(await page.locator('#cohort-table tfoot th').textContent()).to.equal('All');
      const campaign = page.locator(`#campaign-table tbody tr[data-source="${source}"] td`).first();
      expect(await campaign.textContent()).to.equal(`${tag}_camp`);
      await page.locator('#signups-chart').scrollIntoViewIfNeeded();
      const shot = path.join(OUTPUT, 'dashboard-time-zone.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`    screenshot: ${shot}`);

      // The CSV export: the same zone in its request, its rows and its file name.
      requests.length = 0;
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      expect(requests).to.have.length(1);
      expect(requests[0]!.searchParams.get('format')).to.equal('csv');
      expect(requests[0]!.searchParams.get('tz')).to.equal('Asia/Kolkata');
      expect(download.suggestedFilename()).to.equal(`allmine-signups_${range.from}_${range.to}_Asia-Kolkata.csv`);
      const csv = fs
        .readFileSync(await download.path(), 'utf8')
        .trim()
        .split(/\r?\n/);
      expect(csv.filter((l) => l.split(',')[1] === source)).to.deep.equal([
        `${day},${source},1,0,,,,`,
        `${nextDay},${source},3,0,,,,`,
      ]);

      // The choice is remembered: a reload starts in Asia/Kolkata and asks for it from the first request.
      expect(await evaluate<string | null>(page, `localStorage.getItem('allmine.dashboard.timeZone')`)).to.equal(
        'Asia/Kolkata',
      );
      requests.length = 0;
      await page.reload();
      await ready(page);
      expect(await picker.inputValue()).to.equal('Asia/Kolkata');
      expect(requests).to.have.length(4);
      expect(requests.map((u) => u.searchParams.get('tz'))).to.deep.equal([
        'Asia/Kolkata',
        'Asia/Kolkata',
        'Asia/Kolkata',
        'Asia/Kolkata',
      ]);
      expect(await page.locator('#cohort-zone').textContent()).to.equal('Days in Asia/Kolkata.');

      expect(problems.csp, 'CSP violations').to.deep.equal([]);
      expect(problems.pageErrors, 'uncaught errors').to.deep.equal([]);
      expect(problems.console, 'console errors').to.deep.equal([]);
    });
  });

  it('shows a plain user (no marketing role) that the reports are not for them', async () => {
    const { context, page, problems } = await openPage(browser!, { acceptDownloads: true });
    try {
      await page.goto(`${srv.url}/dashboard`);
      await page.getByLabel('Phone number').waitFor();
      await page.screenshot({ path: path.join(OUTPUT, 'dashboard-sign-in.png'), fullPage: true });
      await signIn(page, freshPhone()); // a new user: roles ['user']
      const forbidden = page.locator('#forbidden');
      await forbidden.waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined);
      await page.screenshot({ path: path.join(OUTPUT, 'dashboard-forbidden.png'), fullPage: true });
      expect(await forbidden.isVisible(), (await page.locator('#report-error').textContent()) ?? '').to.equal(true);
      expect(await page.getByRole('heading', { name: 'No access to the reports' }).isVisible()).to.equal(true);
      expect(await page.locator('#forbidden-message').textContent()).to.match(/Insufficient permissions/);
      expect(await page.locator('#reports').isVisible()).to.equal(false);
      expect(await page.locator('#sign-in').isVisible()).to.equal(false);

      // "Sign in with another account" goes back to the form, tokens gone.
      await page.getByRole('button', { name: 'Sign in with another account' }).click();
      await page.locator('#sign-in').waitFor({ state: 'visible' });
      expect(await evaluate<string | null>(page, `sessionStorage.getItem('allmine.dashboard.accessToken')`)).to.equal(
        null,
      );

      expect(problems.csp).to.deep.equal([]);
      expect(problems.pageErrors).to.deep.equal([]);
      expect(problems.console.filter((t) => !/status of 403/.test(t))).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
