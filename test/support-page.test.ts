/**
 * The support page (`/dashboard/support`), driven in Debian's headless Chromium through playwright-core
 * against the real app on a loopback port: its files and cache headers; a support agent signs in with a
 * phone code, looks a user up by phone, reads their sessions, limits and events (a page at a time),
 * suspends them and resets their limits, each with a reason, and meets the API's refusal to suspend an
 * admin; an admin finds users by e-mail and changes roles; a plain user is told the page is not for them.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Browser, Locator, Page } from 'playwright-core';
import { auditEvents } from '../src/models/collections.js';
import { User, type Role } from '../src/models/user.js';
import { bearer, freshIp, freshPhone, login, sendOtp, verifyOtp } from './support/auth.js';
import { OUTPUT, openPage, signInWithCode, startPageTest, type PageProblems } from './support/browser.js';
import type { TestServer } from './support/http.js';

type Phone = ReturnType<typeof freshPhone>;

/** A user stored directly with these roles (and other fields), not signed in yet. */
async function createUser(roles: Role[], extra: Record<string, unknown> = {}): Promise<{ phone: Phone; id: string }> {
  const phone = freshPhone();
  const user = await User.create({
    phoneKey: phone.e164,
    countryCode: phone.countryCode,
    phoneNumber: phone.phoneNumber,
    roles,
    ...extra,
  });
  return { phone, id: user._id.toHexString() };
}

/** The trimmed texts of a row's cells. */
const cellsOf = async (row: Locator) => (await row.locator('th, td').allTextContents()).map((t) => t.trim());
/** An attribute of every element the locator matches, in order. */
const attrs = async (locator: Locator, name: string) =>
  Promise.all((await locator.all()).map((l) => l.getAttribute(name)));
const fact = (page: Page, term: string) => page.locator(`#user-facts dd[data-fact="${term}"]`);

/** Waits until the user shown has (re)loaded. */
async function userLoaded(page: Page): Promise<void> {
  await page.locator('#user[data-state="ready"]').waitFor({ state: 'visible', timeout: 15_000 });
}

/** Looks a user up through the page's form. */
async function lookUp(page: Page, by: 'phone' | 'email' | 'username' | 'id', value: string): Promise<void> {
  await page.getByLabel('Find by').selectOption(by);
  await page.getByLabel('Search for').fill(value);
  await page.getByRole('button', { name: 'Look up' }).click();
}

