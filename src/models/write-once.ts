/**
 * The one concurrency primitive the app builds on besides atomic update
 * operators: an insert into a unique index (`_id` or a unique key) succeeds
 * for exactly one writer; every other gets a duplicate-key error (11000).
 * Used for idempotent job effects (a deterministic `_id` per effect) and for
 * claims (a username, a refresh token's first use, an account's finalization).
 */
import type { mongo } from 'mongoose';
import { Batcher, ItemFailure, JOB_WRITES } from '../lib/batcher.js';

/** A duplicate-key error (E11000) of an insert, an update or an upsert, or of a bulk write made only of them. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] } | null;
  if (e?.code !== 11000) return false;
  return (e.writeErrors ?? []).every((w) => w.code === 11000);
}

/**
 * Runs an upsert, and once more when it met a duplicate key: of two first upserts of one key at once, one
 * inserts and the other, run again, updates.
 */
export async function upsertRetried<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return upsert();
  }
}

interface Insert {
  collection: mongo.Collection<mongo.Document>;
  doc: mongo.Document;
}

/** The write errors of a failed bulk write, by the index of their operation; undefined when it failed whole. */
export function writeErrorsOf(err: unknown): Map<number, { code?: number }> | undefined {
  const w = (err as { writeErrors?: unknown } | null)?.writeErrors;
  const list = (Array.isArray(w) ? w : w ? [w] : []) as { index?: number; code?: number }[];
  if (list.length === 0 || list.some((e) => typeof e.index !== 'number')) return undefined;
  return new Map(list.map((e) => [e.index!, e]));
}

/**
 * Inserts per collection, batched (src/lib/batcher.ts, `JOB_WRITES`): one `insertMany` in flight per collection,
 * unordered, so each document succeeds or meets its duplicate key on its own, as `insertOne` would.
 */
const inserts = new Batcher<Insert, boolean>(async (_name, items) => {
  const { collection } = items[0]!;
  try {
    if (items.length === 1) await collection.insertOne(items[0]!.doc);
    else
      await collection.insertMany(
        items.map((i) => i.doc),
        { ordered: false },
      );
    return items.map(() => true);
  } catch (err) {
    if (items.length === 1) {
      if (isDuplicateKey(err)) return [false];
      throw err;
    }
    const failed = writeErrorsOf(err);
    if (!failed) throw err;
    return items.map((_, i) => {
      const e = failed.get(i);
      if (!e) return true;
      return e.code === 11000 ? false : new ItemFailure(err);
    });
  }
}, JOB_WRITES);

/**
 * Inserts `doc` (batched with the other inserts into its collection under way).
 * @returns true when this call inserted it, false when a document with its key existed.
 */
export async function insertOnce<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  doc: mongo.OptionalUnlessRequiredId<T>,
): Promise<boolean> {
  return inserts.add(`${collection.dbName}.${collection.collectionName}`, {
    collection: collection as unknown as mongo.Collection<mongo.Document>,
    doc: doc as mongo.Document,
  });
}
