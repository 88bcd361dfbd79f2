import { expect } from 'chai';
import mongoose, { Schema } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../src/lib/logger.js';
import { ensureIndexes } from '../src/models/indexes.js';
import { captureLogs } from './support/logs.js';

describe('index setup', () => {
  it('creates every declared index and skips, with a log line, only TTL indexes the server refuses', async () => {
    // A connection object of its own (same client, same database) so the probe
    // model does not join the app's model registry.
    const own = mongoose.connection.useDb(mongoose.connection.name, { useCache: false });
    const name = `probe_${randomUUID().slice(0, 8)}`;
    const schema = new Schema({ key: { type: String, unique: true }, expiresAt: Date, a: Number, b: Number });
    schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    schema.index({ a: 1, b: -1 });
    const Probe = own.model(name, schema, name);
    const logs = captureLogs();
    try {
      const report = await ensureIndexes(own, createLogger({ level: 'info' }, logs.stream));
      const info = await own.db!.admin().command({ buildInfo: 1 });
      const ttlSupported = !('ferretdbVersion' in info);
      expect(report.created).to.include.members([`${name}.key`, `${name}.a_b`]);
      if (ttlSupported) {
        expect(report.created).to.include(`${name}.expiresAt`);
      } else {
        expect(report.skipped).to.deep.equal([`${name}.expiresAt`]);
        expect(logs.lines().some((l) => l.index === `${name}.expiresAt` && String(l.msg).includes('skipped'))).to.equal(true);
      }
      // The unique index is real: a duplicate insert is refused.
      await Probe.create({ key: 'k' });
      const err = await Probe.create({ key: 'k' }).catch((e: { code?: number }) => e);
      expect((err as { code?: number }).code).to.equal(11000);
      // Running it again is harmless (release runs on every deploy).
      await ensureIndexes(own, createLogger({ level: 'silent' }));
    } finally {
      await Probe.collection.drop().catch(() => undefined);
      own.deleteModel(name);
    }
  });
});
