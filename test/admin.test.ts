/**
 * The admin API and the audit trail (docs/api.md#admin, docs/api.md#audit-events): the role gate of every
 * operation, its effect on the stored state and its audit event; the stories "locked out by strangers" and
 * "stolen phone" end to end; a user's own security events. The audit jobs run in this process, on queues
 * of this file's own (a `QUEUE_PREFIX` no other test uses), with the real job handler.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { Types } from 'mongoose';
import { closeQueues, createQueues, QUEUE_NAMES, type Queues } from '../src/jobs/queues.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis, type Redis } from '../src/lib/redis.js';
import { AuditEvent, type AuditType } from '../src/models/audit-event.js';
import { auditEvents, refreshTokenUses } from '../src/models/collections.js';
import { sha256Hex } from '../src/lib/crypto.js';
import { OtpCode } from '../src/models/otp-code.js';
import { Session } from '../src/models/session.js';
import { User, type Role } from '../src/models/user.js';
import { jobHandler } from '../src/workers/processors.js';
import {
  bearer,
  eventually,
  freshIp,
  freshPhone,
  login,
  post,
  recordingMailer,
  recordingSms,
  sendOtp,
  verifyOtp,
} from './support/auth.js';
import { testConfig } from './support/env.js';
import { redis } from './support/hooks.js';
import { json, startApp, type TestServer, type TestResponse } from './support/http.js';
import { runCli } from './support/processes.js';

type Login = Awaited<ReturnType<typeof login>>;

const reason = 'Ticket 4711: the owner called support';
/** The client headers of the support desk's browser. */
const DESK = { 'x-device-id': 'support-desk', 'x-platform': 'admin' };
const asDesk = (init: RequestInit): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), ...DESK },
});

/** A user with these roles, signed in. */
async function staffer(srv: TestServer, roles: Role[]): Promise<Login> {
  const phone = freshPhone();
  await User.create({ phoneKey: phone.e164, countryCode: phone.countryCode, phoneNumber: phone.phoneNumber, roles });
  return login(srv, phone, { 'x-device-id': `login-${roles.at(-1)}`, 'x-platform': 'admin' });
}

/** The audit events about a user, newest first, straight from the database. */
const eventsOf = (userId: string) =>
  auditEvents()
    .find({ targetUserId: new Types.ObjectId(userId) })
    .sort({ at: -1 })
    .toArray();

/** The one staff event of this type about the user, which must be there already (no waiting: it is written before the answer). */
async function staffEvent(userId: string, type: AuditType, actor: Login) {
  const found = await auditEvents()
    .find({ targetUserId: new Types.ObjectId(userId), type, actorKind: 'staff' })
    .toArray();
  expect(found, `${type} recorded before the answer`).to.have.length.at.least(1);
  const last = found.at(-1)!;
  expect(last.actorId?.toHexString()).to.equal(actor.userId);
  expect(last.reqId).to.be.a('string');
  expect(last.ip).to.be.a('string');
  expect(last).to.include({ deviceId: 'support-desk', platform: 'admin' }); // the request's own client headers
  return last;
}

const cli = (args: string[]) => runCli('grant-role', args);

