/**
 * Operating the system: the API reference (`/openapi.json`, the `/docs` playground in headless Chromium
 * with its production guard), Prometheus metrics (`/metrics`) and the queue dashboard (`/admin/queues`),
 * all on the real app (`createApp`) on a loopback port.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { chromium, type Browser } from 'playwright-core';
import { ConfigError, loadConfig } from '../config/index.js';
import { createApp } from '../src/app.js';
import { createHttpServer } from '../src/lib/http-server.js';
import { closeQueues, createQueues, QUEUE_NAMES, type Queues } from '../src/jobs/queues.js';
import { createLogger } from '../src/lib/logger.js';
import { QUEUE_STATES } from '../src/lib/metrics.js';
import { User } from '../src/models/user.js';
import { eventually, freshIp, freshPhone, login, recordingMailer, sendOtp, verifyOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { queues, redis } from './support/hooks.js';
import { listen, type TestServer } from './support/http.js';
import { CHROMIUM, CHROMIUM_ARGS, OUTPUT, openPage } from './support/browser.js';
import { freePort } from '../scripts/net.mjs';
import { captureLogs } from './support/logs.js';
import { spawnApp, type AppProcess } from './support/processes.js';

/** `.invalid` never resolves, and every request the browser makes to it is answered by the test (page.route). */
const PRODUCTION_URL = 'https://api.allmine.invalid';
const METRICS_TOKEN = randomBytes(24).toString('hex');
const BOARD_USER = 'ops';
const BOARD_PASSWORD = randomBytes(16).toString('hex');
const basicAuth = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/**
 * Queues of their own (a unique QUEUE_PREFIX), so the dashboard and the gauges see only this test's jobs,
 * and only this test's worker runs them (other test files, or other runs on the same Redis, have theirs).
 */
const QUEUE_PREFIX = `{ops-${randomBytes(4).toString('hex')}}`;

type OpsServer = TestServer & { port: number; queues: Queues };

async function startOpsApp(): Promise<OpsServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = captureLogs();
  const config = testConfig({
    TRUST_PROXY: 'true',
    QUEUE_PREFIX,
    API_SERVERS: `Development=${url},Production=${PRODUCTION_URL}`,
    METRICS_TOKEN,
    QUEUE_DASHBOARD_USER: BOARD_USER,
    QUEUE_DASHBOARD_PASSWORD: BOARD_PASSWORD,
  });
  const opsQueues = createQueues(config, redis());
  const app = createApp({
    config,
    logger: createLogger({ level: 'debug' }, logs.stream),
    mongo: mongoose.connection,
    redis: redis(),
    queues: opsQueues,
    mailer: recordingMailer(),
  });
  // The shared listener: its request() also checks every response against the OpenAPI document.
  const srv = await listen(app, logs, port);
  return {
    ...srv,
    port,
    queues: opsQueues,
    close: async () => {
      await srv.close();
      await Promise.all(Object.values(opsQueues).map((q) => q.obliterate({ force: true })));
      await closeQueues(opsQueues);
    },
  };
}

