/**
 * Smoke test of the MongoDB-wire server itself (shared/services.md): the
 * behaviours the app relies on, checked directly with the driver, so that a
 * change of server (FerretDB version, real MongoDB) that breaks an
 * assumption fails here, loudly, before it fails somewhere subtle.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { randomUUID } from 'node:crypto';

type Db = NonNullable<typeof mongoose.connection.db>;

describe('MongoDB-wire server smoke test', () => {
  let db: Db;
  let isFerret = false;
  const names: string[] = [];
  const track = (suffix: string) => {
    const name = `smoke_${suffix}_${randomUUID().slice(0, 8)}`;
    names.push(name);
    return name;
  };
  const coll = (suffix: string) => db.collection(track(suffix));

  before(async () => {
    db = mongoose.connection.db!;
    const info = await db.admin().command({ buildInfo: 1 });
    isFerret = 'ferretdbVersion' in info;
    console.log(`      server: ${isFerret ? 'FerretDB' : 'MongoDB'} (buildInfo version ${String(info.version)})`);
  });
  after(async () => {
    for (const n of names) await db.dropCollection(n).catch(() => undefined);
  });

  it('round-trips documents with dates, arrays and nested objects', async () => {
    const c = db.collection<{ _id: string; at: Date; tags: string[]; nested: { n: number } }>(track('crud'));
    const at = new Date('2026-01-15T10:30:00.000Z');
    await c.insertOne({ _id: 'a', at, tags: ['x', 'y'], nested: { n: 1 } });
    const doc = await c.findOne({ _id: 'a' });
    expect(doc).to.deep.equal({ _id: 'a', at, tags: ['x', 'y'], nested: { n: 1 } });
    await c.updateOne({ _id: 'a' }, { $set: { 'nested.n': 2 }, $push: { tags: 'z' } });
    expect(await c.findOne({ _id: 'a' })).to.deep.include({ tags: ['x', 'y', 'z'], nested: { n: 2 } });
  });

  it('rejects a duplicate insert into a unique index with code 11000, also under 20 concurrent inserts', async () => {
    const c = coll('unique');
    await c.createIndex({ key: 1 }, { unique: true });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.insertOne({ key: 'same', i })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: number }).code] : []));
    expect(ok).to.have.length(1);
    expect(codes).to.have.length(19);
    expect(new Set(codes)).to.deep.equal(new Set([11000]));
    expect(await c.countDocuments({ key: 'same' })).to.equal(1);
  });

  it('supports compound unique indexes', async () => {
    const c = coll('compound');
    await c.createIndex({ a: 1, b: 1 }, { unique: true });
    await c.insertOne({ a: 1, b: 1 });
    await c.insertOne({ a: 1, b: 2 });
    const err = await c.insertOne({ a: 1, b: 1 }).catch((e: { code?: number }) => e);
    expect((err as { code?: number }).code).to.equal(11000);
  });

  it('upserts with findOneAndUpdate and returns the document after', async () => {
    const c = coll('upsert');
    const first = await c.findOneAndUpdate(
      { k: 'u1' },
      { $setOnInsert: { createdAt: new Date(0) }, $set: { v: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(first).to.include({ k: 'u1', v: 1 });
    const second = await c.findOneAndUpdate({ k: 'u1' }, { $set: { v: 2 }, $setOnInsert: { createdAt: new Date() } }, { upsert: true, returnDocument: 'after' });
    expect(second?.v).to.equal(2);
    expect(second?.createdAt).to.deep.equal(new Date(0));
    expect(await c.countDocuments({ k: 'u1' })).to.equal(1);
  });

  it('answers a TTL index as the index setup expects (FerretDB v1: code 238; MongoDB: created)', async () => {
    const c = coll('ttl');
    const res = await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }).then(
      () => 'created',
      (e: { code?: number }) => e.code,
    );
    expect(res).to.equal(isFerret ? 238 : 'created');
  });

  it('runs the aggregation stages the reports use ($match, $group with one $sum, $sort)', async () => {
    const c = coll('agg');
    await c.insertMany([
      { s: 'a', n: 1 },
      { s: 'a', n: 2 },
      { s: 'b', n: 5 },
    ]);
    const sum = (acc: unknown) => c.aggregate([{ $match: { n: { $gte: 1 } } }, { $group: { _id: '$s', x: acc } }, { $sort: { _id: 1 } }]).toArray();
    expect(await sum({ $sum: '$n' })).to.deep.equal([
      { _id: 'a', x: 3 },
      { _id: 'b', x: 5 },
    ]);
    expect(await sum({ $sum: 1 })).to.deep.equal([
      { _id: 'a', x: 2 },
      { _id: 'b', x: 1 },
    ]);
  });

  it('computes only the first accumulator of a $group on FerretDB v1 (so the app uses one per $group)', async () => {
    const c = coll('agg2');
    await c.insertMany([
      { s: 'a', n: 1 },
      { s: 'a', n: 2 },
    ]);
    const [row] = await c.aggregate([{ $group: { _id: '$s', total: { $sum: '$n' }, count: { $sum: 1 } } }]).toArray();
    // On MongoDB both are right. FerretDB v1.24 answers 0 for every accumulator after the first;
    // if this starts passing with count 2 there, the server changed and this note can go.
    expect(row).to.deep.equal({ _id: 'a', total: 3, count: isFerret ? 0 : 2 });
  });

  it('applies 20 concurrent $inc updates (all on MongoDB; FerretDB v1 may lose some, so the app never relies on it)', async () => {
    const c = coll('inc');
    await c.insertOne({ _id: 'n' as never, n: 0 });
    await Promise.all(Array.from({ length: 20 }, () => c.updateOne({ _id: 'n' as never }, { $inc: { n: 1 } })));
    const { n } = (await c.findOne({ _id: 'n' as never })) as unknown as { n: number };
    console.log(`      concurrent $inc: ${n}/20 applied`);
    if (isFerret) expect(n).to.be.within(1, 20);
    else expect(n).to.equal(20);
  });
});
