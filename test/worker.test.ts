import { expect } from 'chai';
import type { Job, Queue } from 'bullmq';
import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import { ACCOUNT_DELETION_SCHEDULER_ID } from '../src/jobs/account-deletion.js';
import { lastLoginJobId } from '../src/jobs/last-login.js';
import { signupAttributionJobId } from '../src/jobs/signup-attribution.js';
import { scanKeys } from '../src/lib/redis.js';
import { FunnelEvent, LoginEvent, RegistrationCompletion, SignupAttribution } from '../src/models/analytics.js';
import { Session } from '../src/models/session.js';
import { User } from '../src/models/user.js';
import { eventually, freshIp, freshPhone, recordingSms, sendOtp, verifyOtp } from './support/auth.js';
import { showsCode } from './support/logs.js';
import { testConfig } from './support/env.js';
import { queues, redis } from './support/hooks.js';
import { startApp, type TestServer } from './support/http.js';
import { spawnApp, type AppProcess } from './support/processes.js';

/** Waits for a job to complete and returns its processor's return value. */
async function finished(queue: Queue, job: Pick<Job, 'id'>): Promise<unknown> {
  const done = await eventually(
    async () => {
      const fresh = await queue.getJob(job.id!);
      if (fresh?.failedReason) throw new Error(`job ${job.id} failed: ${fresh.failedReason}`);
      return fresh?.finishedOn ? { value: fresh.returnvalue as unknown } : undefined;
    },
    15_000,
    `job ${job.id} completed`,
  );
  return done.value;
}

/** Waits for a job to fail for good (no retry left, or none wanted) and returns it. */
async function failedForGood(queue: Queue, job: Job): Promise<Job> {
  return eventually(
    async () => {
      // The state first, then the job: read the other way round, the job could be read just before it failed
      // (no failedReason yet) and its state just after.
      if ((await queue.getJobState(job.id!)) !== 'failed') return undefined;
      return await queue.getJob(job.id!);
    },
    15_000,
    `job ${job.id} failed`,
  );
}

