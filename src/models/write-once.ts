/**
 * The one concurrency primitive the app builds on besides atomic update
 * operators: an insert into a unique index (`_id` or a unique key) succeeds
 * for exactly one writer; every other gets a duplicate-key error (11000).
 * Used for idempotent job effects (a deterministic `_id` per effect) and for
 * claims (a username, a refresh token's first use, an account's finalization).
 */
import type { mongo } from 'mongoose';

/** A duplicate-key error (E11000) of an insert, an update or an upsert, or of a bulk write made only of them. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] } | null;
  if (e?.code !== 11000) return false;
  return (e.writeErrors ?? []).every((w) => w.code === 11000);
}

/** Inserts `doc`. @returns true when this call inserted it, false when a document with its key existed. */
export async function insertOnce<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  doc: mongo.OptionalUnlessRequiredId<T>,
): Promise<boolean> {
  try {
    await collection.insertOne(doc);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