/** Opens an action's confirmation, gives the reason and confirms; returns the dialog. */
async function act(page: Page, button: string, reason: string, confirm = button): Promise<Locator> {
  await page.locator('#user-actions').getByRole('button', { name: button, exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByLabel('Reason (recorded in the audit trail)').fill(reason);
  await dialog.getByRole('button', { name: confirm, exact: true }).click();
  return dialog;
}

/** The page broke no rule of the CSP, threw nothing, and logged no error but failed loads with these statuses. */
function clean(problems: PageProblems, statuses: number[] = []): void {
  expect(problems.csp, 'CSP violations').to.deep.equal([]);
  expect(problems.pageErrors, 'uncaught errors').to.deep.equal([]);
  const expected = (t: string) => statuses.some((s) => t.includes(`status of ${s}`));
  expect(
    problems.console.filter((t) => !expected(t)),
    'console errors',
  ).to.deep.equal([]);
}

describe('support page (/dashboard/support) in headless Chromium', function () {
  this.timeout(120_000);
  const tag = randomBytes(4).toString('hex');
  let srv: TestServer;
  let browser: Browser | undefined;

  before(async function () {
    ({ srv, browser } = await startPageTest(this, 'the support page tests'));
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('serves the page, its script, styles and the shared session.js with cache headers; other paths are 404s', async () => {
    const page = await srv.request('/dashboard/support');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('cache-control')).to.equal('no-cache');
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    expect(page.text).to.include('<script src="/dashboard/session.js" defer></script>');
    expect(page.text).to.include('<script src="/dashboard/support.js" defer></script>');
    expect(page.text).to.match(/<link rel="stylesheet" href="\/dashboard\/app\.css"\s*\/?>/);
    expect(page.text).to.not.match(/<script>|<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(page.text).to.not.match(/\son[a-z]+=/i); // no inline event handler
    expect(page.text).to.not.match(/(?:src|href)="(?:https?:)?\/\//); // nothing from elsewhere

    for (const [file, type] of [
      ['/dashboard/support.js', /javascript/],
      ['/dashboard/session.js', /javascript/],
      ['/dashboard/support.css', /^text\/css/],
    ] as const) {
      const res = await srv.request(file);
      expect(res.status, file).to.equal(200);
      expect(res.headers.get('content-type'), file).to.match(type);
      expect(res.headers.get('cache-control'), file).to.equal('no-cache');
      expect(res.headers.get('last-modified'), file).to.be.a('string');
    }
    for (const missing of ['/dashboard/support/x', '/dashboard/support.htm', '/dashboard/support.json']) {
      const res = await srv.request(missing);
      expect(res.status, missing).to.equal(404);
      expect(res.body, missing).to.include({ isSuccess: false, statusCode: 404 });
    }
    const post = await srv.request('/dashboard/support', { method: 'POST' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
  });

  describe('a support agent', () => {
    let agent: { phone: Phone; id: string };
    let target: { phone: Phone; id: string; ip: string };
    let admin: { phone: Phone; id: string };
    let ctx: Awaited<ReturnType<typeof openPage>>;

    before(async () => {
      agent = await createUser(['user', 'support']);
      admin = await createUser(['user', 'admin']);
      // The user support is called about: two wrong codes, then the right one on their phone (a session).
      const created = await createUser(['user'], { name: 'Ayşe', surname: `Support ${tag}` });
      target = { ...created, ip: freshIp() };
      const body = { countryCode: target.phone.countryCode, phoneNumber: target.phone.phoneNumber };
      const sent = await sendOtp(srv, body, target.ip);
      expect(sent.status, sent.text).to.equal(201);
      const wrong = sent.body.data.code === '0000' ? '1111' : '0000';
      for (let i = 0; i < 2; i++)
        expect((await verifyOtp(srv, { ...body, code: wrong }, target.ip)).status).to.equal(400);
      const phoneHeaders = {
        'x-device-id': `phone-${tag}`,
        'x-platform': 'mobile_ios',
        'x-app-version': '2.4.1',
        'user-agent': 'Allmine/2.4.1 iOS',
      };
      const verified = await verifyOtp(srv, { ...body, code: sent.body.data.code }, target.ip, phoneHeaders);
      expect(verified.status, verified.text).to.equal(200);
      // Another agent looked at them a dozen times: their trail has more than one page.
      const colleague = await login(srv, (await createUser(['user', 'support'])).phone);
      for (let i = 0; i < 12; i++)
        expect((await srv.request(`/api/v1/admin/users/${target.id}`, bearer(colleague.accessToken))).status).to.equal(
          200,
        );
      ctx = await openPage(browser!);
    });
    after(async () => {
      await ctx?.context.close();
    });

    it('signs in, looks the user up by phone and shows them, their sessions, limits and events', async () => {
      const { page, problems } = ctx;
      await page.goto(`${srv.url}/dashboard/support`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Allmine — support');
      await signInWithCode(page, agent.phone);
      await page.locator('#desk').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('#account-label').textContent()).to.equal(
        `+${agent.phone.countryCode} ${agent.phone.phoneNumber}`,
      );

      await lookUp(
        page,
        'phone',
        `+${target.phone.countryCode} ${target.phone.phoneNumber.slice(0, 3)} ${target.phone.phoneNumber.slice(3)}`,
      );
      await userLoaded(page);

      // What the page shows is what the API says.
      const token = (await page.evaluate(`sessionStorage.getItem('allmine.dashboard.accessToken')`)) as string;
      const api = await srv.request(`/api/v1/admin/users/${target.id}`, bearer(token));
      expect(api.status, api.text).to.equal(200);
      const detail = api.body.data;
      expect(await fact(page, 'User id').textContent()).to.equal(target.id);
      expect(await fact(page, 'Phone').textContent()).to.equal(`+90 ${target.phone.phoneNumber}`);
      expect(await fact(page, 'Name').textContent()).to.equal(`Ayşe Support ${tag}`);
      expect(await fact(page, 'E-mail').textContent()).to.equal('—');
      expect(await fact(page, 'Roles').textContent()).to.equal('user');
      expect(await fact(page, 'Registered').textContent()).to.match(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(registration not completed\)$/,
      );
      expect(await fact(page, 'Suspended').textContent()).to.equal('No');
      expect(await fact(page, 'Deletion').textContent()).to.equal('Not requested');
      // Support sees no admin-only action.
      expect(await page.getByRole('button', { name: 'Change roles' }).isVisible()).to.equal(false);
      expect(await page.getByRole('button', { name: 'Erase account' }).isVisible()).to.equal(false);
      expect(await page.getByRole('button', { name: 'Unsuspend' }).isVisible()).to.equal(false);

      // Sessions: the phone's, live, with device, platform, IP and times.
      const sessionRows = page.locator('#sessions-table tbody tr');
      expect(await sessionRows.count()).to.equal(1);
      const [session] = detail.sessions;
      const sessionCells = await cellsOf(sessionRows.first());
      expect(sessionCells[0]).to.equal(`phone-${tag} · v2.4.1Allmine/2.4.1 iOS`); // device, version, then the user agent beneath
      expect(sessionCells.slice(1, 5)).to.deep.equal([
        'mobile_ios',
        target.ip,
        `${session.createdAt.slice(0, 10)} ${session.createdAt.slice(11, 19)} UTC`,
        `${session.lastUsedAt.slice(0, 10)} ${session.lastUsedAt.slice(11, 19)} UTC`,
      ]);
      expect(sessionCells[5]).to.match(/^Live until /);
      expect(
        await sessionRows
          .first()
          .getByRole('button', { name: `Revoke session ${session.id}` })
          .isVisible(),
      ).to.equal(true);

      // Limits: the number's cooldown is running, one code sent, three attempts reached it.
      const phoneLimits = detail.limits.find((c: { channel: string }) => c.channel === 'phone');
      expect(phoneLimits.limits.map((l: { name: string }) => l.name)).to.deep.equal([
        'send-cooldown',
        'send-recipient-hour',
        'send-recipient-day',
        'verify-recipient-hour',
      ]);
      for (const l of phoneLimits.limits) {
        const cells = await cellsOf(page.locator(`#limits section[data-channel="phone"] tr[data-limit="${l.name}"]`));
        expect(cells.slice(1, 4), l.name).to.deep.equal([
          `${l.used} of ${l.limit}`,
          String(l.remaining),
          l.blocked ? 'Blocked' : 'OK',
        ]);
        expect(l.used, l.name).to.equal(l.name === 'verify-recipient-hour' ? 3 : 1);
      }
      expect(await cellsOf(page.locator('#limits tr[data-limit="send-cooldown"]'))).to.include('Blocked');
      expect(await page.locator('#limits .code-state').textContent()).to.equal('No current code.'); // used by the login

      // Events: newest first, ten a page; the agent's own look-up is on the first page.
      const events = page.locator('#events-table tbody tr');
      expect(await events.count()).to.equal(10);
      const types = await attrs(events, 'data-type');
      expect(types).to.include('users-searched');
      const times = await attrs(page.locator('#events-table tbody time'), 'datetime');
      expect(times).to.deep.equal([...times].sort().reverse());
      expect(await page.locator('#events-page').textContent()).to.equal('Page 1, newest first');
      expect(await page.getByRole('button', { name: 'Newer events' }).isDisabled()).to.equal(true);
      const firstPage = await attrs(events, 'data-event-id');
      await page.getByRole('button', { name: 'Older events' }).click();
      await page.locator('#events-page', { hasText: 'Page 2' }).waitFor();
      const secondPage = await attrs(events, 'data-event-id');
      expect(secondPage.length).to.be.greaterThan(0);
      expect(secondPage.filter((id) => firstPage.includes(id))).to.deep.equal([]);
      const olderTimes = await attrs(page.locator('#events-table tbody time'), 'datetime');
      expect(olderTimes[0]! <= times.at(-1)!).to.equal(true);
      await page.getByRole('button', { name: 'Newer events' }).click();
      await page.locator('#events-page', { hasText: 'Page 1' }).waitFor();
      expect(await page.getByRole('button', { name: 'Newer events' }).isDisabled()).to.equal(true);
      clean(problems);
    });

    it('suspends the user with a reason: stored, audited, shown; a reason is required', async () => {
      const { page, problems } = ctx;
      const reason = `Ticket ${tag}: phone stolen, owner called`;
      await page.locator('#user-actions').getByRole('button', { name: 'Suspend', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor({ state: 'visible' });
      expect(await dialog.getByRole('heading').textContent()).to.equal('Suspend this user?');
      // No reason: refused on the page, nothing sent.
      await dialog.getByRole('button', { name: 'Suspend', exact: true }).click();
      expect(await dialog.getByRole('alert').textContent()).to.match(/reason of 3 to 500 characters/);
      expect(
        await User.findById(target.id)
          .lean()
          .then((u) => u!.suspendedAt),
      ).to.equal(null);
      await page.screenshot({ path: path.join(OUTPUT, 'support-confirm.png'), fullPage: true });

      await dialog.getByLabel('Reason (recorded in the audit trail)').fill(reason);
      await dialog.getByRole('button', { name: 'Suspend', exact: true }).click();
      await page.locator('#action-result', { hasText: 'Suspended' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#action-result').textContent()).to.equal('Suspended; 1 session ended.');
      expect(await dialog.isVisible()).to.equal(false);

      // Stored: suspendedAt set, the session ended; audited with the reason and the agent.
      const stored = await User.findById(target.id).lean();
      expect(stored!.suspendedAt).to.be.instanceOf(Date);
      const audited = await auditEvents()
        .find({ targetUserId: new Types.ObjectId(target.id), type: 'suspended' })
        .toArray();
      expect(audited).to.have.length(1);
      expect(audited[0]).to.include({ reason, actorKind: 'staff', platform: 'admin', count: 1 });
      expect(audited[0]!.actorId!.toHexString()).to.equal(agent.id);

      // Shown: the page re-loaded the user.
      expect(await fact(page, 'Suspended').textContent()).to.equal(
        `Yes, since ${stored!.suspendedAt!.toISOString().slice(0, 10)} ${stored!.suspendedAt!.toISOString().slice(11, 19)} UTC`,
      );
      expect(await page.getByRole('button', { name: 'Unsuspend' }).isVisible()).to.equal(true);
      expect((await cellsOf(page.locator('#sessions-table tbody tr').first()))[5]).to.match(
        /^Revoked .* \(suspended\)$/,
      );
      const newest = await cellsOf(page.locator('#events-table tbody tr').filter({ hasText: 'suspended' }).first());
      expect(newest.slice(1, 4)).to.deep.equal(['suspended', `staff ${agent.id} (support)`, reason]);
      clean(problems);
    });

    it('resets the limits with a reason: the cooldown and budgets are clear, and the reset is audited', async () => {
      const { page, problems } = ctx;
      const reason = `Ticket ${tag}: locked out, identity checked`;
      await act(page, 'Reset limits', reason);
      await page.locator('#action-result', { hasText: 'Limits reset' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#action-result').textContent()).to.equal('Limits reset.');
      const rows = page.locator('#limits section[data-channel="phone"] tbody tr');
      expect(await rows.count()).to.equal(4);
      for (const cells of await Promise.all((await rows.all()).map(cellsOf))) {
        expect(cells[1], cells[0]).to.match(/^0 of \d+$/);
        expect(cells[3], cells[0]).to.equal('OK');
        expect(cells[4], cells[0]).to.equal('—');
      }
      const audited = await auditEvents()
        .find({ targetUserId: new Types.ObjectId(target.id), type: 'limits-reset' })
        .toArray();
      expect(audited).to.have.length(1);
      expect(audited[0]).to.include({ reason, actorKind: 'staff' });
      expect(audited[0]!.details).to.deep.equal({ channels: ['phone'], deadCodesCleared: 0 });
      // The owner can ask for a code at once (the cooldown was running).
      const again = await sendOtp(
        srv,
        { countryCode: target.phone.countryCode, phoneNumber: target.phone.phoneNumber },
        freshIp(),
      );
      expect(again.status, again.text).to.equal(201);

      await page.locator('#user').scrollIntoViewIfNeeded();
      const shot = path.join(OUTPUT, 'support.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`    screenshot: ${shot}`);
      clean(problems);
    });

    it('shows the API’s refusal in the dialog: support cannot suspend an admin', async () => {
      const { page, problems } = ctx;
      problems.console.length = 0;
      await lookUp(page, 'id', admin.id);
      await page.locator(`#user[data-user-id="${admin.id}"][data-state="ready"]`).waitFor({ timeout: 15_000 });
      const dialog = await act(page, 'Suspend', `Ticket ${tag}: testing the refusal`);
      await dialog.getByRole('alert').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await dialog.getByRole('alert').textContent()).to.match(
        /role: admin is required to suspend or unsuspend an admin$/,
      );
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(await dialog.isVisible()).to.equal(false);
      expect(await fact(page, 'Suspended').textContent()).to.equal('No');
      expect((await User.findById(admin.id).lean())!.suspendedAt).to.equal(null);
      clean(problems, [403]);
    });

    it('refreshes an expired access token once (session.js); a dead refresh token means signing in again', async () => {
      const { page, problems } = ctx;
      problems.console.length = 0;
      const refreshes: string[] = [];
      page.on('request', (req) => {
        if (req.url().endsWith('/api/v1/auth/refresh')) refreshes.push(req.method());
      });
      const bogus = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm9wZQ'; // never signed by this server: 401, as an expired one
      const before = await page.evaluate(`sessionStorage.getItem('allmine.dashboard.refreshToken')`);
      await page.evaluate(`sessionStorage.setItem('allmine.dashboard.accessToken', '${bogus}')`);
      await lookUp(page, 'id', target.id);
      await page.locator(`#user[data-user-id="${target.id}"][data-state="ready"]`).waitFor({ timeout: 15_000 });
      expect(refreshes).to.deep.equal(['POST']);
      expect(await page.evaluate(`sessionStorage.getItem('allmine.dashboard.refreshToken')`)).to.not.equal(before);
      clean(problems, [401]);

      await page.evaluate(`sessionStorage.setItem('allmine.dashboard.accessToken', '${bogus}');
        sessionStorage.setItem('allmine.dashboard.refreshToken', 'not-a-refresh-token')`);
      await page.getByRole('button', { name: 'Look up' }).click();
      await page.locator('#sign-in').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('#sign-in-error').textContent()).to.equal('Your session has ended. Sign in again.');
      expect(await page.locator('#desk').isVisible()).to.equal(false);
      expect(await page.evaluate(`sessionStorage.getItem('allmine.dashboard.refreshToken')`)).to.equal(null);
      expect(refreshes).to.have.length(2);
      clean(problems, [401]);
    });
  });

  it('lets an admin find users by e-mail and change roles', async () => {
    const email = `support-${tag}@example.com`;
    const adminUser = await createUser(['user', 'admin']);
    // Two users gave the same profile address: both are found.
    const [first, second] = [await createUser(['user'], { email }), await createUser(['user'], { email })];
    const { context, page, problems } = await openPage(browser!);
    try {
      await page.goto(`${srv.url}/dashboard/support`);
      await signInWithCode(page, adminUser.phone);
      await page.locator('#desk').waitFor({ state: 'visible', timeout: 15_000 });
      await lookUp(page, 'email', email.toUpperCase());
      await page.locator('#results').waitFor({ state: 'visible', timeout: 15_000 });
      const found = page.locator('#results-table tbody tr');
      expect(await attrs(found, 'data-user-id')).to.deep.equal([first.id, second.id]);
      expect((await cellsOf(found.first())).slice(0, 3)).to.deep.equal([`+90 ${first.phone.phoneNumber}`, email, '—']);
      await found
        .nth(1)
        .getByRole('button', { name: `Open user ${second.id}` })
        .click();
      await page.locator(`#user[data-user-id="${second.id}"][data-state="ready"]`).waitFor({ timeout: 15_000 });
      expect(await page.getByRole('button', { name: 'Erase account' }).isVisible()).to.equal(true);

      await page.locator('#user-actions').getByRole('button', { name: 'Change roles' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('checkbox', { name: 'marketing' }).check();
      await dialog.getByLabel('Reason (recorded in the audit trail)').fill(`Ticket ${tag}: joined marketing`);
      await dialog.getByRole('button', { name: 'Save roles' }).click();
      await page.locator('#action-result', { hasText: 'Roles now' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#action-result').textContent()).to.equal('Roles now: user, marketing.');
      expect(await fact(page, 'Roles').textContent()).to.equal('user, marketing');
      expect((await User.findById(second.id).lean())!.roles).to.deep.equal(['user', 'marketing']);
      const audited = await auditEvents().findOne({
        targetUserId: new Types.ObjectId(second.id),
        type: 'roles-changed',
      });
      expect(audited).to.include({ reason: `Ticket ${tag}: joined marketing`, actorKind: 'staff' });
      clean(problems);
    } finally {
      await context.close();
    }
  });

  it('shows a plain user (no support or admin role) that the page is not for them', async () => {
    const { context, page, problems } = await openPage(browser!);
    const requests: string[] = [];
    page.on('request', (req) => requests.push(new URL(req.url()).pathname));
    try {
      await page.goto(`${srv.url}/dashboard/support`);
      await page.getByLabel('Phone number').waitFor();
      await page.screenshot({ path: path.join(OUTPUT, 'support-sign-in.png'), fullPage: true });
      await signInWithCode(page, freshPhone()); // a new user: roles ['user']
      const forbidden = page.locator('#forbidden');
      await forbidden.waitFor({ state: 'visible', timeout: 15_000 });
      await page.screenshot({ path: path.join(OUTPUT, 'support-forbidden.png'), fullPage: true });
      expect(await page.getByRole('heading', { name: 'This page is not for your account' }).isVisible()).to.equal(true);
      expect(await page.locator('#forbidden-message').textContent()).to.equal(
        'Your account has the roles: user. Support and admin only.',
      );
      expect(await page.locator('#desk').isVisible()).to.equal(false);
      expect(await page.locator('#sign-in').isVisible()).to.equal(false);
      expect(requests.filter((p) => p.startsWith('/api/v1/admin/'))).to.deep.equal([]);

      await page.getByRole('button', { name: 'Sign in with another account' }).click();
      await page.locator('#sign-in').waitFor({ state: 'visible' });
      expect(await page.evaluate(`sessionStorage.getItem('allmine.dashboard.accessToken')`)).to.equal(null);
      clean(problems);
    } finally {
      await context.close();
    }
  });
});