describe('the worker process runs the login side effects', function () {
  this.timeout(60_000);
  let srv: TestServer;
  let worker: AppProcess;

  before(async () => {
    srv = await startApp({ TRUST_PROXY: 'true' }, { sms: recordingSms() });
    worker = spawnApp('worker');
    await worker.waitForLog((l) => l.msg === 'worker started');
  });
  after(async () => {
    await worker.stop();
    await srv.close();
  });

  async function login(attribution: Record<string, string> = {}) {
    const phone = freshPhone();
    const ip = freshIp();
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
    const code = sent.body.data.code as string;
    const res = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code, ...attribution }, ip, {
      'x-platform': 'mobile_android',
      'x-device-id': 'pixel-8',
    });
    expect(res.status, res.text).to.equal(200);
    const sid = (jwt.decode(res.body.data.accessToken) as jwt.JwtPayload).sid as string;
    return { phone, ip, code, data: res.body.data, userId: res.body.data.user.id as string, sid };
  }

  it('sets lastLogin, stores the login event and records the attribution once, even when delivered twice', async () => {
    const { userId, sid, ip } = await login({ signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' });
    const session = await Session.findById(sid).lean();

    const user = await eventually(
      async () => {
        const u = await User.findById(userId).lean();
        return u?.lastLogin ? u : undefined;
      },
      15_000,
      'lastLogin set',
    );
    expect(user.lastLogin!.toISOString()).to.equal(session!.createdAt.toISOString());

    const attribution = await eventually(
      () => SignupAttribution.findById(userId).lean(),
      15_000,
      'attribution recorded',
    );
    expect(attribution).to.deep.include({
      source: 'instagram_ads',
      campaign: 'spring_launch_2026',
      country: '90',
      platform: 'mobile_android',
      day: user.createdAt.toISOString().slice(0, 10),
    });
    const event = await eventually(() => LoginEvent.findById(sid).lean(), 15_000, 'login event stored');
    expect(event).to.deep.include({ ip, platform: 'mobile_android', deviceId: 'pixel-8' });
    expect(event!.at.toISOString()).to.equal(session!.createdAt.toISOString());

    // The same jobs delivered again (a redelivery after a crash looks like this), once the first deliveries are
    // done: a redelivery while the first still counts its facts is refused and retried later (FactInFlightError).
    const q = queues();
    expect(await finished(q['last-login'], { id: lastLoginJobId(sid) })).to.deep.equal({ eventRecorded: true });
    expect(await finished(q['signup-attribution'], { id: signupAttributionJobId(userId) })).to.deep.equal({
      recorded: true,
    });
    const againSignup = await q['signup-attribution'].add(
      'signup-attribution',
      { userId, sessionId: sid },
      { jobId: `redelivery-${userId}` },
    );
    const againLogin = await q['last-login'].add(
      'last-login',
      { userId, sessionId: sid, loginAt: session!.createdAt.toISOString() },
      { jobId: `redelivery-${sid}` },
    );
    expect(await finished(q['signup-attribution'], againSignup)).to.deep.equal({ recorded: false });
    expect(await finished(q['last-login'], againLogin)).to.deep.equal({ eventRecorded: false });
    expect(await SignupAttribution.countDocuments({ _id: new Types.ObjectId(userId) })).to.equal(1);
    expect(await LoginEvent.countDocuments({ userId: new Types.ObjectId(userId) })).to.equal(1);
  });

  it('records a registration completion once with the first-touch attribution, and schedules the deletion sweep', async () => {
    const dayBefore = new Date().toISOString().slice(0, 10);
    const { data, userId } = await login({ signupSource: 'tiktok_ads', signupCampaign: 'autumn' });
    const done = await srv.request('/api/v1/users/me/complete-registration', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${data.accessToken}` },
      body: JSON.stringify({
        name: 'Can',
        surname: 'Demir',
        username: `can_${userId.slice(-10)}`,
        birthDate: '1990-01-01',
        gender: 'male',
        privacyPolicyAccepted: true,
        privacyPolicyVersion: '1.2.0',
        termsOfUseAccepted: true,
        termsOfUseVersion: '1.1.0',
      }),
    });
    expect(done.status, done.text).to.equal(200);
    const record = await eventually(
      () => RegistrationCompletion.findById(userId).lean(),
      15_000,
      'registration completion recorded',
    );
    expect(record).to.include({ source: 'tiktok_ads', campaign: 'autumn' });
    // The day the registration completed (UTC); a run across midnight may see either side.
    expect(record!.day).to.be.oneOf([dayBefore, new Date().toISOString().slice(0, 10)]);
    const q = queues()['registration-completed'];
    const again = await q.add(
      'registration-completed',
      { userId, completedAt: new Date().toISOString() },
      { jobId: `redelivery-${userId}` },
    );
    expect(await finished(q, again)).to.deep.equal({ recorded: false });
    expect(await RegistrationCompletion.countDocuments({ _id: new Types.ObjectId(userId) })).to.equal(1);

    const schedulers = await queues()['account-deletion'].getJobSchedulers();
    expect(schedulers.map((j) => j.key)).to.include(ACCOUNT_DELETION_SCHEDULER_ID);
  });

  it('never moves lastLogin backwards when an older login is processed late', async () => {
    const { userId, sid } = await login();
    const latest = await eventually(
      async () => (await User.findById(userId).lean())?.lastLogin,
      15_000,
      'lastLogin set',
    );
    const older = new Date(latest.getTime() - 3600_000).toISOString();
    const job = await queues()['last-login'].add(
      'last-login',
      { userId, sessionId: new Types.ObjectId().toHexString(), loginAt: older },
      { jobId: `late-${sid}` },
    );
    expect(await finished(queues()['last-login'], job)).to.deep.equal({ eventRecorded: true });
    expect((await User.findById(userId).lean())!.lastLogin!.toISOString()).to.equal(latest.toISOString());
  });

  it('refuses a last-login dated more than a minute ahead, at once and for good: lastLogin never moves into the future', async () => {
    const { userId } = await login();
    const latest = await eventually(
      async () => (await User.findById(userId).lean())?.lastLogin,
      15_000,
      'lastLogin set',
    );
    const q = queues()['last-login'];
    const sessionId = new Types.ObjectId().toHexString();
    const future = new Date(Date.now() + 3600_000).toISOString();
    // The default job options: 8 attempts with backoff. An unrecoverable failure uses one.
    const job = await q.add('last-login', { userId, sessionId, loginAt: future }, { jobId: `future-${sessionId}` });
    const failed = await failedForGood(q, job);
    expect(failed.attemptsMade).to.be.at.most(1);
    expect(failed.failedReason).to.equal(
      'last-login job payload refused: loginAt: must not be more than a minute in the future',
    );
    expect((await User.findById(userId).lean())!.lastLogin!.toISOString()).to.equal(latest.toISOString());
    expect(await LoginEvent.findById(sessionId).lean()).to.equal(null);
    const logged = await worker.waitForLog((l) => l.msg === 'job failed' && l.jobId === job.id);
    expect(JSON.stringify(logged)).to.include('loginAt').and.not.include(future);

    // Within the allowed skew (a dyno's clock slightly ahead of the worker's) a login is applied.
    const ahead = new Date(Date.now() + 20_000).toISOString();
    const near = await q.add(
      'last-login',
      { userId, sessionId: new Types.ObjectId().toHexString(), loginAt: ahead },
      { jobId: `ahead-${sessionId}` },
    );
    expect(await finished(q, near)).to.deep.equal({ eventRecorded: true });
    expect((await User.findById(userId).lean())!.lastLogin!.toISOString()).to.equal(ahead);
  });

  it('fails a job whose payload breaks its schema at once, naming the fields and none of their values', async () => {
    const marker = `leak${new Types.ObjectId().toHexString()}`;
    const signup = queues()['signup-attribution'];
    const bad = await signup.add(
      'signup-attribution',
      { userId: marker, sessionId: 42, reqId: 'req-0001' },
      { jobId: `bad-signup-${new Types.ObjectId().toHexString()}` },
    );
    const failed = await failedForGood(signup, bad);
    // Failed for good on its first run: never retried (BullMQ may record 0 or 1 attempts for an unrecoverable failure).
    expect(failed.attemptsMade).to.be.at.most(1);
    expect(failed.failedReason).to.match(
      /^signup-attribution job payload refused: userId: must be an id \(24 hex digits\); sessionId: /,
    );
    expect(failed.failedReason).to.not.include(marker);

    const funnel = queues().funnel;
    const codeId = new Types.ObjectId().toHexString();
    const data = {
      step: 'otp-sent',
      codeId,
      at: new Date().toISOString(),
      channel: 'phone',
      country: '90',
      platform: marker,
      source: null,
      campaign: '=cmd|x',
    };
    const wrong = await funnel.add('funnel', data, { jobId: `bad-funnel-${codeId}` });
    const funnelFailed = await failedForGood(funnel, wrong);
    expect(funnelFailed.attemptsMade).to.be.at.most(1);
    expect(funnelFailed.failedReason).to.match(
      /^funnel job payload refused: platform: .*; campaign: must be an attribution value$/,
    );
    expect(funnelFailed.failedReason).to.not.include(marker);
    expect(await FunnelEvent.findById(`otp-sent-${codeId}`).lean()).to.equal(null);

    await worker.waitForLog((l) => l.msg === 'job failed' && l.jobId === wrong.id);
    expect(JSON.stringify(worker.logs)).to.not.include(marker);
  });

  it('records users without attribution under (none)', async () => {
    const { userId } = await login();
    const attribution = await eventually(
      () => SignupAttribution.findById(userId).lean(),
      15_000,
      'attribution recorded',
    );
    expect(attribution).to.include({ source: '(none)', campaign: '(none)' });
  });

  it('puts no code, token or phone number in logs or job payloads', async () => {
    const { code, data, phone, userId } = await login({ signupSource: 'leak_check' });
    await eventually(() => SignupAttribution.findById(userId).lean(), 15_000, 'attribution recorded');

    const prefix = testConfig().redis.queuePrefix;
    const keys = await scanKeys(redis(), `${prefix}:*`);
    const dumps: string[] = [];
    for (const key of keys) {
      if ((await redis().type(key)) === 'hash') dumps.push(JSON.stringify(await redis().hgetall(key)));
    }
    const jobData = dumps.join('\n');
    expect(jobData).to.include(userId); // the dump really holds this login's jobs

    const haystacks = { 'web logs': srv.logs.text(), 'worker logs': JSON.stringify(worker.logs), 'job data': jobData };
    const secrets = { accessToken: data.accessToken, refreshToken: data.refreshToken, phone: phone.phoneNumber };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [what, value] of Object.entries(secrets)) expect(text, `${what} in ${where}`).to.not.include(value);
      expect(text, `code in ${where}`).to.not.match(showsCode(code));
    }
    expect(srv.logs.text()).to.include('"msg":"login"');
  });
});

describe('worker shutdown under load', function () {
  this.timeout(90_000);

  it('on SIGTERM mid-batch finishes its active jobs, exits 0, and a restart completes the rest, each effect once', async () => {
    const q = queues()['last-login'];
    const userId = new Types.ObjectId();
    const batch = Array.from({ length: 200 }, () => new Types.ObjectId());
    await q.addBulk(
      batch.map((sessionId, i) => ({
        name: 'last-login',
        data: {
          userId: userId.toHexString(),
          sessionId: sessionId.toHexString(),
          loginAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        },
        opts: { jobId: `batch-${sessionId.toHexString()}` },
      })),
    );
    const first = spawnApp('worker', { LOG_LEVEL: 'debug' });
    // A job of this batch, not one another test (or an earlier run on the same Redis) left in the queue ahead of it.
    const ours = new Set(batch.map((sessionId) => `batch-${sessionId.toHexString()}`));
    await first.waitForLog((l) => l.msg === 'job done' && ours.has(String(l.jobId)), 60_000);
    first.child.kill('SIGTERM');
    const { code } = await first.exited;
    expect(code).to.equal(0);
    expect(await q.getActiveCount()).to.equal(0); // nothing left half-done
    const doneByFirst = first.logs.filter((l) => l.msg === 'job done' && String(l.jobId).startsWith('batch-')).length;
    expect(doneByFirst).to.be.within(1, 199); // it really stopped mid-batch

    const second = spawnApp('worker', { LOG_LEVEL: 'debug' });
    try {
      await eventually(
        async () => (await LoginEvent.countDocuments({ userId })) === 200,
        60_000,
        'all 200 login events',
      );
      const ids = (await LoginEvent.find({ userId }, { _id: 1 }).lean()).map((e) => e._id.toHexString());
      expect(new Set(ids)).to.deep.equal(new Set(batch.map((b) => b.toHexString())));
      const completed = await eventually(
        async () => {
          const n = await q.getJobCountByTypes('completed');
          const waiting = await q.getJobCountByTypes('waiting', 'active', 'delayed');
          return waiting === 0 ? n : undefined;
        },
        30_000,
        async () => {
          const delayed = (await q.getDelayed()).map((j) => ({
            id: j.id,
            attemptsMade: j.attemptsMade,
            failedReason: j.failedReason,
            delay: j.delay,
            ts: j.timestamp,
            now: Date.now(),
            data: j.data,
          }));
          const failures = [...first.logs, ...second.logs].filter((l) => l.msg === 'job failed');
          return `queue drained (${JSON.stringify(await q.getJobCounts())}; delayed ${JSON.stringify(delayed)}; failures ${JSON.stringify(failures)})`;
        },
      );
      expect(completed).to.be.at.least(200);
    } finally {
      await second.stop();
    }
  });
});
