/**
 * Reads and updates of single documents by `_id`, gathered across the worker's jobs (src/lib/batcher.ts,
 * `JOB_WRITES`): one `find` with `$in`, or one unordered `bulkWrite`, per collection and batch, instead of a
 * round trip per job. An update is still its own atomic update operator on its one document: batching changes
 * how many travel together, not what each does.
 */
import type { mongo } from 'mongoose';
import { Batcher, ItemFailure, JOB_WRITES } from '../lib/batcher.js';
import { writeErrorsOf } from './write-once.js';

type Doc = mongo.Document;
type Id = mongo.ObjectId;

interface Read {
  collection: mongo.Collection<Doc>;
  id: Id;
  projection: Doc | undefined;
}

const reads = new Batcher<Read, Doc | null>(async (_key, items) => {
  const { collection, projection } = items[0]!;
  if (items.length === 1) return [await collection.findOne({ _id: items[0]!.id }, { projection })];
  const docs = await collection.find({ _id: { $in: items.map((i) => i.id) } }, { projection }).toArray();
  const byId = new Map(docs.map((d) => [String(d._id), d]));
  return items.map((i) => byId.get(String(i.id)) ?? null);
}, JOB_WRITES);

/** The document with `_id` `id` (with `projection`), or null; read with the others asked for meanwhile. */
export function findById<T extends Doc>(
  collection: mongo.Collection<T>,
  id: Id,
  projection?: Record<string, 1>,
): Promise<mongo.WithId<T> | null> {
  const key = `${collection.dbName}.${collection.collectionName}${projection ? JSON.stringify(projection) : ''}`;
  return reads.add(key, {
    collection: collection as unknown as mongo.Collection<Doc>,
    id,
    projection,
  }) as Promise<mongo.WithId<T> | null>;
}

interface Update {
  collection: mongo.Collection<Doc>;
  id: Id;
  update: mongo.UpdateFilter<Doc>;
}

const updates = new Batcher<Update, void>(async (_key, items) => {
  const { collection } = items[0]!;
  if (items.length === 1) {
    await collection.updateOne({ _id: items[0]!.id }, items[0]!.update);
    return;
  }
  try {
    await collection.bulkWrite(
      items.map((i) => ({ updateOne: { filter: { _id: i.id }, update: i.update } })),
      { ordered: false },
    );
  } catch (err) {
    const failed = writeErrorsOf(err);
    if (!failed) throw err;
    return items.map((_, i) => (failed.has(i) ? new ItemFailure(err) : undefined));
  }
}, JOB_WRITES);

/** Applies `update` (update operators) to the document with `_id` `id`, in one bulk write with the others. */
export function updateById<T extends Doc>(
  collection: mongo.Collection<T>,
  id: Id,
  update: mongo.UpdateFilter<T>,
): Promise<void> {
  return updates.add(`${collection.dbName}.${collection.collectionName}`, {
    collection: collection as unknown as mongo.Collection<Doc>,
    id,
    update: update as mongo.UpdateFilter<Doc>,
  });
}
