/**
 * The index-setup step (run by the `release` dyno and by the test setup):
 * creates every index that the registered models declare, one by one, so
 * that a server without TTL support (FerretDB v1 answers code 238) skips
 * only those, with a log line. Expiry is enforced in queries anyway.
 */
import type { Connection, mongo } from 'mongoose';
import type { Logger } from '../lib/logger.js';

export interface IndexReport {
  created: string[];
  skipped: string[];
}

const UNSUPPORTED = new Set([238 /* NotImplemented */, 115 /* CommandNotSupported */]);

function isUnsupported(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return (typeof e.code === 'number' && UNSUPPORTED.has(e.code)) || /not (yet )?(supported|implemented)/i.test(e.message ?? '');
}

export async function ensureIndexes(conn: Connection, logger: Logger): Promise<IndexReport> {
  const report: IndexReport = { created: [], skipped: [] };
  for (const model of Object.values(conn.models)) {
    await model.createCollection().catch((err: { code?: number }) => {
      if (err.code !== 48 /* NamespaceExists */) throw err;
    });
    for (const [fields, options] of model.schema.indexes()) {
      const label = `${model.collection.collectionName}.${Object.keys(fields).join('_')}`;
      try {
        // Mongoose's option type allows `unique: [true, message]`; we declare plain booleans only.
        await model.collection.createIndex(fields as mongo.IndexSpecification, options as mongo.CreateIndexesOptions);
        report.created.push(label);
      } catch (err) {
        if (options.expireAfterSeconds !== undefined && isUnsupported(err)) {
          logger.warn({ index: label, reason: (err as Error).message }, 'TTL index not supported by this server; skipped (expiry is still enforced in queries)');
          report.skipped.push(label);
          continue;
        }
        throw err;
      }
    }
  }
  logger.info({ created: report.created.length, skipped: report.skipped }, 'indexes ensured');
  return report;
}