describe('the admin API and the audit trail (issue 15)', function () {
  this.timeout(120_000);
  const QUEUE_PREFIX = `{admin-${randomBytes(4).toString('hex')}}`;
  let ownQueues: Queues;
  let connection: Redis;
  let workers: Worker[] = [];
  let srv: TestServer;
  let other: TestServer; // a second web dyno, with its own session cache
  let admin: Login;
  let support: Login;
  let marketer: Login;
  let plain: Login;
  const mailer = recordingMailer();

  const get = (token: string, path: string) => srv.request(path, asDesk(bearer(token)));
  const act = (token: string, path: string, body: unknown = { reason }, method = 'POST') =>
    srv.request(path, asDesk(post(token, body, method)));
  const users = (id: string) => `/api/v1/admin/users/${id}`;

  before(async () => {
    const config = testConfig({ QUEUE_PREFIX });
    ownQueues = createQueues(config, redis());
    const overrides = { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', QUEUE_PREFIX };
    srv = await startApp(overrides, { queues: ownQueues, sms: recordingSms(), mailer });
    other = await startApp(overrides, { queues: ownQueues, sms: recordingSms() });
    connection = createRedis(config, 'bullmq');
    const logger = createLogger({ level: 'silent' });
    workers = QUEUE_NAMES.map(
      (name) =>
        new Worker(name, jobHandler(name, { logger, config, queues: ownQueues, now: () => new Date() }), {
          connection,
          prefix: config.redis.queuePrefix,
        }),
    );
    [admin, support, marketer, plain] = await Promise.all([
      staffer(srv, ['user', 'admin']),
      staffer(srv, ['user', 'support']),
      staffer(srv, ['user', 'marketing']),
      login(srv),
    ]);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await closeRedis(connection);
    await closeQueues(ownQueues);
    await srv.close();
    await other.close();
  });

  describe('role gates', () => {
    it('refuses every admin operation to user and marketing (403), and without a token (401)', async () => {
      const target = (await login(srv)).userId;
      const session = new Types.ObjectId().toHexString();
      const calls: [string, string, unknown?][] = [
        ['GET', `/api/v1/admin/users?id=${target}`],
        ['GET', users(target)],
        ['GET', `${users(target)}/events`],
        ['POST', `${users(target)}/suspend`, { reason }],
        ['POST', `${users(target)}/unsuspend`, { reason }],
        ['POST', `${users(target)}/sessions/revoke`, { reason }],
        ['DELETE', `${users(target)}/sessions/${session}`, { reason }],
        ['POST', `${users(target)}/limits/reset`, { reason }],
        ['PUT', `${users(target)}/roles`, { roles: ['user', 'admin'], reason }],
        ['POST', `${users(target)}/account-deletion/finalize`, { reason }],
      ];
      for (const who of [plain, marketer]) {
        for (const [method, path, body] of calls) {
          const res =
            method === 'GET' ? await get(who.accessToken, path) : await act(who.accessToken, path, body, method);
          expect(res.status, `${method} ${path}`).to.equal(403);
          expect(res.body.errorCode).to.equal('ROLE_REQUIRED');
        }
      }
      for (const [method, path, body] of calls) {
        const res = await srv.request(path, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body ? JSON.stringify(body) : undefined,
        });
        expect(res.status, `${method} ${path}`).to.equal(401);
      }
      // Nothing happened to the target, and no staff event was recorded about it.
      expect((await User.findById(target).lean())?.suspendedAt).to.equal(null);
      expect((await eventsOf(target)).filter((e) => e.actorKind === 'staff')).to.deep.equal([]);
    });

    it('lets support look up and act, but not change roles or erase (admin only)', async () => {
      const target = await login(srv);
      expect((await get(support.accessToken, users(target.userId))).status).to.equal(200);
      const roles = await act(
        support.accessToken,
        `${users(target.userId)}/roles`,
        { roles: ['user', 'support'], reason },
        'PUT',
      );
      expect(roles.status).to.equal(403);
      expect(roles.body).to.include({ errorCode: 'ROLE_REQUIRED' });
      expect(roles.body.errors).to.deep.equal(['Insufficient permissions', 'role: one of admin is required']);
      const erase = await act(support.accessToken, `${users(target.userId)}/account-deletion/finalize`);
      expect(erase.status).to.equal(403);
      expect((await User.findById(target.userId).lean())?.roles).to.deep.equal(['user']);
      expect((await User.findById(target.userId).lean())?.accountDeletionStatus).to.equal(null);
    });
  });

  describe('GET /admin/users: exact look-up', () => {
    it('finds a user by phone (normalized like send-otp), username and id; records the search without the value', async () => {
      const someone = await login(srv);
      const { phoneNumber, e164 } = someone.phone;
      const queries = [
        `phone=${encodeURIComponent(e164)}`,
        `phone=${e164.slice(1)}`, // "+" not percent-encoded arrives as a space
        `phone=${e164}`,
        `countryCode=90&phone=${encodeURIComponent(`0${phoneNumber.slice(0, 3)} ${phoneNumber.slice(3)}`)}`,
        `countryCode=%2B90&phone=${phoneNumber}`,
        `id=${someone.userId}`,
      ];
      for (const q of queries) {
        const res = await get(support.accessToken, `/api/v1/admin/users?${q}`);
        expect(res.status, `${q}: ${res.text}`).to.equal(200);
        expect(
          res.body.data.items.map((i: { user: { id: string } }) => i.user.id),
          q,
        ).to.deep.equal([someone.userId]);
        expect(res.body.data.nextCursor).to.equal(null);
      }
      const item = (await get(support.accessToken, `/api/v1/admin/users?id=${someone.userId}`)).body.data.items[0];
      expect(item).to.include({ suspended: false, suspendedAt: null });
      expect(item.user).to.include({ countryCode: '90', phoneNumber });

      const done = await srv.request(
        '/api/v1/users/me/complete-registration',
        post(someone.accessToken, {
          name: 'Ada',
          surname: 'L',
          username: `Ada${someone.userId.slice(-8)}`,
          birthDate: '1990-01-01',
          gender: 'female',
          privacyPolicyAccepted: true,
          privacyPolicyVersion: '1.2.0',
          termsOfUseAccepted: true,
          termsOfUseVersion: '1.1.0',
        }),
      );
      expect(done.status, done.text).to.equal(200);
      const byName = await get(admin.accessToken, `/api/v1/admin/users?username=ADA${someone.userId.slice(-8)}`);
      expect(byName.body.data.items.map((i: { user: { id: string } }) => i.user.id)).to.deep.equal([someone.userId]);

      const searches = (await eventsOf(someone.userId)).filter((e) => e.type === 'users-searched');
      expect(searches.length).to.be.at.least(queries.length + 1);
      expect(searches[0]!.details).to.deep.include({ criterion: 'username', found: 1, userIds: [someone.userId] });
      expect(JSON.stringify(searches))
        .to.not.include(phoneNumber)
        .and.not.include(`ada${someone.userId.slice(-8)}`);
    });

    it('finds by e-mail both the login address and profile addresses, a page at a time', async () => {
      const address = `shared-${randomBytes(4).toString('hex')}@example.com`;
      const sent = await srv.request(
        '/api/v1/auth/send-otp-email',
        json({ email: address }, { 'x-forwarded-for': freshIp() }),
      );
      const byMail = await srv.request(
        '/api/v1/auth/verify-otp-email',
        json({ email: address, code: sent.body.data.code }, { 'x-forwarded-for': freshIp() }),
      );
      expect(byMail.status, byMail.text).to.equal(200);
      const others = [await login(srv), await login(srv)];
      for (const o of others)
        expect(
          (await srv.request('/api/v1/users/me', post(o.accessToken, { email: address.toUpperCase() }, 'PATCH')))
            .status,
        ).to.equal(200);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: TestResponse = await get(
          support.accessToken,
          `/api/v1/admin/users?email=${encodeURIComponent(` ${address.toUpperCase()} `)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status, res.text).to.equal(200);
        expect(res.body.data.items).to.have.length(1);
        seen.push(res.body.data.items[0].user.id);
        cursor = res.body.data.nextCursor;
        pages++;
      } while (cursor && pages < 5);
      expect(seen.sort()).to.deep.equal([byMail.body.data.user.id, ...others.map((o) => o.userId)].sort());
    });

    it('refuses anything but exactly one valid criterion', async () => {
      const id = new Types.ObjectId().toHexString();
      const cases: [string, string][] = [
        ['', 'query: give exactly one of phone, email, username, id'],
        [`id=${id}&username=ada`, 'query: give exactly one of phone, email, username, id'],
        ['phone=12', 'phone: not a mobile number in international format (+<country code><number>)'],
        ['countryCode=90&phone=123', 'phone: not a valid mobile number for country code 90'],
        ['username=ada&countryCode=90', 'countryCode: only with phone'],
        ['id=xyz', 'id: must be an id (24 hex digits, lower-case)'],
        [`id=${id}&id=${id}`, 'id: must be given once, as a string'],
        [`id=${id}&limit=0`, 'limit: must be an integer from 1 to 100'],
        [`id=${id}&sort=name`, 'sort: unknown query parameter'],
        [`id=${id}&cursor=abc`, 'cursor: not a cursor this API returned'],
      ];
      for (const [q, message] of cases) {
        const res = await get(support.accessToken, `/api/v1/admin/users?${q}`);
        expect(res.status, q).to.equal(400);
        expect(res.body.errors, q).to.deep.equal(['Validation failed', message]);
      }
      const nobody = await get(support.accessToken, `/api/v1/admin/users?id=${id}`);
      expect(nobody.body.data).to.deep.equal({ items: [], nextCursor: null });
    });
  });

  describe('GET /admin/users/{id}', () => {
    it('shows the user, their sessions with device details, the deletion state and the live limits; records the view', async () => {
      const phone = freshPhone();
      const first = await login(srv, phone, {
        'x-device-id': 'pixel-8',
        'x-platform': 'mobile_android',
        'x-app-version': '2.4.1',
      });
      await login(srv, phone, { 'x-device-id': 'laptop', 'x-platform': 'web' });
      const res = await get(support.accessToken, users(first.userId));
      expect(res.status, res.text).to.equal(200);
      const d = res.body.data;
      expect(d.user.id).to.equal(first.userId);
      expect(d).to.include({ suspended: false, suspendedAt: null });
      expect(d.deletion).to.deep.equal({
        status: null,
        requestedAt: null,
        scheduledFor: null,
        cancelledAt: null,
        finalizedAt: null,
      });
      expect(d.sessions.map((s: { deviceId: string }) => s.deviceId)).to.deep.equal(['laptop', 'pixel-8']);
      expect(d.sessions[1]).to.include({
        id: first.sid,
        platform: 'mobile_android',
        appVersion: '2.4.1',
        live: true,
        revokedAt: null,
      });
      expect(d.sessions[1].ip).to.match(/^10\./);
      const limits = d.limits as {
        channel: string;
        limits: { name: string; used: number; remaining: number; blocked: boolean; resetsAt: string | null }[];
        code: unknown;
      }[];
      expect(limits.map((l) => l.channel)).to.deep.equal(['phone']);
      // Two codes sent this hour; the verify budget was charged twice; the cooldown is off on this server.
      expect(limits[0]!.limits.map((l) => [l.name, l.used])).to.deep.equal([
        ['send-recipient-hour', 2],
        ['send-recipient-day', 2],
        ['verify-recipient-hour', 2],
      ]);
      expect(Date.parse(limits[0]!.limits[0]!.resetsAt!)).to.be.within(Date.now(), Date.now() + 3600_000);
      expect(limits[0]!.code).to.equal(null); // used up by the login
      await staffEvent(first.userId, 'user-viewed', support);

      const unknown = await get(support.accessToken, users(new Types.ObjectId().toHexString()));
      expect(unknown.status).to.equal(404);
      expect(unknown.body.errorCode).to.equal('USER_NOT_FOUND');
      expect((await get(support.accessToken, users('nope'))).status).to.equal(400);
    });
  });

  describe('suspend and unsuspend', () => {
    it('suspends: sessions end, refresh is refused, verify-otp answers 409 ACCOUNT_SUSPENDED even with the right code; unsuspend lets them in again', async () => {
      const victim = await login(srv);
      const before = await get(victim.accessToken, '/api/v1/auth/me');
      expect(before.status).to.equal(200);

      const res = await act(support.accessToken, `${users(victim.userId)}/suspend`, {
        reason: '  Account takeover reported by the owner  ',
      });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.data).to.include({ userId: victim.userId, suspended: true, changed: true, revokedSessions: 1 });
      const stored = await User.findById(victim.userId).lean();
      expect(stored?.suspendedAt?.toISOString()).to.equal(res.body.data.suspendedAt);
      expect((await Session.findById(victim.sid).lean())?.revokedReason).to.equal('suspended');
      const event = await staffEvent(victim.userId, 'suspended', support);
      expect(event).to.include({ reason: 'Account takeover reported by the owner', count: 1 });

      expect((await get(victim.accessToken, '/api/v1/auth/me')).status).to.equal(401); // this dyno forgot its cache
      const refreshed = await srv.request('/api/v1/auth/refresh', json({ refreshToken: victim.refreshToken }));
      expect(refreshed.status).to.equal(401);
      const ip = freshIp();
      const code = (await sendOtp(srv, { countryCode: '90', phoneNumber: victim.phone.phoneNumber }, ip)).body.data
        .code;
      const refused = await verifyOtp(srv, { countryCode: '90', phoneNumber: victim.phone.phoneNumber, code }, ip);
      expect(refused.status).to.equal(409);
      expect(refused.body).to.include({ errorCode: 'ACCOUNT_SUSPENDED' });
      expect(await Session.countDocuments({ userId: new Types.ObjectId(victim.userId), revokedAt: null })).to.equal(0);

      const again = await act(support.accessToken, `${users(victim.userId)}/suspend`);
      expect(again.body.data).to.include({ changed: false, suspendedAt: res.body.data.suspendedAt });

      const lifted = await act(admin.accessToken, `${users(victim.userId)}/unsuspend`, {
        reason: 'Owner verified in the shop',
      });
      expect(lifted.status, lifted.text).to.equal(200);
      expect(lifted.body.data).to.deep.equal({
        userId: victim.userId,
        suspended: false,
        suspendedAt: null,
        changed: true,
        revokedSessions: 0,
      });
      expect((await User.findById(victim.userId).lean())?.suspendedAt).to.equal(null);
      await staffEvent(victim.userId, 'unsuspended', admin);
      expect((await login(srv, victim.phone)).userId).to.equal(victim.userId);
    });

    it('answers 409 ACCOUNT_SUSPENDED on verify-otp-email too', async () => {
      const address = `susp-${randomBytes(4).toString('hex')}@example.com`;
      const ip = freshIp();
      const first = await srv.request(
        '/api/v1/auth/send-otp-email',
        json({ email: address }, { 'x-forwarded-for': ip }),
      );
      const signedIn = await srv.request(
        '/api/v1/auth/verify-otp-email',
        json({ email: address, code: first.body.data.code }, { 'x-forwarded-for': ip }),
      );
      expect((await act(support.accessToken, `${users(signedIn.body.data.user.id)}/suspend`)).status).to.equal(200);
      const sent = await srv.request(
        '/api/v1/auth/send-otp-email',
        json({ email: address }, { 'x-forwarded-for': ip }),
      );
      const res = await srv.request(
        '/api/v1/auth/verify-otp-email',
        json({ email: address, code: sent.body.data.code }, { 'x-forwarded-for': ip }),
      );
      expect(res.status).to.equal(409);
      expect(res.body.errorCode).to.equal('ACCOUNT_SUSPENDED');
    });

    it('lets only admin suspend an admin, and nobody suspend themselves', async () => {
      const otherAdmin = await staffer(srv, ['user', 'admin']);
      const bySupport = await act(support.accessToken, `${users(otherAdmin.userId)}/suspend`);
      expect(bySupport.status).to.equal(403);
      expect(bySupport.body.errorCode).to.equal('ROLE_REQUIRED');
      expect((await User.findById(otherAdmin.userId).lean())?.suspendedAt).to.equal(null);
      const self = await act(support.accessToken, `${users(support.userId)}/suspend`);
      expect(self.status).to.equal(403);
      expect(self.body.errorCode).to.equal('SELF_ACTION_REFUSED');
      const byAdmin = await act(admin.accessToken, `${users(otherAdmin.userId)}/suspend`);
      expect(byAdmin.status).to.equal(200);
      expect((await act(admin.accessToken, `${users(otherAdmin.userId)}/unsuspend`)).status).to.equal(200);
    });

    it('requires a reason of 3-500 characters, and takes nothing else', async () => {
      const target = (await login(srv)).userId;
      const cases: [unknown, string][] = [
        [{}, 'reason: is required'],
        [{ reason: '  ab ' }, 'reason: must be 3-500 characters'],
        [{ reason: 'x'.repeat(501) }, 'reason: must be 3-500 characters'],
        [{ reason: 42 }, 'reason: must be a string'],
        [{ reason, until: '2030-01-01' }, 'until: unknown field'],
      ];
      for (const [body, message] of cases) {
        const res = await act(support.accessToken, `${users(target)}/suspend`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.errors).to.deep.equal(['Validation failed', message]);
      }
      expect((await User.findById(target).lean())?.suspendedAt).to.equal(null);
      expect((await eventsOf(target)).filter((e) => e.actorKind === 'staff')).to.deep.equal([]);
    });
  });

  describe('sessions', () => {
    it('ends every session, or one; another user’s session is 404', async () => {
      const phone = freshPhone();
      const a = await login(srv, phone);
      const b = await login(srv, phone);
      const c = await login(srv, phone);
      const one = await act(
        support.accessToken,
        `${users(a.userId)}/sessions/${b.sid}`,
        { reason: 'Unknown device' },
        'DELETE',
      );
      expect(one.status, one.text).to.equal(200);
      expect(one.body.data).to.deep.equal({ userId: a.userId, sessionId: b.sid, revoked: true });
      expect((await Session.findById(b.sid).lean())?.revokedReason).to.equal('staff-revoked');
      expect((await Session.findById(a.sid).lean())?.revokedAt).to.equal(null);
      const event = await staffEvent(a.userId, 'session-revoked', support);
      expect(event.sessionId?.toHexString()).to.equal(b.sid);
      expect(
        (await act(support.accessToken, `${users(a.userId)}/sessions/${b.sid}`, { reason }, 'DELETE')).body.data
          .revoked,
      ).to.equal(false);

      const foreign = await act(support.accessToken, `${users(a.userId)}/sessions/${plain.sid}`, { reason }, 'DELETE');
      expect(foreign.status).to.equal(404);
      expect(foreign.body.errorCode).to.equal('SESSION_NOT_FOUND');
      expect((await Session.findById(plain.sid).lean())?.revokedAt).to.equal(null);

      const all = await act(admin.accessToken, `${users(a.userId)}/sessions/revoke`);
      expect(all.body.data).to.deep.equal({ userId: a.userId, revokedSessions: 2 });
      for (const s of [a, c]) expect((await Session.findById(s.sid).lean())?.revokedReason).to.equal('staff-revoked');
      expect((await staffEvent(a.userId, 'sessions-revoked', admin)).count).to.equal(2);
    });

    it('the stolen phone: support ends the sessions; the thief’s access token stops within 5 s on every dyno and its refresh token is refused', async () => {
      const phone = freshPhone();
      const thief = await login(srv, phone, { 'x-device-id': 'stolen-phone', 'x-platform': 'mobile_ios' });
      // The other dyno has seen the thief's token and cached the session as live.
      expect((await other.request('/api/v1/auth/me', bearer(thief.accessToken))).status).to.equal(200);

      const found = await get(support.accessToken, `/api/v1/admin/users?phone=${encodeURIComponent(phone.e164)}`);
      const id = found.body.data.items[0].user.id as string;
      const started = Date.now();
      const res = await act(support.accessToken, `${users(id)}/sessions/revoke`, {
        reason: 'Phone stolen; owner called from a friend’s phone',
      });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.data.revokedSessions).to.equal(1);

      expect((await srv.request('/api/v1/auth/refresh', json({ refreshToken: thief.refreshToken }))).status).to.equal(
        401,
      );
      await eventually(
        async () => (await other.request('/api/v1/auth/me', bearer(thief.accessToken))).status === 401,
        6000,
        'the other dyno refuses the thief',
      );
      expect(Date.now() - started).to.be.below(5000);
      const refused = await other.request('/api/v1/auth/me', bearer(thief.accessToken));
      expect(refused.body.errorCode).to.equal('SESSION_REVOKED');
      expect(
        (await srv.request('/api/v1/auth/refresh', json({ refreshToken: thief.refreshToken }))).body.errorCode,
      ).to.equal('REFRESH_TOKEN_INVALID');
    });
  });

  describe('limits', () => {
    it('locked out by strangers: 10 wrong guesses from other addresses; support sees why, resets the limits, and the owner logs in at once', async () => {
      // The defaults but for 10 attempts per code, and the 60 s resend cooldown.
      const shop = await startApp(
        { TRUST_PROXY: 'true', OTP_MAX_ATTEMPTS: '10', QUEUE_PREFIX },
        { queues: ownQueues, sms: recordingSms() },
      );
      try {
        const phone = freshPhone();
        const owner = {
          userId: (
            await User.create({ phoneKey: phone.e164, countryCode: '90', phoneNumber: phone.phoneNumber })
          )._id.toHexString(),
        };
        const ownerIp = freshIp();
        const body = { countryCode: '90', phoneNumber: phone.phoneNumber };
        const sms = await sendOtp(shop, body, ownerIp); // the owner, signed out, asks for a code
        expect(sms.status, sms.text).to.equal(201);
        const guesses = await Promise.all(
          Array.from({ length: 10 }, () =>
            verifyOtp(shop, { ...body, code: sms.body.data.code === '0000' ? '1111' : '0000' }, freshIp()),
          ),
        );
        expect(guesses.map((g) => g.status)).to.deep.equal(Array(10).fill(400));

        // Locked out: the code is dead, a new one must wait, and the verify budget is spent.
        expect((await verifyOtp(shop, { ...body, code: sms.body.data.code }, ownerIp)).status).to.equal(404);
        const resend = await sendOtp(shop, body, ownerIp);
        expect(resend.status).to.equal(429);
        expect(resend.body.details.limits).to.deep.equal(['send-cooldown']);

        const view = await shop.request(users(owner.userId), asDesk(bearer(support.accessToken)));
        const phoneLimits = view.body.data.limits[0];
        const byName = Object.fromEntries(phoneLimits.limits.map((l: { name: string }) => [l.name, l]));
        expect(byName['verify-recipient-hour']).to.include({ used: 10, remaining: 0, blocked: true });
        expect(byName['send-cooldown']).to.include({ blocked: true });
        expect(phoneLimits.code).to.include({ attempts: 10, maxAttempts: 10, attemptsRemaining: 0, dead: true });
        // The trail shows the guesses: one event for the code, counting all ten (recorded by the worker).
        const failed = await eventually(
          async () => {
            const e = await AuditEvent.findOne({
              targetUserId: new Types.ObjectId(owner.userId),
              type: 'verify-failed',
            }).lean();
            return e && e.attempts?.length === 10 ? e : undefined;
          },
          20_000,
          'ten wrong codes counted',
        );
        expect(failed).to.include({ actorKind: 'anonymous', ip: null });
        expect([...failed.attempts!].sort((x, y) => x - y)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

        const reset = await shop.request(
          `${users(owner.userId)}/limits/reset`,
          asDesk(post(support.accessToken, { reason: 'Locked out by strangers; identity checked' })),
        );
        expect(reset.status, reset.text).to.equal(200);
        expect(reset.body.data.deadCodesCleared).to.equal(1);
        for (const l of reset.body.data.limits[0].limits)
          expect(l, l.name).to.include({ used: 0, blocked: false, resetsAt: null });
        expect(reset.body.data.limits[0].code).to.equal(null);
        expect(await OtpCode.countDocuments({ _id: `phone:${phone.e164}` as never })).to.equal(0);
        expect((await staffEvent(owner.userId, 'limits-reset', support)).details).to.deep.equal({
          channels: ['phone'],
          deadCodesCleared: 1,
        });

        // At once: a new code, and the owner is in.
        const fresh = await sendOtp(shop, body, ownerIp);
        expect(fresh.status, fresh.text).to.equal(201);
        const back = await verifyOtp(shop, { ...body, code: fresh.body.data.code }, ownerIp);
        expect(back.status, back.text).to.equal(200);
        expect(back.body.data.user.id).to.equal(owner.userId);
      } finally {
        await shop.close();
      }
    });
  });

  describe('PUT /admin/users/{id}/roles', () => {
    it('sets roles; a removed role ends the sessions; nobody removes their own admin', async () => {
      const target = await login(srv);
      const grant = await act(
        admin.accessToken,
        `${users(target.userId)}/roles`,
        { roles: ['support', 'marketing'], reason: 'Joined support' },
        'PUT',
      );
      expect(grant.status, grant.text).to.equal(200);
      expect(grant.body.data).to.deep.equal({
        userId: target.userId,
        roles: ['user', 'marketing', 'support'],
        added: ['marketing', 'support'],
        removed: [],
        revokedSessions: 0,
      });
      expect((await User.findById(target.userId).lean())?.roles).to.deep.equal(['user', 'marketing', 'support']);
      expect((await Session.findById(target.sid).lean())?.revokedAt).to.equal(null);
      // The new role is in the next token.
      const refreshed = await srv.request('/api/v1/auth/refresh', json({ refreshToken: target.refreshToken }));
      const asSupport = refreshed.body.data.accessToken as string;
      expect((await get(asSupport, users(plain.userId))).status).to.equal(200);

      const remove = await act(
        admin.accessToken,
        `${users(target.userId)}/roles`,
        { roles: ['user', 'marketing'], reason: 'Left support' },
        'PUT',
      );
      expect(remove.body.data).to.include({ revokedSessions: 1 });
      expect(remove.body.data.removed).to.deep.equal(['support']);
      expect((await Session.findById(target.sid).lean())?.revokedReason).to.equal('role-revoked');
      expect((await get(asSupport, users(plain.userId))).status).to.equal(401);
      const event = await staffEvent(target.userId, 'roles-changed', admin);
      expect(event).to.include({ reason: 'Left support', count: 1 });
      expect(event.details).to.deep.equal({
        before: ['user', 'marketing', 'support'],
        after: ['user', 'marketing'],
        added: [],
        removed: ['support'],
      });

      const self = await act(
        admin.accessToken,
        `${users(admin.userId)}/roles`,
        { roles: ['user'], reason: 'Oops' },
        'PUT',
      );
      expect(self.status).to.equal(403);
      expect(self.body.errorCode).to.equal('SELF_ACTION_REFUSED');
      expect((await User.findById(admin.userId).lean())?.roles).to.deep.equal(['user', 'admin']);
      const keep = await act(
        admin.accessToken,
        `${users(admin.userId)}/roles`,
        { roles: ['admin', 'support'], reason: 'Also support' },
        'PUT',
      );
      expect(keep.status, keep.text).to.equal(200);
      expect(keep.body.data.removed).to.deep.equal([]);
      expect((await get(admin.accessToken, users(plain.userId))).status).to.equal(200); // not signed out

      const bad = await act(admin.accessToken, `${users(target.userId)}/roles`, { roles: ['root'], reason }, 'PUT');
      expect(bad.status).to.equal(400);
      expect(bad.body.errors).to.deep.equal([
        'Validation failed',
        'roles: must be a list of distinct values of user, admin, marketing, support',
      ]);
    });

    it('grant-role uses the same service: the change is on record, and --revoke ends the sessions', async function () {
      this.timeout(60_000);
      const target = await login(srv);
      const granted = await cli([target.phone.e164, 'support']);
      expect(granted.code, granted.stderr).to.equal(0);
      expect(granted.stdout).to.equal(`${target.userId}: roles user, support\n`);
      const revoked = await cli([target.phone.e164, 'support', '--revoke']);
      expect(revoked.stdout).to.equal(`${target.userId}: roles user; 1 session(s) ended\n`);
      const changes = (await eventsOf(target.userId)).filter((e) => e.type === 'roles-changed');
      expect(changes.map((e) => [e.actorKind, e.details])).to.deep.equal([
        ['cli', { before: ['user', 'support'], after: ['user'], added: [], removed: ['support'] }],
        ['cli', { before: ['user'], after: ['user', 'support'], added: ['support'], removed: [] }],
      ]);
    });
  });

  describe('POST /admin/users/{id}/account-deletion/finalize', () => {
    it('erases the account as the worker does (admin only, never your own), and records it', async () => {
      const target = await login(srv, freshPhone(), { 'x-device-id': 'owner-phone' });
      await eventually(
        async () => (await AuditEvent.findById(`login-${target.sid}`).lean())?.deviceId === 'owner-phone',
        20_000,
        'login recorded',
      );
      const res = await act(admin.accessToken, `${users(target.userId)}/account-deletion/finalize`, {
        reason: 'Erasure requested by e-mail',
      });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.data).to.include({ status: 'finalized', userId: target.userId });
      const stored = await User.findById(target.userId).lean();
      expect(stored).to.include({ accountDeletionStatus: 'finalized', phoneNumber: null });
      expect(stored).to.not.have.property('phoneKey');
      expect((await Session.findById(target.sid).lean())?.revokedReason).to.equal('account-deleted');
      await staffEvent(target.userId, 'deletion-finalized', admin);
      // The user's own devices and addresses are gone from the trail too; the staff member's stay.
      const login_ = await AuditEvent.findById(`login-${target.sid}`).lean();
      expect(login_).to.include({ ip: null, deviceId: null });
      expect((await get(admin.accessToken, users(target.userId))).body.data.limits).to.deep.equal([]);

      const again = await act(admin.accessToken, `${users(target.userId)}/account-deletion/finalize`);
      expect(again.status).to.equal(409);
      expect(again.body.errorCode).to.equal('ACCOUNT_DELETED');
      const self = await act(admin.accessToken, `${users(admin.userId)}/account-deletion/finalize`);
      expect(self.status).to.equal(403);
      expect(self.body.errorCode).to.equal('SELF_ACTION_REFUSED');
      // The number signs up again as a new user.
      expect((await login(srv, target.phone)).userId).to.not.equal(target.userId);
    });
  });

  describe('the audit trail', () => {
    it('records logins, wrong codes, refresh-token theft, logouts, revoked sessions and deletion requests through the worker', async () => {
      const phone = freshPhone();
      const ip = freshIp();
      const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      for (let i = 0; i < 3; i++)
        expect(
          (
            await verifyOtp(
              srv,
              {
                countryCode: '90',
                phoneNumber: phone.phoneNumber,
                code: sent.body.data.code === '0000' ? '1111' : '0000',
              },
              freshIp(),
            )
          ).status,
        ).to.equal(400);
      const a = await login(srv, phone, {
        'x-device-id': 'ipad',
        'x-platform': 'mobile_ios',
        'x-app-version': '3.0.0',
      });
      // Wrong codes on a number with a user are recorded (the first three found no user: nothing to record).
      const sent2 = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      for (let i = 0; i < 3; i++)
        expect(
          (
            await verifyOtp(
              srv,
              {
                countryCode: '90',
                phoneNumber: phone.phoneNumber,
                code: sent2.body.data.code === '0000' ? '1111' : '0000',
              },
              freshIp(),
              { 'x-platform': 'api' },
            )
          ).status,
        ).to.equal(400);
      const b = await login(srv, phone);
      const rotated = await srv.request('/api/v1/auth/refresh', json({ refreshToken: b.refreshToken }));
      expect(rotated.status).to.equal(200);
      // Theft: the rotated token presented again after the grace window (10 s; its first use is moved back a minute).
      await refreshTokenUses().updateOne(
        { _id: sha256Hex(b.refreshToken) },
        { $set: { at: new Date(Date.now() - 60_000) } },
      );
      const stolen = await srv.request('/api/v1/auth/refresh', json({ refreshToken: b.refreshToken }));
      expect(stolen.body.errorCode).to.equal('REFRESH_TOKEN_REUSED');
      const c = await login(srv, phone);
      expect(
        (await srv.request('/api/v1/auth/revoke-token', post(c.accessToken, { refreshToken: a.refreshToken }))).status,
      ).to.equal(200);
      expect((await srv.request('/api/v1/users/me/account-deletion', post(c.accessToken))).status).to.equal(200);
      expect(
        (await srv.request('/api/v1/users/me/account-deletion', post(c.accessToken, {}, 'DELETE'))).status,
      ).to.equal(200);
      expect((await srv.request('/api/v1/auth/logout', post(c.accessToken))).status).to.equal(200);

      const expected = [
        'login',
        'verify-failed',
        'login',
        'refresh-token-reuse',
        'login',
        'session-revoked',
        'deletion-requested',
        'deletion-cancelled',
        'logout',
      ];
      const events = await eventually(
        async () => {
          const e = await eventsOf(a.userId);
          return e.filter((x) => x.actorKind !== 'staff').length >= expected.length ? e : undefined;
        },
        20_000,
        async () => `the events (${(await eventsOf(a.userId)).map((e) => e.type).join(', ')})`,
      );
      expect(events.map((e) => e.type).sort()).to.deep.equal([...expected].sort());
      const byId = (id: string) => events.find((e) => e._id === id)!;
      expect(byId(`login-${a.sid}`)).to.include({
        actorKind: 'user',
        platform: 'mobile_ios',
        deviceId: 'ipad',
        appVersion: '3.0.0',
      });
      expect(byId(`login-${a.sid}`).ip).to.match(/^10\./);
      expect(byId(`login-${a.sid}`).reqId).to.be.a('string');
      const failed = events.find((e) => e.type === 'verify-failed')!;
      expect(failed).to.include({ actorKind: 'anonymous', platform: 'api', ip: null });
      expect(failed.attempts).to.have.members([1, 2, 3]);
      expect(byId(`session-revoked-${a.sid}`).sessionId?.toHexString()).to.equal(a.sid);
      expect(byId(`logout-${c.sid}`)).to.include({ count: 1, actorKind: 'user' });
      expect(byId(`refresh-token-reuse-${b.sid}`)).to.include({ actorKind: 'anonymous' });
      expect(byId(`refresh-token-reuse-${b.sid}`).sessionId?.toHexString()).to.equal(b.sid);
      // Never a code or a token.
      const all = JSON.stringify(events);
      for (const secret of [a.refreshToken, a.accessToken, b.refreshToken, sha256Hex(b.refreshToken)])
        expect(all).to.not.include(secret);
      expect(all).to.not.match(/codeHash|"code"/);
    });

    it('records a job delivered twice once, and counts a wrong code delivered twice once', async () => {
      const someone = await login(srv);
      const handle = jobHandler('audit', {
        logger: createLogger({ level: 'silent' }),
        config: testConfig(),
        queues: ownQueues,
        now: () => new Date(),
      });
      const job = (data: Record<string, unknown>) => ({ id: 'x', attemptsMade: 0, data }) as unknown as Job;
      const at = new Date().toISOString();
      const login_ = { type: 'login', at, userId: someone.userId, actorKind: 'user', sessionId: someone.sid };
      const results = [await handle(job(login_)), await handle(job(login_))];
      expect(results).to.deep.equal([{ recorded: true }, { recorded: false }]);
      const codeId = new Types.ObjectId().toHexString();
      const wrong = (attempt: number) =>
        job({
          type: 'verify-failed',
          at,
          userId: someone.userId,
          actorKind: 'anonymous',
          codeId,
          attempt,
          channel: 'phone',
          platform: 'web',
        });
      const counted = await Promise.all([wrong(1), wrong(2), wrong(1), wrong(3), wrong(2)].map((j) => handle(j)));
      expect(counted.filter((r) => (r as { recorded: boolean }).recorded)).to.have.length(3);
      const event = await auditEvents().findOne({ _id: `verify-failed-${codeId}` });
      expect(event?.attempts).to.have.members([1, 2, 3]);
      expect(event?.expiresAt.getTime()).to.be.within(Date.now() + 179 * 86_400_000, Date.now() + 181 * 86_400_000);
      // A malformed payload is refused for good.
      const bad = await handle(job({ type: 'login', at, userId: someone.userId, actorKind: 'user' })).catch(
        (e: Error) => e,
      );
      expect((bad as Error).message).to.include('sessionId: is required for this type');
    });

    it('GET /admin/users/{id}/events: newest first, a page at a time, filtered by type', async () => {
      const phone = freshPhone();
      const first = await login(srv, phone);
      await login(srv, phone);
      await login(srv, phone);
      await eventually(
        async () =>
          (await AuditEvent.countDocuments({ targetUserId: new Types.ObjectId(first.userId), type: 'login' })) === 3,
        20_000,
        'three logins recorded',
      );
      for (const r of ['First reason', 'Second reason'])
        expect((await act(support.accessToken, `${users(first.userId)}/limits/reset`, { reason: r })).status).to.equal(
          200,
        );

      const seen: { id: string; type: string; at: string }[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: TestResponse = await get(
          support.accessToken,
          `${users(first.userId)}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status, res.text).to.equal(200);
        expect(res.body.data.items.length).to.be.at.most(2);
        seen.push(...res.body.data.items);
        cursor = res.body.data.nextCursor;
        if (!cursor) break;
      }
      expect(new Set(seen.map((e) => e.id)).size).to.equal(seen.length);
      expect(seen.map((e) => e.at)).to.deep.equal([...seen.map((e) => e.at)].sort().reverse());
      expect(seen.filter((e) => e.type === 'login')).to.have.length(3);
      const resets = seen.filter((e) => e.type === 'limits-reset') as unknown as {
        reason: string;
        actor: { kind: string; userId: string; roles: string[] };
      }[];
      expect(resets.map((e) => e.reason)).to.deep.equal(['Second reason', 'First reason']);
      expect(resets[0]!.actor).to.deep.equal({ kind: 'staff', userId: support.userId, roles: ['user', 'support'] });
      // Each page view is itself on record.
      expect((await eventsOf(first.userId)).filter((e) => e.type === 'events-viewed').length).to.be.at.least(3);

      const logins = await get(support.accessToken, `${users(first.userId)}/events?types=login,limits-reset`);
      expect(new Set(logins.body.data.items.map((e: { type: string }) => e.type))).to.deep.equal(
        new Set(['login', 'limits-reset']),
      );
      const bad = await get(support.accessToken, `${users(first.userId)}/events?types=login,nope`);
      expect(bad.status).to.equal(400);
      expect(bad.body.errors[1]).to.match(/^types: "nope" is not one of login, /);
    });
  });

  describe('GET /users/me/security-events', () => {
    it('shows the user their sign-ins with device and address, sessions ended (by staff without who or where), role changes; not staff reads', async () => {
      const phone = freshPhone();
      const me = await login(srv, phone, { 'x-device-id': 'my-phone', 'x-platform': 'mobile_android' });
      const laptop = await login(srv, phone, { 'x-device-id': 'my-laptop', 'x-platform': 'web' });
      expect(
        (
          await act(
            support.accessToken,
            `${users(me.userId)}/sessions/${laptop.sid}`,
            { reason: 'Owner does not know this laptop' },
            'DELETE',
          )
        ).status,
      ).to.equal(200);
      expect(
        (
          await act(
            admin.accessToken,
            `${users(me.userId)}/roles`,
            { roles: ['marketing'], reason: 'Marketing intern' },
            'PUT',
          )
        ).status,
      ).to.equal(200);
      const again = await login(srv, phone, { 'x-device-id': 'my-phone', 'x-platform': 'mobile_android' });
      expect((await get(support.accessToken, users(me.userId))).status).to.equal(200);
      await eventually(
        async () =>
          (await AuditEvent.countDocuments({ targetUserId: new Types.ObjectId(me.userId), type: 'login' })) === 3,
        20_000,
        'three logins recorded',
      );

      const res = await get(again.accessToken, '/api/v1/users/me/security-events');
      expect(res.status, res.text).to.equal(200);
      const items = res.body.data.items as Record<string, unknown>[];
      expect(items.map((e) => e.type)).to.deep.equal(['login', 'roles-changed', 'session-revoked', 'login', 'login']);
      expect(items[0]).to.include({
        actor: 'you',
        sessionId: again.sid,
        currentSession: true,
        deviceId: 'my-phone',
        platform: 'mobile_android',
      });
      expect(items[0]!.ip).to.match(/^10\./);
      expect(items[1]).to.include({ actor: 'staff', ip: null, deviceId: null });
      expect(items[1]!.details).to.deep.equal({ added: ['marketing'], removed: [] });
      expect(items[2]).to.include({ actor: 'staff', sessionId: laptop.sid, ip: null, currentSession: false });
      expect(JSON.stringify(items)).to.not.include('Owner does not know').and.not.include(support.userId);

      const page = await get(again.accessToken, '/api/v1/users/me/security-events?limit=2');
      expect(page.body.data.items).to.have.length(2);
      const next = await get(
        again.accessToken,
        `/api/v1/users/me/security-events?limit=2&cursor=${page.body.data.nextCursor}`,
      );
      expect(next.body.data.items.map((e: { id: string }) => e.id)).to.deep.equal(items.slice(2, 4).map((e) => e.id));
      expect((await get(again.accessToken, '/api/v1/users/me/security-events?limit=500')).status).to.equal(400);
      expect(
        (await get(plain.accessToken, '/api/v1/users/me/security-events')).body.data.items.every(
          (e: { type: string }) => e.type === 'login',
        ),
      ).to.equal(true);
    });
  });
});
