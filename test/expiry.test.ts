/**
 * The expiry sweep: what MongoDB's TTL indexes delete, the worker deletes too
 * (the embedded server never expires anything), so the login path's
 * collections stay bounded on every server.
 */
import { expect } from 'chai';
import { Types } from 'mongoose';
import { EXPIRY_SWEEP_SCHEDULER_ID } from '../src/jobs/expiry-sweep.js';
import { createLogger } from '../src/lib/logger.js';
import { OtpCode } from '../src/models/otp-code.js';
import { Outbox } from '../src/models/outbox.js';
import { RefreshToken, RefreshTokenUse } from '../src/models/refresh-token.js';
import { Session } from '../src/models/session.js';
import { processExpirySweep } from '../src/workers/expiry-sweep.js';
import type { JobContext } from '../src/workers/context.js';
import { testConfig } from './support/env.js';
import { queues } from './support/hooks.js';
import { spawnApp } from './support/processes.js';

describe('the expiry sweep', () => {
  it('deletes expired codes, refresh tokens and their uses, old outbox events and long-ended sessions, and nothing live', async () => {
    const now = new Date();
    const ago = (s: number) => new Date(now.getTime() - s * 1000);
    const tag = new Types.ObjectId().toHexString();
    const subject = (k: string) => `phone:+90532${tag.slice(-5)}${k}`;
    // Codes are kept an hour past expiry (their TTL index says 3600 s).
    await OtpCode.collection.insertMany([
      {
        _id: subject('1') as never,
        codeId: new Types.ObjectId(),
        codeHash: 'x',
        createdAt: ago(4000),
        expiresAt: ago(3700),
        attempts: 0,
      },
      {
        _id: subject('2') as never,
        codeId: new Types.ObjectId(),
        codeHash: 'x',
        createdAt: ago(600),
        expiresAt: ago(300),
        attempts: 0,
      },
      {
        _id: subject('3') as never,
        codeId: new Types.ObjectId(),
        codeHash: 'x',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 180_000),
        attempts: 0,
      },
    ]);
    await RefreshTokenUse.collection.insertMany([
      { _id: `${tag}-u1` as never, at: ago(100), expiresAt: ago(1) },
      { _id: `${tag}-u2` as never, at: ago(100), expiresAt: new Date(now.getTime() + 60_000) },
    ]);
    const sid = new Types.ObjectId();
    await RefreshToken.collection.insertMany([
      { _id: `${tag}-t1` as never, sessionId: sid, userId: sid, parentId: null, issuedAt: ago(100), expiresAt: ago(1) },
      {
        _id: `${tag}-t2` as never,
        sessionId: sid,
        userId: sid,
        parentId: null,
        issuedAt: ago(100),
        expiresAt: new Date(now.getTime() + 60_000),
      },
    ]);
    await Outbox.collection.insertMany([
      { _id: `${tag}-o1` as never, events: [], createdAt: ago(8 * 86400), expiresAt: ago(86400) },
      { _id: `${tag}-o2` as never, events: [], createdAt: ago(60), expiresAt: new Date(now.getTime() + 86_400_000) },
    ]);
    const [s1, s2] = [new Types.ObjectId(), new Types.ObjectId()];
    const session = (_id: Types.ObjectId, expiresAt: Date) => ({
      _id,
      userId: sid,
      createdAt: ago(40 * 86400),
      lastUsedAt: ago(40 * 86400),
      expiresAt,
      revokedAt: null,
    });
    await Session.collection.insertMany([session(s1, ago(8 * 86400)), session(s2, ago(86400))]); // ended sessions are listed a week

    const ctx = {
      log: createLogger({ level: 'silent' }),
      config: testConfig(),
      now: () => now,
      queues: queues(),
    } as JobContext;
    const report = await processExpirySweep({} as never, ctx);
    expect(report.deleted).to.include({
      otp_codes: 1,
      refresh_token_uses: 1,
      refresh_tokens: 1,
      outbox: 1,
      sessions: 1,
    });
    expect(
      (await OtpCode.find({ _id: { $in: ['1', '2', '3'].map(subject) } }).lean()).map((c) => c._id).sort(),
    ).to.deep.equal([subject('2'), subject('3')]);
    expect(await RefreshTokenUse.countDocuments({ _id: { $in: [`${tag}-u1`, `${tag}-u2`] } })).to.equal(1);
    expect(await RefreshToken.countDocuments({ _id: { $in: [`${tag}-t1`, `${tag}-t2`] } })).to.equal(1);
    expect((await Outbox.find({ _id: { $in: [`${tag}-o1`, `${tag}-o2`] } }).lean()).map((o) => o._id)).to.deep.equal([
      `${tag}-o2`,
    ]);
    expect((await Session.find({ _id: { $in: [s1, s2] } }).lean()).map((s) => s._id.toHexString())).to.deep.equal([
      s2.toHexString(),
    ]);

    // A second run finds nothing more of these.
    const again = await processExpirySweep({} as never, ctx);
    expect(again.deleted).to.deep.equal({});
    await Promise.all([
      OtpCode.deleteMany({ _id: { $in: ['2', '3'].map(subject) } }),
      RefreshTokenUse.deleteOne({ _id: `${tag}-u2` }),
      RefreshToken.deleteOne({ _id: `${tag}-t2` }),
      Outbox.deleteOne({ _id: `${tag}-o2` }),
      Session.deleteOne({ _id: s2 }),
    ]);
  });

  it('is scheduled by the worker at start', async () => {
    const worker = spawnApp('worker', { EXPIRY_SWEEP_EVERY_MS: '3600000' });
    try {
      await worker.waitForLog((l) => l.msg === 'worker started');
      const scheduler = await queues()['expiry-sweep'].getJobScheduler(EXPIRY_SWEEP_SCHEDULER_ID);
      expect(scheduler?.every).to.equal(3_600_000);
    } finally {
      await worker.stop();
    }
  });
});
