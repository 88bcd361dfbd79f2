/**
 * The side-effect guarantee (docs/api.md#guarantees): no event is lost when
 * Redis is unavailable during the request or a process is killed mid-job, and
 * none is counted twice when the outbox relay and the normal path both deliver it.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { lastLoginEvent } from '../src/jobs/last-login.js';
import { FAST_PATH, Publisher, relayOutbox } from '../src/jobs/outbox.js';
import { closeQueues, createQueues, type Queues } from '../src/jobs/queues.js';
import { signupAttributionEvent, signupAttributionJobId } from '../src/jobs/signup-attribution.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis, redisReady, type Redis } from '../src/lib/redis.js';
import { FunnelEvent, LoginEvent, SignupAttribution } from '../src/models/analytics.js';
import { AuditEvent } from '../src/models/audit-event.js';
import { Outbox } from '../src/models/outbox.js';
import { User } from '../src/models/user.js';
import { signupsReport } from '../src/services/analytics.js';
import { eventually, freshIp, freshPhone, sendOtp, verifyOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { queues } from './support/hooks.js';
import { startApp, type TestServer } from './support/http.js';
import { spawnApp } from './support/processes.js';
import { PrivateRedis } from './support/redis-server.js';

const FAST_RELAY = { OUTBOX_RELAY_EVERY_MS: '300', OUTBOX_RELAY_AFTER_MS: '0', LOG_LEVEL: 'warn' };

/** The outbox events (of any document) whose payload names one of `userIds`. */
async function outboxEventsOf(userIds: string[]): Promise<{ queue: string; jobId: string }[]> {
  const docs = await Outbox.find({ 'events.data.userId': { $in: userIds } }).lean();
  return docs.flatMap((d) => d.events).filter((e) => userIds.includes((e.data as { userId?: string }).userId ?? ''));
}

