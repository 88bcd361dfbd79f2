import { expect } from 'chai';
import mongoose, { Schema } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../src/lib/logger.js';
import { ensureIndexes } from '../src/models/indexes.js';
import { User } from '../src/models/user.js';
import { runMigrations } from '../src/models/migrations.js';
import { OtpCode } from '../src/models/otp-code.js';
import { SignupAttribution } from '../src/models/analytics.js';
import { AnalyticsRollup } from '../src/models/rollup.js';
import { rollupCellIdOf } from '../src/services/rollups.js';
import { captureLogs } from './support/logs.js';

describe('index setup and migrations (the release step)', () => {
  it('creates every declared index, TTL included, and replaces one whose definition changed', async () => {
    // A connection object of its own (same client, same database) so the probe
    // model does not join the app's model registry.
    const own = mongoose.connection.useDb(mongoose.connection.name, { useCache: false });
    const name = `probe_${randomUUID().slice(0, 8)}`;
    // An older deploy made `key` unique but not sparse.
    await own.db!.collection(name).createIndex({ key: 1 }, { unique: true });
    const schema = new Schema({
      key: { type: String, unique: true, sparse: true },
      expiresAt: Date,
      a: Number,
      b: Number,
    });
    schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    schema.index({ a: 1, b: -1 });
    const Probe = own.model(name, schema, name);
    const logs = captureLogs();
    try {
      const report = await ensureIndexes(own, createLogger({ level: 'info' }, logs.stream));
      expect([...report.created, ...report.replaced]).to.include.members([
        `${name}.key`,
        `${name}.a_b`,
        `${name}.expiresAt`,
      ]);
      expect(report.replaced).to.deep.equal([`${name}.key`]);
      expect(logs.lines().some((l) => l.index === `${name}.key` && String(l.msg).includes('replacing'))).to.equal(true);
      const indexes = await Probe.collection.indexes();
      expect(indexes.find((i) => i.name === 'key_1')).to.include({ unique: true, sparse: true });
      expect(indexes.find((i) => i.name === 'expiresAt_1')).to.include({ expireAfterSeconds: 0 });
      // The unique index is real: a duplicate insert is refused; documents without the key are not duplicates.
      await Probe.create({ key: 'k' });
      const err = await Probe.create({ key: 'k' }).catch((e: { code?: number }) => e);
      expect((err as { code?: number }).code).to.equal(11000);
      await Probe.create({ a: 1 });
      await Probe.create({ a: 2 });
      // Running it again is harmless (release runs on every deploy).
      const again = await ensureIndexes(own, createLogger({ level: 'silent' }));
      expect(again.replaced).to.deep.equal([]);
    } finally {
      await Probe.collection.drop().catch(() => undefined);
      own.deleteModel(name);
    }
  });

  it('removes the placeholder identity keys of older deploys (none:<id>, released:<id>), and only those', async () => {
    const [a, b, c] = [new mongoose.Types.ObjectId(), new mongoose.Types.ObjectId(), new mongoose.Types.ObjectId()];
    const real = `+90532${String(Date.now()).slice(-7)}`;
    await User.collection.insertMany([
      { _id: a, phoneKey: `none:${a.toHexString()}`, emailKey: `released:${a.toHexString()}` },
      { _id: b, phoneKey: real, emailKey: `none:${b.toHexString()}` },
      { _id: c, emailKey: `released:${c.toHexString()}` },
    ]);
    try {
      await runMigrations(createLogger({ level: 'silent' }));
      const [ua, ub, uc] = await Promise.all([a, b, c].map((_id) => User.collection.findOne({ _id })));
      expect(ua).to.not.have.any.keys('phoneKey', 'emailKey');
      expect(ub).to.include({ phoneKey: real }).and.not.have.property('emailKey');
      expect(uc).to.not.have.any.keys('phoneKey', 'emailKey');
      await runMigrations(createLogger({ level: 'silent' })); // idempotent
      expect(await User.collection.findOne({ _id: b })).to.include({ phoneKey: real });
    } finally {
      await User.collection.deleteMany({ _id: { $in: [a, b, c] } });
    }
  });

  it('deletes codes of the old shape (one document per code sent) and drops otp_attempts, keeping the new ones', async () => {
    const db = mongoose.connection.db!;
    const subject = `phone:+90532${String(Date.now()).slice(-7)}`;
    const oldId = new mongoose.Types.ObjectId();
    await OtpCode.collection.insertOne({
      _id: oldId as never,
      subject,
      codeHash: 'x',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    await OtpCode.collection.insertOne({
      _id: subject as never,
      codeId: new mongoose.Types.ObjectId(),
      codeHash: 'y',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
      attempts: 0,
    });
    await db.collection('otp_attempts').insertOne({ _id: 'a' as never, codeId: oldId });
    try {
      await runMigrations(createLogger({ level: 'silent' }));
      expect(await OtpCode.collection.countDocuments({ _id: oldId as never })).to.equal(0);
      expect(await OtpCode.collection.countDocuments({ _id: subject as never })).to.equal(1);
      expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).to.not.include(
        'otp_attempts',
      );
      await runMigrations(createLogger({ level: 'silent' })); // idempotent
    } finally {
      await OtpCode.collection.deleteMany({ _id: { $in: [oldId, subject] as never[] } });
    }
  });

  it('moves rollups of the old shape (a document per kind and day, a log in the facts) to cells, rebuilt from the facts', async () => {
    const day = `20${String(70 + (Date.now() % 29))}-0${1 + (Date.now() % 9)}-1${Date.now() % 10}`;
    const userId = new mongoose.Types.ObjectId();
    const signedUpAt = new Date(`${day}T10:00:00Z`);
    await AnalyticsRollup.collection.insertOne({
      _id: `signup|${day}` as never,
      kind: 'signup',
      day,
      v: 1,
      t: { 'old|c|m||': { signups: 1 } },
      s: {},
    });
    await SignupAttribution.collection.insertOne({
      _id: userId,
      source: 'old',
      campaign: 'c',
      medium: 'm',
      country: null,
      platform: null,
      day,
      signedUpAt,
      recordedAt: signedUpAt,
      rollupId: `signup|${day}`,
      seq: 0,
      rollupInc: [{ p: 't.old|c|m||.signups', n: 1 }],
    });
    await SignupAttribution.collection.createIndex({ rollupId: 1, seq: 1 }, { unique: true, sparse: true });
    await runMigrations(createLogger({ level: 'silent' }));
    expect(await AnalyticsRollup.collection.countDocuments({ _id: `signup|${day}` as never })).to.equal(0);
    const fact = await SignupAttribution.collection.findOne({ _id: userId });
    expect(fact).to.not.have.any.keys('rollupId', 'seq', 'rollupInc');
    expect((await SignupAttribution.collection.indexes()).map((i) => i.name)).to.not.include('rollupId_1_seq_1');
    const cell = await AnalyticsRollup.collection.findOne({
      _id: rollupCellIdOf('signup', 'marketing', day, 'old|c|m') as never,
    });
    expect(cell?.c).to.deep.equal({ signups: 1 });
    expect(cell?.q).to.deep.equal({ '40': { signups: 1 } });
    await runMigrations(createLogger({ level: 'silent' })); // idempotent: no old document left, nothing rebuilt
    expect(
      (
        await AnalyticsRollup.collection.findOne({
          _id: rollupCellIdOf('signup', 'marketing', day, 'old|c|m') as never,
        })
      )?.c,
    ).to.deep.equal({ signups: 1 });
  });
});
