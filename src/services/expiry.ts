/**
 * Deleting expired documents, as MongoDB's TTL indexes do. The TTL indexes the
 * models declare are the one source: for each, the documents whose date field
 * is older than `now - expireAfterSeconds` are deleted. On MongoDB the server
 * does this too (the sweep then finds little); the embedded server accepts TTL
 * indexes but never deletes, so without the sweep the code, outbox and
 * refresh-token collections would only grow.
 */
import type { Connection } from 'mongoose';

export interface SweepReport {
  /** Deleted documents by collection (only collections with deletions). */
  deleted: Record<string, number>;
}

export async function sweepExpired(conn: Connection, now: Date): Promise<SweepReport> {
  const deleted: Record<string, number> = {};
  for (const model of Object.values(conn.models)) {
    for (const [fields, options] of model.schema.indexes()) {
      const ttl = options.expireAfterSeconds;
      if (typeof ttl !== 'number') continue;
      const [field] = Object.keys(fields);
      const res = await model.collection.deleteMany({ [field!]: { $lt: new Date(now.getTime() - ttl * 1000) } });
      if (res.deletedCount > 0)
        deleted[model.collection.collectionName] = (deleted[model.collection.collectionName] ?? 0) + res.deletedCount;
    }
  }
  return { deleted };
}
