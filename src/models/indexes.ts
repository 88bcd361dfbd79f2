/**
 * The index-setup step (run by the `release` dyno and by the test setup):
 * creates every index the registered models declare. An index whose
 * definition changed (an existing index of the same name with other options,
 * e.g. a unique index that became sparse) is dropped and created anew, with a
 * log line, so a deploy brings the indexes to what the code declares.
 */
import type { Connection, mongo } from 'mongoose';
import type { Logger } from '../lib/logger.js';

export interface IndexReport {
  created: string[];
  replaced: string[];
}

/** IndexOptionsConflict, IndexKeySpecsConflict: the name exists with another definition. */
const CONFLICT = new Set([85, 86]);

function isConflict(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return (
    (typeof e.code === 'number' && CONFLICT.has(e.code)) ||
    /already exists with (different|a different)/i.test(e.message ?? '')
  );
}

export async function ensureIndexes(conn: Connection, logger: Logger): Promise<IndexReport> {
  const report: IndexReport = { created: [], replaced: [] };
  for (const model of Object.values(conn.models)) {
    await model.createCollection().catch((err: { code?: number }) => {
      if (err.code !== 48 /* NamespaceExists */) throw err;
    });
    for (const [fields, options] of model.schema.indexes()) {
      const label = `${model.collection.collectionName}.${Object.keys(fields).join('_')}`;
      // Mongoose's option type allows `unique: [true, message]`; we declare plain booleans only.
      const create = () =>
        model.collection.createIndex(fields as mongo.IndexSpecification, options as mongo.CreateIndexesOptions);
      try {
        await create();
        report.created.push(label);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const name = Object.entries(fields)
          .map(([k, v]) => `${k}_${String(v)}`)
          .join('_');
        logger.warn({ index: label, name }, 'index definition changed; replacing it');
        await model.collection.dropIndex(name);
        await create();
        report.replaced.push(label);
      }
    }
  }
  logger.info({ created: report.created.length, replaced: report.replaced }, 'indexes ensured');
  return report;
}
