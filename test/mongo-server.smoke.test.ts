/**
 * Smoke test of the MongoDB-wire server itself: every server behaviour the
 * app relies on, checked directly with the driver, so that a change of
 * server (the embedded mongo-java-server, a driver upgrade, a real MongoDB or
 * Atlas through MONGODB_URI) that breaks an assumption fails here, loudly,
 * before it fails somewhere subtle. docs/architecture.md lists them.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { randomUUID } from 'node:crypto';
import { findById, updateById } from '../src/models/by-id.js';
import { insertOnce } from '../src/models/write-once.js';

type Db = NonNullable<typeof mongoose.connection.db>;

describe('MongoDB-wire server smoke test', () => {
  let db: Db;
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
    console.log(`      server: buildInfo version ${String(info.version)}`);
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

  it('reports each duplicate of an unordered insertMany by its index, inserting the rest', async () => {
    const c = coll('unordered');
    await c.insertOne({ _id: 'b' as never });
    const err = await c
      .insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }, { _id: 'a' }] as never[], { ordered: false })
      .then(
        () => undefined,
        (e: unknown) => e as { writeErrors?: { index: number; code: number }[] },
      );
    expect(err?.writeErrors?.map((w) => [w.index, w.code])).to.deep.equal([
      [1, 11000],
      [3, 11000],
    ]);
    expect((await c.find().toArray()).map((d) => d._id).sort()).to.deep.equal(['a', 'b', 'c']);
  });

  it('insertOnce, batched: of 60 concurrent inserts of 20 keys exactly one per key succeeds', async () => {
    const c = coll('once');
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => insertOnce(c, { _id: `k${i % 20}` as never, i })),
    );
    const winners = new Map<string, number>();
    results.forEach((won, i) => won && winners.set(`k${i % 20}`, (winners.get(`k${i % 20}`) ?? 0) + 1));
    expect([...winners.values()]).to.deep.equal(Array(20).fill(1));
    expect(await c.countDocuments()).to.equal(20);
    const stored = await c.find().toArray();
    // Each stored document is the one whose insert reported success.
    for (const d of stored) expect(results[d.i as number], String(d._id)).to.equal(true);
  });

  it('findById and updateById, batched: each concurrent read gets its own document or null, every concurrent $inc applies, in fewer writes than updates, and a failing update fails alone', async () => {
    const c = coll('byid');
    const ids = Array.from({ length: 20 }, () => new mongoose.Types.ObjectId());
    await c.insertMany(ids.map((_id, n) => ({ _id, n, count: 0, label: `doc ${n}` })));
    const missing = new mongoose.Types.ObjectId();
    const read = await Promise.all([...ids, missing].map((id) => findById(c, id, { n: 1 })));
    expect(read.slice(0, 20)).to.deep.equal(ids.map((_id, n) => ({ _id, n })));
    expect(read[20]).to.equal(null);

    let writes = 0;
    const real = c.bulkWrite.bind(c);
    c.bulkWrite = ((...a: Parameters<typeof real>) => (writes++, real(...a))) as typeof c.bulkWrite;
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 200 }, (_, i) => updateById(c, ids[i % 20]!, { $inc: { count: 1 } })),
      updateById(c, ids[0]!, { $inc: { label: 1 } }), // $inc of a string: refused by the server
    ]);
    c.bulkWrite = real;
    expect(outcomes.slice(0, 200).every((o) => o.status === 'fulfilled')).to.equal(true);
    expect(outcomes[200]!.status).to.equal('rejected');
    expect((await c.find().toArray()).map((d) => d.count)).to.deep.equal(Array(20).fill(10));
    expect(writes, 'bulk writes for 201 updates').to.be.within(1, 50);
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
    const second = await c.findOneAndUpdate(
      { k: 'u1' },
      { $set: { v: 2 }, $setOnInsert: { createdAt: new Date() } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(second?.v).to.equal(2);
    expect(second?.createdAt).to.deep.equal(new Date(0));
    expect(await c.countDocuments({ k: 'u1' })).to.equal(1);
  });

  it('accepts TTL indexes (the index setup creates them everywhere)', async () => {
    const c = coll('ttl');
    await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    expect((await c.indexes()).find((ix) => ix.name === 'expiresAt_1')).to.include({ expireAfterSeconds: 0 });
  });

  it('keeps documents without the key out of a sparse unique index, and frees a key that is $unset', async () => {
    const c = coll('sparse');
    await c.createIndex({ key: 1 }, { unique: true, sparse: true });
    await c.insertMany([{ n: 1 }, { n: 2 }, { key: 'a' }]); // two without the key: no conflict
    expect((await c.insertOne({ key: 'a' }).catch((e: { code?: number }) => e)) as { code?: number }).to.include({
      code: 11000,
    });
    await c.insertOne({ key: 'b' });
    const clash = await c.updateOne({ key: 'b' }, { $set: { key: 'a' } }).catch((e: { code?: number }) => e);
    expect(clash).to.include({ code: 11000 }); // through an update too
    await c.updateOne({ key: 'a' }, { $unset: { key: '' } });
    await c.insertOne({ key: 'a' }); // free again
    expect(await c.countDocuments({ key: 'a' })).to.equal(1);
  });

  it('rejects a duplicate through an upsert with 11000', async () => {
    const c = coll('upsert_dup');
    await c.createIndex({ key: 1 }, { unique: true });
    await c.insertOne({ _id: 'x' as never, key: 'k' });
    const err = await c
      .updateOne({ _id: 'y' as never }, { $set: { key: 'k' } }, { upsert: true })
      .catch((e: { code?: number }) => e);
    expect(err).to.include({ code: 11000 });
  });

  it('runs the aggregation stages the reports use ($match, $group with several accumulators, $sort)', async () => {
    const c = coll('agg');
    await c.insertMany([
      { s: 'a', n: 1 },
      { s: 'a', n: 2 },
      { s: 'b', n: 5 },
    ]);
    const rows = await c
      .aggregate([
        { $match: { n: { $gte: 1 } } },
        { $group: { _id: '$s', total: { $sum: '$n' }, count: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(rows).to.deep.equal([
      { _id: 'a', total: 3, count: 2 },
      { _id: 'b', total: 5, count: 1 },
    ]);
  });

  it('applies 200 concurrent $inc updates of one document, every one', async () => {
    const c = coll('inc');
    await c.insertOne({ _id: 'n' as never, n: 0 });
    await Promise.all(Array.from({ length: 200 }, () => c.updateOne({ _id: 'n' as never }, { $inc: { n: 1 } })));
    expect(await c.findOne({ _id: 'n' as never })).to.deep.equal({ _id: 'n', n: 200 });
  });

  it('keeps both of two concurrent $set updates of different fields of one document (no lost update)', async () => {
    const c = coll('sets');
    await c.insertOne({ _id: 'u' as never });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => c.updateOne({ _id: 'u' as never }, { $set: { [`f${i}`]: i } })),
    );
    const doc = (await c.findOne({ _id: 'u' as never })) as Record<string, unknown>;
    expect(Object.keys(doc)).to.have.length(101);
  });

  it('gives a conditional findOneAndUpdate (e.g. a deletion request under its status) exactly the allowed number of winners', async () => {
    const c = coll('claims');
    await c.insertOne({ _id: 's' as never, attempts: 0 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        c.findOneAndUpdate(
          { _id: 's' as never, attempts: { $lt: 5 } },
          { $inc: { attempts: 1 } },
          { returnDocument: 'after' },
        ),
      ),
    );
    // Exactly 5 winners, and the count stops at 5. (The 'after' documents the server returns are read after
    // its update, so under concurrency they may show later increments: CI once saw [3, 4, 5, 5, 5]. The app
    // takes nothing from them but the code's hash and a hint of the attempts left.)
    expect(results.filter(Boolean)).to.have.length(5);
    expect((await c.findOne({ _id: 's' as never }))!.attempts).to.equal(5);
    const deletes = await Promise.all(
      Array.from({ length: 20 }, () => c.deleteOne({ _id: 's' as never, attempts: 5 })),
    );
    expect(deletes.filter((d) => d.deletedCount === 1)).to.have.length(1);
  });

  it("serves the code attempt's compare-and-set through a unique index that includes _id: one winner per value read, the index kept current by $inc and replaceOne", async () => {
    const c = db.collection<{ _id: string; codeId: string; attempts: number }>(track('cas'));
    await c.createIndex({ _id: 1, codeId: 1 }, { unique: true });
    await c.createIndex({ _id: 1, codeId: 1, attempts: 1 }, { unique: true });
    await c.insertOne({ _id: 's', codeId: 'c1', attempts: 0 });
    // 50 attempts that all read attempts = 0: exactly one is counted.
    const first = await Promise.all(
      Array.from({ length: 50 }, () =>
        c.findOneAndUpdate(
          { _id: 's', codeId: 'c1', attempts: 0 },
          { $inc: { attempts: 1 } },
          { returnDocument: 'after' },
        ),
      ),
    );
    expect(first.filter(Boolean).map((d) => d!.attempts)).to.deep.equal([1]);
    // The index follows the $inc: the old value finds nothing, the new one finds the document.
    expect(await c.findOne({ _id: 's', codeId: 'c1', attempts: 0 })).to.equal(null);
    expect(await c.findOne({ _id: 's', codeId: 'c1', attempts: 1 })).to.deep.equal({
      _id: 's',
      codeId: 'c1',
      attempts: 1,
    });
    // A replacement (a new code sent) leaves nothing findable under the old codeId.
    await c.replaceOne({ _id: 's' }, { codeId: 'c2', attempts: 0 }, { upsert: true });
    expect(await c.findOne({ _id: 's', codeId: 'c1' })).to.equal(null);
    expect(await c.findOneAndUpdate({ _id: 's', codeId: 'c1', attempts: 1 }, { $inc: { attempts: 1 } })).to.equal(null);
    // Claims under { _id, codeId }: one winner.
    const claims = await Promise.all(Array.from({ length: 20 }, () => c.deleteOne({ _id: 's', codeId: 'c2' })));
    expect(claims.filter((d) => d.deletedCount === 1)).to.have.length(1);
  });

  it('applies $max (lastLogin never moves back) and $pull of matching array elements (withdrawing an outbox event)', async () => {
    const c = coll('ops');
    const [t1, t2] = [new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z')];
    await c.insertOne({ _id: 'd' as never, at: t2, events: [{ jobId: 'a' }, { jobId: 'b' }] });
    await c.updateOne({ _id: 'd' as never }, { $max: { at: t1 } });
    await c.updateOne({ _id: 'd' as never }, { $pull: { events: { jobId: { $in: ['a'] } } } as never });
    expect(await c.findOne({ _id: 'd' as never })).to.deep.equal({ _id: 'd', at: t2, events: [{ jobId: 'b' }] });
  });

  it('finds documents by a field of an element of an array of subdocuments (outbox queries in tests)', async () => {
    const c = coll('arr');
    await c.insertMany([
      { events: [{ data: { userId: 'u1' } }, { data: {} }] },
      { events: [{ data: { userId: 'u2' } }] },
    ]);
    expect(await c.countDocuments({ 'events.data.userId': { $in: ['u1', 'x'] } })).to.equal(1);
  });
});