/** Prometheus text → value of the sample `name{labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (
      Object.keys(labels).length === Object.keys(have).length &&
      Object.entries(labels).every(([k, v]) => have[k] === v)
    )
      return Number(m[3]);
  }
  return undefined;
}

describe('operations: API reference, metrics, queue dashboard', function () {
  this.timeout(90_000);
  let srv: OpsServer;
  let browser: Browser | undefined;

  before(async () => {
    srv = await startOpsApp();
    fs.mkdirSync(OUTPUT, { recursive: true });
    if (fs.existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    else console.log(`    ${CHROMIUM} is missing: skipping the browser tests (apt-get install -y chromium)`);
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  describe('API reference', () => {
    it('GET /openapi.json serves the OpenAPI document with the configured servers', async () => {
      const res = await srv.request('/openapi.json');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.body.openapi).to.match(/^3\./);
      expect(res.body.servers).to.deep.equal([
        { url: srv.url, description: 'Development' },
        { url: PRODUCTION_URL, description: 'Production' },
      ]);
      expect(res.body.paths['/api/v1/auth/verify-otp'].post['x-mutating']).to.equal(true);
      expect(res.body.paths['/healthz'].get['x-mutating']).to.not.equal(true);
    });

    it("GET /docs: the page and Swagger UI come from this origin; the CSP is helmet's plus connect-src for the servers", async () => {
      const page = await srv.request('/docs');
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp)
        .to.include("script-src 'self'")
        .and.include("script-src-attr 'none'")
        .and.include("default-src 'self'");
      expect(csp).to.include(`connect-src 'self' ${srv.url} ${PRODUCTION_URL}`);
      expect(page.text).to.not.match(/<script(?![^>]*\b(src=|type="application\/json"))[^>]*>/); // no executable inline script
      expect(page.text).to.not.match(/https?:\/\/(?!127\.0\.0\.1)[^"']*\.(js|css)/); // no CDN
      const config = JSON.parse(
        /<script id="docs-config" type="application\/json">(.*?)<\/script>/s.exec(page.text)![1]!,
      );
      expect(config).to.deep.equal({
        specUrl: '/openapi.json',
        productionUrls: [PRODUCTION_URL],
        pageIsProduction: false,
      });

      for (const [file, type] of [
        ['/docs/vendor/swagger-ui-bundle.js', /javascript/],
        ['/docs/vendor/swagger-ui.css', /^text\/css/],
        ['/docs/docs.js', /javascript/],
        ['/docs/docs.css', /^text\/css/],
      ] as const) {
        const res = await srv.request(file);
        expect(res.status, file).to.equal(200);
        expect(res.headers.get('content-type'), file).to.match(type);
      }
      // The other pages keep helmet's default connect-src ('self' through default-src).
      expect((await srv.request('/healthz')).headers.get('content-security-policy')).to.not.include('connect-src');
    });

    it('/docs renders in Chromium with both servers, sends to Development freely, and warns before a mutating request to Production', async function () {
      if (!browser) this.skip();
      const { context, page, problems } = await openPage(browser);
      const toProduction: string[] = [];
      // Nothing leaves the machine: the test answers for "Production" (with CORS, as a real API would for an allowed origin).
      await page.route(`${PRODUCTION_URL}/**`, async (route) => {
        toProduction.push(`${route.request().method()} ${new URL(route.request().url()).pathname}`);
        await route.fulfill({
          status: 200,
          headers: {
            'content-type': 'application/json',
            'access-control-allow-origin': '*',
            'access-control-allow-headers': '*',
          },
          body: JSON.stringify({
            isSuccess: true,
            statusCode: 200,
            data: { fake: 'production' },
            errors: [],
            timestamp: new Date().toISOString(),
          }),
        });
      });
      try {
        await page.goto(`${srv.url}/docs`);
        const servers = page.locator('.servers select');
        await servers.waitFor({ timeout: 20_000 });
        const options = (await servers.locator('option').allTextContents()).map((t) => t.trim());
        expect(options).to.deep.equal([`${srv.url} - Development`, `${PRODUCTION_URL} - Production`]);
        expect(await page.locator('.opblock').count()).to.be.above(10);
        expect(await page.locator('#production-banner').isVisible()).to.equal(false);
        // Operations that change state carry a mark.
        const sendOtpOp = page.locator('.opblock.opblock-post', {
          has: page.locator('[data-path="/api/v1/auth/send-otp"]'),
        });
        expect(await sendOtpOp.locator('.mutating-badge').textContent()).to.equal('changes state');
        expect(
          await page
            .locator('.opblock', { has: page.locator('[data-path="/healthz"]') })
            .locator('.mutating-badge')
            .count(),
        ).to.equal(0);

        const shot = path.join(OUTPUT, 'docs.png');
        await page.screenshot({ path: shot, fullPage: true });
        console.log(`    screenshot: ${shot}`);

        // Development: a mutating request goes straight out, to this server.
        await sendOtpOp.locator('.opblock-summary').click();
        await sendOtpOp.getByRole('button', { name: 'Try it out' }).click();
        const phone = freshPhone();
        await sendOtpOp
          .locator('textarea.body-param__text')
          .fill(JSON.stringify({ countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }));
        await sendOtpOp.getByRole('button', { name: 'Execute' }).click();
        const status = sendOtpOp.locator('.live-responses-table .response .response-col_status').first();
        await status.waitFor({ timeout: 15_000 });
        expect((await status.textContent())?.trim()).to.equal('201');
        expect(await page.locator('#production-confirm').isVisible()).to.equal(false);

        // Production: a banner, and the same request asks first.
        await servers.selectOption({ label: `${PRODUCTION_URL} - Production` });
        await page.locator('#production-banner').waitFor({ state: 'visible' });
        await sendOtpOp.getByRole('button', { name: 'Execute' }).click();
        const dialog = page.locator('#production-confirm');
        await dialog.waitFor({ state: 'visible' });
        expect(await dialog.locator('#production-confirm-operation').textContent()).to.equal(
          'POST /api/v1/auth/send-otp',
        );
        expect(await dialog.locator('#production-confirm-server').textContent()).to.equal(PRODUCTION_URL);
        const warning = path.join(OUTPUT, 'docs-production-warning.png');
        await page.screenshot({ path: warning, fullPage: false });
        console.log(`    screenshot: ${warning}`);
        expect(toProduction, 'nothing sent while the dialog is open').to.deep.equal([]);

        // Cancel: nothing is sent, and the response area says so.
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await sendOtpOp.getByText('Not sent: you cancelled a state-changing request to Production.').waitFor();
        expect(toProduction).to.deep.equal([]);

        // Confirm: sent.
        await sendOtpOp.getByRole('button', { name: 'Execute' }).click();
        await dialog.waitFor({ state: 'visible' });
        await dialog.getByRole('button', { name: 'Send to Production' }).click();
        await eventually(async () => toProduction.length > 0, 10_000, 'the confirmed request sent');
        expect(toProduction).to.deep.equal(['POST /api/v1/auth/send-otp']);

        // A read-only operation on Production does not ask.
        const healthz = page.locator('.opblock', { has: page.locator('[data-path="/healthz"]') });
        await healthz.locator('.opblock-summary').click();
        await healthz.getByRole('button', { name: 'Try it out' }).click();
        await healthz.getByRole('button', { name: 'Execute' }).click();
        await eventually(async () => toProduction.length > 1, 10_000, 'the healthz request sent');
        expect(toProduction).to.deep.equal(['POST /api/v1/auth/send-otp', 'GET /healthz']);
        expect(await dialog.isVisible()).to.equal(false);

        expect(problems.csp, 'CSP violations').to.deep.equal([]);
        expect(problems.pageErrors, 'uncaught errors').to.deep.equal([]);
        expect(problems.console, 'console errors').to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  });

  describe('GET /metrics', () => {
    const auth = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };
    const scrape = async () => {
      const res = await srv.request('/metrics', auth);
      expect(res.status, res.text).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      return res.text;
    };

    it('is 401 in the envelope without the bearer token, or with a wrong one', async () => {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: 'Bearer wrong-token-of-some-length' },
        { authorization: `Basic ${METRICS_TOKEN}` },
      ]) {
        const res = await srv.request('/metrics', { headers });
        expect(res.status).to.equal(401);
        expect(res.body).to.include({ isSuccess: false, statusCode: 401 });
        expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="metrics"');
      }
    });

    it('counts requests by route template, times verify-otp, and counts OTP outcomes', async () => {
      const verify = { method: 'POST', route: '/api/v1/auth/verify-otp', status: '200' };
      const before = await scrape();
      const countBefore = sample(before, 'http_request_duration_seconds_count', verify) ?? 0;
      const verifiedBefore = sample(before, 'otp_verified_total', { channel: 'sms' })!;
      const sentBefore = sample(before, 'otp_sent_total', { channel: 'sms' })!;
      const invalidBefore = sample(before, 'otp_failed_total', { channel: 'sms', reason: 'invalid' })!;
      expect(verifiedBefore).to.be.a('number');

      for (let i = 0; i < 3; i++) await login(srv);
      // A wrong code: 400 OTP_INVALID.
      const ip = freshIp();
      const phone = freshPhone();
      const sent = await sendOtp(srv, { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }, ip);
      expect(sent.status).to.equal(201);
      const code = sent.body.data.code as string;
      const wrongCode = code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
      const wrong = await verifyOtp(
        srv,
        { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber, code: wrongCode },
        ip,
      );
      expect(wrong.status).to.equal(400);
      expect(wrong.body.errorCode).to.equal('OTP_INVALID');
      // A raw URL never becomes a label.
      expect((await srv.request(`/api/v1/no-such-thing/${randomBytes(4).toString('hex')}`)).status).to.equal(404);

      const after = await scrape();
      expect(sample(after, 'http_request_duration_seconds_count', verify)).to.equal(countBefore + 3);
      expect(sample(after, 'http_request_duration_seconds_bucket', { ...verify, le: '+Inf' })).to.equal(
        countBefore + 3,
      );
      expect(sample(after, 'http_request_duration_seconds_sum', verify)).to.be.above(0);
      expect(sample(after, 'http_requests_total', verify)).to.equal(countBefore + 3);
      expect(
        sample(after, 'http_requests_total', { method: 'POST', route: '/api/v1/auth/verify-otp', status: '400' }),
      ).to.be.at.least(1);
      expect(sample(after, 'otp_verified_total', { channel: 'sms' })).to.equal(verifiedBefore + 3);
      expect(sample(after, 'otp_sent_total', { channel: 'sms' })).to.equal(sentBefore + 4);
      expect(sample(after, 'otp_failed_total', { channel: 'sms', reason: 'invalid' })).to.equal(invalidBefore + 1);
      expect(sample(after, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).to.be.at.least(
        1,
      );
      expect(after).to.not.include('no-such-thing');
      // Default process metrics.
      expect(sample(after, 'process_cpu_user_seconds_total')).to.be.a('number');
      expect(after).to.include('nodejs_eventloop_lag_seconds');
    });

    it('reports the jobs of every queue by state, read at scrape time', async () => {
      // The logins above enqueued their last-login jobs (no worker runs this app's queues yet).
      const lastLogin = async (text: string) => {
        const counts = await srv.queues['last-login'].getJobCounts(...QUEUE_STATES);
        const scraped = QUEUE_STATES.map((state) => sample(text, 'queue_jobs', { queue: 'last-login', state }));
        return (
          scraped.every((n, i) => n === (counts[QUEUE_STATES[i]!] ?? 0)) && scraped.reduce((a, n) => a! + n!, 0)! >= 3
        );
      };
      await eventually(async () => lastLogin(await scrape()), 10_000, 'the gauges match the queue');
      const text = await scrape();
      for (const queue of QUEUE_NAMES) {
        for (const state of QUEUE_STATES) {
          expect(sample(text, 'queue_jobs', { queue, state }), `${queue} ${state}`)
            .to.be.a('number')
            .and.at.least(0);
        }
      }
    });
  });

  describe('queue dashboard (/admin/queues)', () => {
    const basic = basicAuth(BOARD_USER, BOARD_PASSWORD);
    let worker: AppProcess | undefined;
    const jobId = `ops-test-fail-${randomBytes(4).toString('hex')}`;

    after(async () => {
      await worker?.stop();
    });

    it('is 401 with WWW-Authenticate: Basic without credentials or with wrong ones; 403 for a non-admin token', async () => {
      for (const headers of [
        {} as Record<string, string>,
        basicAuth(BOARD_USER, 'wrong-password-123'),
        basicAuth('someone', BOARD_PASSWORD),
        { authorization: 'Basic !!!' },
      ]) {
        for (const p of ['/admin/queues', '/admin/queues/api/queues']) {
          const res = await srv.request(p, { headers });
          expect(res.status, `${p} ${JSON.stringify(headers)}`).to.equal(401);
          expect(res.body).to.include({ isSuccess: false, statusCode: 401 });
          expect(res.headers.get('www-authenticate')).to.match(/^Basic realm="Allmine queues"/);
        }
      }
      const user = await login(srv);
      const res = await srv.request('/admin/queues/api/queues', {
        headers: { authorization: `Bearer ${user.accessToken}` },
      });
      expect(res.status).to.equal(403);
    });

    it('takes an admin access token as well', async () => {
      const phone = freshPhone();
      await User.create({
        phoneKey: phone.e164,
        countryCode: phone.countryCode,
        phoneNumber: phone.phoneNumber,
        roles: ['user', 'admin'],
      });
      const admin = await login(srv, phone);
      const res = await srv.request('/admin/queues/api/queues', {
        headers: { authorization: `Bearer ${admin.accessToken}` },
      });
      expect(res.status).to.equal(200);
      expect(res.body.queues.map((q: { name: string }) => q.name).sort()).to.deep.equal([...QUEUE_NAMES].sort());
    });

    it('with Basic credentials: the page and its API list every queue, and a failed job shows in the failed list', async function () {
      const page = await srv.request('/admin/queues', { headers: basic });
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.headers.get('cache-control')).to.equal('no-store');
      expect(page.headers.get('x-powered-by')).to.equal(null);
      expect(page.text).to.include('<title>Allmine queues</title>').and.include('<base href="/admin/queues/" />');
      expect(page.text).to.not.include('fonts.googleapis.com');

      const api = await srv.request('/admin/queues/api/queues', { headers: basic });
      expect(api.status).to.equal(200);
      expect(api.body.queues.map((q: { name: string }) => q.name).sort()).to.deep.equal([...QUEUE_NAMES].sort());

      // A job that fails: a funnel event without a valid time, one attempt, run by the real worker.
      // Its own metrics on an ephemeral port (WORKER_METRICS_PORT=0), behind the same token.
      worker = spawnApp('worker', { QUEUE_PREFIX, WORKER_METRICS_PORT: '0', METRICS_TOKEN });
      const listening = await worker.waitForLog((l) => l.msg === 'worker metrics listening');
      await worker.waitForLog((l) => l.msg === 'worker started');
      const workerMetricsUrl = `http://127.0.0.1:${listening.port as number}/metrics`;
      await srv.queues.funnel.add(
        'funnel',
        { step: 'otp-sent', codeId: jobId, at: 'not-a-date' },
        { jobId, attempts: 1 },
      );
      await eventually(async () => (await srv.queues.funnel.getJobState(jobId)) === 'failed', 20_000, 'the job failed');

      const failed = await srv.request('/admin/queues/api/queues?activeQueue=funnel&status=failed&page=1', {
        headers: basic,
      });
      expect(failed.status).to.equal(200);
      const funnel = failed.body.queues.find((q: { name: string }) => q.name === 'funnel');
      expect(funnel.counts.failed).to.be.at.least(1);
      const job = funnel.jobs.find((j: { id: string }) => j.id === jobId);
      expect(job, 'our failed job').to.not.equal(undefined);
      expect(job.failedReason).to.match(/^funnel job payload refused: .*\bat: must be an ISO 8601 UTC time/);

      // The worker counted the failure (and it refuses a scrape without the token).
      expect((await fetch(workerMetricsUrl)).status).to.equal(401);
      const workerText = await (
        await fetch(workerMetricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
      ).text();
      expect(sample(workerText, 'jobs_failed_total', { queue: 'funnel' })).to.be.at.least(1);
      for (const queue of QUEUE_NAMES)
        expect(sample(workerText, 'jobs_completed_total', { queue }), queue).to.be.a('number');
      expect(sample(workerText, 'process_cpu_user_seconds_total')).to.be.a('number');

      // The failed job shows in the gauge too.
      const metrics = await srv.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(sample(metrics.text, 'queue_jobs', { queue: 'funnel', state: 'failed' })).to.be.at.least(1);

      if (!browser) this.skip();
      const {
        context,
        page: tab,
        problems,
      } = await openPage(browser, { httpCredentials: { username: BOARD_USER, password: BOARD_PASSWORD } });
      try {
        await tab.goto(`${srv.url}/admin/queues/queue/funnel?status=failed`);
        await tab.getByText(jobId).first().waitFor({ timeout: 20_000 });
        for (const name of QUEUE_NAMES)
          expect(await tab.getByText(name, { exact: true }).count(), name).to.be.at.least(1);
        const shot = path.join(OUTPUT, 'queues.png');
        await tab.screenshot({ path: shot, fullPage: true });
        console.log(`    screenshot: ${shot}`);
        expect(problems.csp, 'CSP violations').to.deep.equal([]);
        expect(problems.pageErrors, 'uncaught errors').to.deep.equal([]);
        expect(problems.console, 'console errors').to.deep.equal([]);
      } finally {
        await context.close();
      }
    });

    /** A job of this app's funnel queue: valid, or with `at` broken (the worker fails it for good). */
    const funnelJob = (at = new Date().toISOString()) => ({
      step: 'otp-sent',
      codeId: new mongoose.Types.ObjectId().toHexString(),
      at,
      channel: 'phone',
      country: '90',
      platform: 'web',
      source: null,
      campaign: null,
    });
    const sameOrigin = () => ({ ...basic, origin: srv.url, 'content-type': 'application/json' });

    it('is read-only: adding, cleaning, promoting, pausing, emptying, removing and editing jobs are 403 in the envelope and change nothing', async () => {
      const q = srv.queues.funnel;
      const data = funnelJob();
      // Parked for an hour, so no worker takes it while we try to change it.
      const parked = await q.add('funnel', data, { jobId: `ops-parked-${data.codeId}`, delay: 3_600_000 });
      const countsBefore = await q.getJobCounts('waiting', 'delayed', 'failed', 'completed');
      const attempts: [string, string, unknown?][] = [
        ['POST', '/admin/queues/api/queues/funnel/add', { name: 'funnel', data: funnelJob(), options: {} }],
        ['PUT', '/admin/queues/api/queues/funnel/promote'],
        ['PUT', `/admin/queues/api/queues/funnel/${parked.id}/promote`],
        ['PUT', '/admin/queues/api/queues/funnel/clean/delayed'],
        ['PUT', `/admin/queues/api/queues/funnel/${parked.id}/clean`],
        ['PATCH', `/admin/queues/api/queues/funnel/${parked.id}/update-data`, { data: { ...data, platform: 'admin' } }],
        ['PATCH', `/admin/queues/api/queues/funnel/${parked.id}/delay`, { delay: 0 }],
        ['PUT', `/admin/queues/api/queues/funnel/${parked.id}/retry`],
        ['PUT', '/admin/queues/api/queues/funnel/retry/completed'],
        ['PUT', '/admin/queues/api/queues/funnel/pause'],
        ['PUT', '/admin/queues/api/queues/pause'],
        ['PUT', '/admin/queues/api/queues/funnel/empty'],
        ['PUT', '/admin/queues/api/queues/funnel/obliterate'],
        ['DELETE', `/admin/queues/api/queues/funnel/${parked.id}`],
      ];
      for (const [method, path, body] of attempts) {
        const res = await srv.request(path, {
          method,
          headers: sameOrigin(),
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        expect(res.status, `${method} ${path}: ${res.text}`).to.equal(403);
        expect(res.body, `${method} ${path}`).to.include({
          isSuccess: false,
          statusCode: 403,
          data: null,
          errorCode: 'QUEUE_DASHBOARD_READ_ONLY',
        });
        expect(res.body.errors[0]).to.equal('Insufficient permissions');
      }
      // The add-job path is refused by name, for any method.
      const add = await srv.request('/admin/queues/api/queues/funnel/add', { headers: basic });
      expect(add.status).to.equal(403);
      expect(add.body.errors).to.deep.equal([
        'Insufficient permissions',
        'queue dashboard: adding jobs is not allowed; it is read-only but for retrying failed jobs',
      ]);

      const still = await q.getJob(parked.id!);
      expect(await still!.getState()).to.equal('delayed');
      expect(still!.data).to.deep.equal(data);
      expect(await q.isPaused()).to.equal(false);
      expect(await q.getJobCounts('waiting', 'delayed', 'failed', 'completed')).to.deep.equal(countsBefore);
      // Reading still works.
      const read = await srv.request('/admin/queues/api/queues?activeQueue=funnel&status=delayed&page=1', {
        headers: basic,
      });
      expect(read.status).to.equal(200);
      expect(
        read.body.queues.find((x: { name: string }) => x.name === 'funnel').jobs.map((j: { id: string }) => j.id),
      ).to.include(parked.id);
      await parked.remove();
    });

    it('retries failed jobs, but only from its own page: a cross-site request is 403 and retries nothing', async () => {
      const q = srv.queues.funnel;
      if (!worker) {
        worker = spawnApp('worker', { QUEUE_PREFIX });
        await worker.waitForLog((l) => l.msg === 'worker started');
      }
      const data = funnelJob('not-a-date');
      const job = await q.add('funnel', data, { jobId: `ops-retry-${data.codeId}` });
      await eventually(async () => (await q.getJobState(job.id!)) === 'failed', 20_000, 'the job failed');
      const retryPath = `/admin/queues/api/queues/funnel/${job.id}/retry`;
      for (const headers of [
        basic, // no Origin at all (a form post from an old browser, a script riding the credentials)
        { ...basic, origin: 'https://evil.example' },
        { ...basic, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        { ...basic, origin: srv.url.replace('127.0.0.1', 'localhost'), 'sec-fetch-site': 'same-site' },
      ]) {
        for (const path of [retryPath, '/admin/queues/api/queues/funnel/retry/failed']) {
          const res = await srv.request(path, { method: 'PUT', headers });
          expect(res.status, `${path} ${JSON.stringify(headers)}`).to.equal(403);
          expect(res.body).to.include({
            isSuccess: false,
            statusCode: 403,
            data: null,
            errorCode: 'CROSS_ORIGIN_REFUSED',
          });
        }
      }
      const untouched = await q.getJob(job.id!);
      expect(await untouched!.getState()).to.equal('failed');
      expect(untouched!.attemptsMade).to.equal(1);

      // From the page (its Origin): retried, and run again by the worker (and refused again: the payload is still bad).
      const retried = await srv.request(retryPath, { method: 'PUT', headers: { ...basic, origin: srv.url } });
      expect(retried.status, retried.text).to.equal(204);
      await eventually(
        async () => {
          const again = await q.getJob(job.id!);
          return again!.attemptsMade === 2 && (await again!.getState()) === 'failed';
        },
        20_000,
        'the job retried and failed again',
      );
      // The bulk retry, with the browser's Sec-Fetch-Site.
      const bulk = await srv.request('/admin/queues/api/queues/funnel/retry/failed', {
        method: 'PUT',
        headers: { ...basic, 'sec-fetch-site': 'same-origin' },
      });
      expect(bulk.status, bulk.text).to.equal(200);
      expect(bulk.body.retried).to.be.at.least(1);
      await eventually(async () => (await q.getJob(job.id!))!.attemptsMade === 3, 20_000, 'the bulk retry ran the job');
    });
  });
});

