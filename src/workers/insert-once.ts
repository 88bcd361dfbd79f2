/**
 * The idempotence primitive of every processor: insert a record under a
 * deterministic `_id`; a duplicate key means a previous delivery did it.
 */
import type { Model } from 'mongoose';

/** @returns true when this call inserted the record, false when it existed. */
export async function insertOnce(model: Model<never>, doc: Record<string, unknown>): Promise<boolean> {
  try {
    await model.collection.insertOne(doc);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return false;
    throw err;
  }
}
