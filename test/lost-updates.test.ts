/**
 * No lost updates: a request and the worker change one user document at the
 * same moment, and both changes stay. Every write to a user is one atomic
 * update operator under a filter (src/models/user.ts); a read-modify-write of
 * the whole document anywhere on these paths makes this test fail.
 */
import { expect } from 'chai';
import { Types } from 'mongoose';
import { exampleRegistration } from '../src/openapi/examples.js';
import { User, type UserRecord } from '../src/models/user.js';
import { eventually, freshIp, login, post, recordingSms, sendOtp, verifyOtp } from './support/auth.js';
import { startApp, type TestServer } from './support/http.js';
import { spawnApp, type AppProcess } from './support/processes.js';

const ROUNDS = 50;
const PARALLEL = 5;

describe('no lost updates: requests and the worker write one user at once', function () {
  this.timeout(240_000);
  let srv: TestServer;
  let worker: AppProcess;

  before(async () => {
    srv = await startApp(
      { TRUST_PROXY: 'true', USERNAME_CHANGE_INTERVAL_DAYS: '0', OTP_RESEND_COOLDOWN_SECONDS: '0' },
      { sms: recordingSms() },
    );
    worker = spawnApp('worker');
    await worker.waitForLog((l) => l.msg === 'worker started');
  });
  after(async () => {
    await worker.stop();
    await srv.close();
  });

  /**
   * A registered user logs in again, and at once (while the worker applies that login's
   * `lastLogin`) requests deletion, updates the profile and changes the username.
   */
  async function round(i: number): Promise<{ userId: string; loginAt: Date; bio: string; username: string }> {
    const first = await login(srv);
    const tag = `${Date.now().toString(36)}${i}`;
    const registered = await srv.request(
      '/api/v1/users/me/complete-registration',
      post(first.accessToken, { ...exampleRegistration(), username: `lu_${tag}` }),
    );
    expect(registered.status, registered.text).to.equal(200);

    const ip = freshIp();
    const loginAt = new Date(); // the second login happens after this
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: first.phone.phoneNumber }, ip);
    expect(sent.status, sent.text).to.equal(201);
    const again = await verifyOtp(
      srv,
      { countryCode: '90', phoneNumber: first.phone.phoneNumber, code: sent.body.data.code },
      ip,
    );
    expect(again.status, again.text).to.equal(200);
    const token = again.body.data.accessToken as string;
    const bio = `bio of round ${i}`;
    const username = `lu2_${tag}`;
    const [deletion, profile, renamed] = await Promise.all([
      srv.request('/api/v1/users/me/account-deletion', post(token)),
      srv.request('/api/v1/users/me', post(token, { bio }, 'PATCH')),
      srv.request('/api/v1/users/username', post(token, { newUsername: username }, 'PATCH')),
    ]);
    expect(
      [deletion.status, profile.status, renamed.status],
      `${deletion.text} ${profile.text} ${renamed.text}`,
    ).to.deep.equal([200, 200, 200]);
    return { userId: again.body.data.user.id as string, loginAt, bio, username };
  }

  it(`keeps every change of ${ROUNDS} rounds of "log in, then at once request deletion, PATCH the profile, change the username" beside the worker's lastLogin`, async () => {
    const results: Awaited<ReturnType<typeof round>>[] = [];
    for (let start = 0; start < ROUNDS; start += PARALLEL) {
      results.push(
        ...(await Promise.all(Array.from({ length: Math.min(PARALLEL, ROUNDS - start) }, (_, k) => round(start + k)))),
      );
    }
    const ids = results.map((r) => new Types.ObjectId(r.userId));
    // The worker has applied every second login once each lastLogin is at or after it.
    const applied = async () =>
      (await User.find({ _id: { $in: ids } }, { lastLogin: 1 }).lean<UserRecord[]>()).filter(
        (u) => u.lastLogin && u.lastLogin >= results.find((r) => r.userId === u._id.toHexString())!.loginAt,
      ).length;
    await eventually(
      async () => (await applied()) === ROUNDS,
      60_000,
      async () => `lastLogin of every second login (${await applied()}/${ROUNDS})`,
    );
    const stored = new Map(
      (await User.find({ _id: { $in: ids } }).lean<UserRecord[]>()).map((u) => [u._id.toHexString(), u]),
    );
    const lost: string[] = [];
    for (const r of results) {
      const u = stored.get(r.userId)!;
      if (u.accountDeletionStatus !== 'pending') lost.push(`${r.userId}: deletion request`);
      if (u.bio !== r.bio) lost.push(`${r.userId}: bio`);
      if (u.username !== r.username) lost.push(`${r.userId}: username`);
      if (!u.lastLogin || u.lastLogin < r.loginAt) lost.push(`${r.userId}: lastLogin`);
    }
    console.log(`      ${ROUNDS} rounds, ${results.length * 4} concurrent changes, ${lost.length} lost`);
    expect(lost).to.deep.equal([]);
  });
});