describe('operations: configuration', () => {
  const STRONG = 'x'.repeat(48);
  const production = {
    NODE_ENV: 'production',
    MONGODB_URI: 'mongodb://db/allmine',
    REDIS_URL: 'rediss://h:6380',
    JWT_SECRET: STRONG,
    OTP_HMAC_SECRET: `${STRONG}y`,
    TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'a'.repeat(32),
    TWILIO_MESSAGING_SERVICE_SID: `MG${'1'.repeat(32)}`,
    SMTP_URL: 'smtps://mailer:secret@smtp.example.net:465',
  };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('parses API_SERVERS into { description, url }; defaults to Development on localhost:PORT outside production, none in production', () => {
    expect(loadConfig({ NODE_ENV: 'development', PORT: '4100' }).docs.servers).to.deep.equal([
      { description: 'Development', url: 'http://localhost:4100' },
    ]);
    expect(
      loadConfig({
        NODE_ENV: 'test',
        API_SERVERS: 'Development=http://localhost:3000, Production=https://api.allmine.app/',
      }).docs.servers,
    ).to.deep.equal([
      { description: 'Development', url: 'http://localhost:3000' },
      { description: 'Production', url: 'https://api.allmine.app' },
    ]);
    expect(loadConfig(production).docs.servers).to.deep.equal([]);
    for (const bad of ['http://localhost:3000', 'Production=ftp://x', 'Production=', '=https://x']) {
      expect(problems({ NODE_ENV: 'test', API_SERVERS: bad }).join(), bad).to.match(/^API_SERVERS: /);
    }
  });

  it('metrics: on outside production (open without a token); in production off by default, and on only with a token of 32+ bytes', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).metrics).to.deep.equal({
      enabled: true,
      token: undefined,
      workerPort: undefined,
    });
    expect(loadConfig(production).metrics.enabled).to.equal(false);
    expect(problems({ ...production, METRICS_ENABLED: 'true' })).to.deep.equal([
      'METRICS_TOKEN: is required in production when metrics are on (METRICS_ENABLED or WORKER_METRICS_PORT)',
    ]);
    expect(problems({ ...production, WORKER_METRICS_PORT: '9100' })).to.have.length(1);
    expect(problems({ ...production, METRICS_ENABLED: 'true', METRICS_TOKEN: 'a'.repeat(20) })).to.deep.equal([
      'METRICS_TOKEN: must be at least 32 bytes in production',
    ]);
    expect(
      loadConfig({ ...production, METRICS_ENABLED: 'true', METRICS_TOKEN: 'a'.repeat(32) }).metrics.enabled,
    ).to.equal(true);
  });

  it('queue dashboard: user and password go together; production mounts it only with them (password 20+ characters)', () => {
    expect(problems({ NODE_ENV: 'test', QUEUE_DASHBOARD_USER: 'ops' })).to.deep.equal([
      'QUEUE_DASHBOARD_PASSWORD: QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD go together',
    ]);
    expect(loadConfig({ NODE_ENV: 'development' }).queueDashboard).to.deep.equal({ enabled: true, basic: undefined });
    expect(loadConfig(production).queueDashboard).to.deep.equal({ enabled: false, basic: undefined });
    expect(
      problems({ ...production, QUEUE_DASHBOARD_USER: 'ops', QUEUE_DASHBOARD_PASSWORD: 'p'.repeat(12) }),
    ).to.deep.equal(['QUEUE_DASHBOARD_PASSWORD: must be at least 20 characters in production']);
    expect(
      loadConfig({ ...production, QUEUE_DASHBOARD_USER: 'ops', QUEUE_DASHBOARD_PASSWORD: 'p'.repeat(20) })
        .queueDashboard,
    ).to.deep.equal({ enabled: true, basic: { user: 'ops', password: 'p'.repeat(20) } });
  });

  it('a production app without a metrics token or dashboard credentials has neither (404); its /docs treats its own origin as Production', async () => {
    const logs = captureLogs();
    const app = createApp({
      config: loadConfig(production),
      logger: createLogger({ level: 'silent' }, logs.stream),
      mongo: mongoose.connection,
      redis: redis(),
      queues: queues(),
      mailer: recordingMailer(),
    });
    const server = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const p of ['/metrics', '/admin/queues', '/admin/queues/api/queues'])
        expect((await fetch(`${base}${p}`)).status, p).to.equal(404);
      const docs = await (await fetch(`${base}/docs`)).text();
      expect(docs).to.include('{"specUrl":"/openapi.json","productionUrls":[],"pageIsProduction":true}');
      const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { servers: unknown[] };
      expect(spec.servers).to.deep.equal([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