describe('no lost side effects (contract §5)', function () {
  this.timeout(120_000);

  describe('Redis down during the requests', () => {
    let redisServer: PrivateRedis;
    let client: Redis;
    let privateQueues: Queues;
    let srv: TestServer;

    before(async () => {
      redisServer = await PrivateRedis.create();
      const config = testConfig({ REDIS_URL: redisServer.url });
      client = createRedis(config, 'client');
      client.on('error', () => undefined);
      privateQueues = createQueues(config, client);
      for (const q of Object.values(privateQueues)) q.on('error', () => undefined);
      // Let the queues finish their start-up commands before the outage begins.
      await redisReady(client);
      await Promise.all(Object.values(privateQueues).map((q) => q.waitUntilReady()));
      srv = await startApp(
        { TRUST_PROXY: 'true', REDIS_URL: redisServer.url },
        { redis: client, queues: privateQueues },
      );
    });
    after(async () => {
      await srv.close();
      await closeQueues(privateQueues).catch(() => undefined);
      await closeRedis(client);
      await redisServer.destroy();
    });

    it('logins keep succeeding through 10 s without Redis, under load; once it is back the worker applies every effect, once', async function () {
      this.timeout(240_000);
      const source = `outage_${randomUUID().slice(0, 8)}`;
      const userIds: string[] = [];
      const login = async () => {
        const phone = freshPhone();
        const ip = freshIp();
        const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
        expect(sent.status, sent.text).to.equal(201);
        const res = await verifyOtp(
          srv,
          { countryCode: '90', phoneNumber: phone.phoneNumber, code: sent.body.data.code, signupSource: source },
          ip,
        );
        expect(res.status, res.text).to.equal(200);
        userIds.push(res.body.data.user.id as string);
      };
      const loadUntil = (done: () => boolean) =>
        Promise.all(
          Array.from({ length: 4 }, async () => {
            while (!done()) await login();
          }),
        );

      const firstDay = new Date().toISOString().slice(0, 10); // UTC; the run may cross midnight
      await redisServer.stop();
      const stoppedAt = Date.now();
      await loadUntil(() => Date.now() - stoppedAt >= 10_000); // 4 clients, logging in for 10 s
      const duringOutage = [...userIds];
      const outageSeconds = (Date.now() - stoppedAt) / 1000;
      expect(duringOutage.length).to.be.at.least(20);
      // Each login's last-login and signup events (and its funnel fact) wait in the MongoDB outbox, one document
      // per request. (The login's audit event is the last-login job's to record.)
      await eventually(
        async () => (await outboxEventsOf(duringOutage)).length === 2 * duringOutage.length,
        10_000,
        'every event in the outbox',
      );
      const undelivered = await Outbox.find({ 'events.data.userId': { $in: duringOutage } }).lean();
      expect(undelivered).to.have.length(duringOutage.length);

      await redisServer.start(); // an empty Redis, as after a failover
      await redisReady(client, 15_000);
      await loadUntil(() => userIds.length >= duringOutage.length + 8); // and logins go on once it is back
      const n = userIds.length;
      console.log(
        `      ${duringOutage.length} logins in ${outageSeconds.toFixed(1)} s without Redis (0 failed), ${n - duringOutage.length} after it returned`,
      );
      const ids = userIds.map((id) => new Types.ObjectId(id));
      const worker = spawnApp('worker', { REDIS_URL: redisServer.url, ...FAST_RELAY });
      try {
        await eventually(
          async () => (await SignupAttribution.countDocuments({ source })) === n,
          90_000,
          'every signup recorded',
        );
        await eventually(
          async () => (await User.countDocuments({ _id: { $in: ids }, lastLogin: { $ne: null } })) === n,
          90_000,
          'every lastLogin set',
        );
        await eventually(
          async () => (await LoginEvent.countDocuments({ userId: { $in: ids } })) === n,
          90_000,
          'every login event',
        );
        await eventually(
          async () => (await AuditEvent.countDocuments({ targetUserId: { $in: ids }, type: 'login' })) === n,
          90_000,
          'every login audited',
        );
        await eventually(
          async () => (await FunnelEvent.countDocuments({ step: 'otp-verified', source })) === n,
          90_000,
          'every verified code in the funnel',
        );
        const days = { from: firstDay, to: new Date().toISOString().slice(0, 10) };
        // The rollup counts each fact a moment after it is stored.
        await eventually(
          async () => (await signupsReport(days, ['source'], { source })).totals.signups === n,
          30_000,
          'every signup in the report',
        );

        // Delivered, the outbox documents are gone.
        expect(await Outbox.countDocuments({ 'events.data.userId': { $in: userIds } })).to.equal(0);
        // Deliver the outage's events a second time: forget the completed jobs, put the documents back.
        for (const q of Object.values(privateQueues)) await q.clean(0, 10_000, 'completed');
        const resentAt = Date.now();
        await Outbox.collection.insertMany(undelivered as never[]);
        await eventually(
          async () => (await Outbox.countDocuments({ 'events.data.userId': { $in: userIds } })) === 0,
          30_000,
          'relayed again',
        );
        // Every re-sent job has run again (its job id is back, finished).
        const resentLogins = undelivered
          .flatMap((d) => d.events)
          .filter((e) => e.queue === 'last-login')
          .map((e) => e.jobId);
        expect(resentLogins).to.have.length(duringOutage.length);
        await eventually(
          async () => {
            const jobs = await Promise.all([
              ...duringOutage.map((id) => privateQueues['signup-attribution'].getJob(signupAttributionJobId(id))),
              ...resentLogins.map((id) => privateQueues['last-login'].getJob(id)),
            ]);
            return jobs.every((j) => (j?.finishedOn ?? 0) >= resentAt);
          },
          90_000,
          'second delivery processed',
        );

        const after = await signupsReport(days, ['source'], { source });
        expect(after.totals.signups).to.equal(n);
        expect(await SignupAttribution.countDocuments({ source })).to.equal(n);
        expect(await LoginEvent.countDocuments({ userId: { $in: ids } })).to.equal(n);
        expect(await AuditEvent.countDocuments({ targetUserId: { $in: ids }, type: 'login' })).to.equal(n);
        expect(await FunnelEvent.countDocuments({ step: 'otp-verified', source })).to.equal(n);
      } finally {
        await worker.stop();
      }
    });
  });

  it("enqueues a login's jobs only once its session is stored; if storing it fails, the login's event is withdrawn and the others stay in the outbox", async () => {
    // A worker could otherwise run the last-login job before the session it reads exists.
    const publisher = new Publisher(queues(), () => new Date());
    const log = createLogger({ level: 'silent' });
    const event = () =>
      lastLoginEvent({
        userId: new Types.ObjectId().toHexString(),
        sessionId: new Types.ObjectId().toHexString(),
        loginAt: new Date().toISOString(),
      });
    const q = queues()['last-login'];

    const stored = event();
    let sessionStored!: () => void;
    await publisher.publish([stored], log, { after: new Promise<void>((r) => (sessionStored = r)) });
    await new Promise((r) => setTimeout(r, 300));
    expect(await q.getJob(stored.jobId), 'enqueued before the session exists').to.equal(undefined);
    sessionStored();
    await publisher.drain();
    expect(await q.getJob(stored.jobId)).to.not.equal(undefined);
    expect(await Outbox.findById(stored.jobId).lean(), 'delivered: the outbox document is gone').to.equal(null);

    // The session insert fails: nothing is enqueued now; the login's own event is withdrawn, the
    // other (here: another login's, standing for the funnel and signup events) waits for the relay.
    const [withdrawn, kept] = [event(), event()];
    await publisher.publish([withdrawn, kept], log, {
      after: Promise.reject(new Error('session insert failed')),
      cancelIfAfterFails: [withdrawn],
    });
    await publisher.drain();
    for (const e of [withdrawn, kept]) expect(await q.getJob(e.jobId)).to.equal(undefined);
    const left = await Outbox.findById(withdrawn.jobId).lean(); // the request's one document, named by its first event
    expect(left?.events.map((e) => e.jobId)).to.deep.equal([kept.jobId]);
    await Outbox.deleteOne({ _id: withdrawn.jobId }); // not for a later test's relay
  });

  it("gathers concurrent requests' events: one addBulk per queue and batch, at most FAST_PATH.maxItems requests each, every job once, the outbox emptied", async () => {
    const publisher = new Publisher(queues(), () => new Date());
    const log = createLogger({ level: 'silent' });
    const requests = FAST_PATH.maxItems! + 6;
    const logins = Array.from({ length: requests }, () => {
      const userId = new Types.ObjectId().toHexString();
      const sessionId = new Types.ObjectId().toHexString();
      return [
        lastLoginEvent({ userId, sessionId, loginAt: new Date().toISOString() }),
        signupAttributionEvent({ userId, sessionId }),
      ];
    });
    // A counting wrapper around the real queues' addBulk: how the jobs reached Redis.
    const names = ['last-login', 'signup-attribution'] as const;
    const sizes: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const restore = names.map((name) => {
      const q = queues()[name];
      const real = q.addBulk.bind(q);
      q.addBulk = (jobs: Parameters<typeof real>[0]) => (sizes[name]!.push(jobs.length), real(jobs));
      return () => (q.addBulk = real);
    });
    try {
      // Every request's events reach the fast path in the same tick (their sessions stored at once).
      let stored!: () => void;
      const sessions = new Promise<void>((r) => (stored = r));
      await Promise.all(logins.map((events) => publisher.publish(events, log, { after: sessions })));
      stored();
      await publisher.drain();
    } finally {
      restore.forEach((r) => r());
    }
    for (const list of Object.values(sizes)) expect(list).to.deep.equal([FAST_PATH.maxItems, 6]);
    const jobIds = logins.flat().map((e) => e.jobId);
    const found = await Promise.all(logins.flat().map((e) => queues()[e.queue].getJob(e.jobId)));
    expect(found.filter((j) => j !== undefined).length, 'every job enqueued').to.equal(jobIds.length);
    expect(await Outbox.countDocuments({ _id: { $in: logins.map((l) => l[0]!.jobId) } })).to.equal(0);
  });

  it('the relay delivers outbox documents of the old shape (one event each) that old web dynos write during a deploy', async () => {
    const q = queues()['last-login'];
    const legacy = lastLoginEvent({
      userId: new Types.ObjectId().toHexString(),
      sessionId: new Types.ObjectId().toHexString(),
      loginAt: new Date().toISOString(),
    });
    const delivered = lastLoginEvent({
      userId: new Types.ObjectId().toHexString(),
      sessionId: new Types.ObjectId().toHexString(),
      loginAt: new Date().toISOString(),
    });
    const old = new Date(Date.now() - 60_000);
    await Outbox.collection.insertMany([
      {
        _id: legacy.jobId as never,
        queue: 'last-login',
        name: 'last-login',
        data: legacy.data,
        createdAt: old,
        dispatchedAt: null,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
      {
        _id: delivered.jobId as never,
        queue: 'last-login',
        name: 'last-login',
        data: delivered.data,
        createdAt: old,
        dispatchedAt: old,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    ]);
    expect(await relayOutbox(queues(), new Date(), 10_000)).to.be.at.least(2);
    expect((await q.getJob(legacy.jobId))?.data).to.deep.equal(legacy.data);
    expect(await q.getJob(delivered.jobId), 'delivered before: not sent again').to.equal(undefined);
    expect(await Outbox.countDocuments({ _id: { $in: [legacy.jobId, delivered.jobId] } })).to.equal(0);
    await q.remove(legacy.jobId);
  });

  it('the worker killed with SIGKILL mid-batch of 200 jobs: after a restart all 200 effects exist, none twice', async () => {
    const q = queues()['funnel'];
    const tag = `kill_${randomUUID().slice(0, 8)}`;
    const codeIds = Array.from({ length: 200 }, () => new Types.ObjectId().toHexString());
    await q.addBulk(
      codeIds.map((codeId) => ({
        name: 'funnel',
        data: {
          step: 'otp-verified',
          codeId,
          at: new Date().toISOString(),
          channel: 'phone',
          country: '90',
          platform: 'web',
          source: tag,
          campaign: null,
        },
        opts: { jobId: `otp-verified-${codeId}` },
      })),
    );
    const locks = { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', LOG_LEVEL: 'debug' };
    const first = spawnApp('worker', locks);
    // One of this batch's jobs, not an earlier test's funnel job still in the queue ahead of it.
    const ours = new Set(codeIds.map((c) => `otp-verified-${c}`));
    await first.waitForLog((l) => l.msg === 'job done' && ours.has(String(l.jobId)), 60_000);
    first.child.kill('SIGKILL');
    const { signal } = await first.exited;
    expect(signal).to.equal('SIGKILL');
    const applied = await FunnelEvent.countDocuments({ source: tag });
    expect(applied, 'killed mid-batch').to.be.within(1, 199);

    const second = spawnApp('worker', locks);
    try {
      await eventually(
        async () => (await FunnelEvent.countDocuments({ source: tag })) === 200,
        60_000,
        'all 200 effects',
      );
      const events = await FunnelEvent.find({ source: tag }, { _id: 1 }).lean();
      expect(new Set(events.map((e) => e._id))).to.deep.equal(new Set(codeIds.map((c) => `otp-verified-${c}`)));
      await eventually(
        async () => (await q.getJobCounts('active', 'waiting')).active === 0,
        30_000,
        'no job left active',
      );
    } finally {
      await second.stop();
    }
  });
});
