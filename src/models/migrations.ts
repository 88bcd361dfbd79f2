/**
 * Data migrations the release step runs before the index setup. Each is
 * idempotent (a second run changes nothing) and uses update operators only.
 */
import type { Logger } from '../lib/logger.js';
import { rebuildRollups } from '../services/rollups.js';
import { FunnelEvent, RegistrationCompletion, SignupAttribution } from './analytics.js';
import { OtpCode } from './otp-code.js';
import { AnalyticsRollup, RetentionReturn } from './rollup.js';
import { User } from './user.js';

/**
 * Users without a phone or e-mail identity used to hold placeholder keys (`none:<id>`, and
 * `released:<id>` after a finalized deletion) because the unique indexes were not sparse. Now such a
 * user has no key at all.
 */
async function dropPlaceholderIdentityKeys(logger: Logger): Promise<void> {
  for (const key of ['phoneKey', 'emailKey'] as const) {
    const res = await User.collection.updateMany({ [key]: { $regex: '^(none|released):' } }, { $unset: { [key]: '' } });
    if (res.modifiedCount > 0) logger.info({ key, users: res.modifiedCount }, 'placeholder identity keys removed');
  }
}

/**
 * Codes used to be one document per code sent (`subject` field, an ObjectId `_id`) with their attempts in
 * `otp_attempts`; now a subject has one document, `_id` = subject. Codes live minutes: the old ones are
 * deleted (a login under way asks for a new code), and `otp_attempts` and the old lookup index go.
 */
async function dropPerCodeDocuments(logger: Logger): Promise<void> {
  const res = await OtpCode.collection.deleteMany({ subject: { $exists: true } });
  if (res.deletedCount > 0) logger.info({ codes: res.deletedCount }, 'codes of the old shape deleted');
  const db = OtpCode.db.db!;
  // Filtered in JavaScript: the embedded server ignores listCollections' filter.
  if ((await db.listCollections({}, { nameOnly: true }).toArray()).some((c) => c.name === 'otp_attempts')) {
    await db.dropCollection('otp_attempts');
    logger.info('otp_attempts dropped');
  }
  const old = (await OtpCode.collection.indexes()).find((ix) => ix.name === 'subject_1_createdAt_-1__id_-1');
  if (old) await OtpCode.collection.dropIndex(old.name!);
}

/**
 * Rollups used to be one document per kind and UTC day (with `v`, the facts applied), the facts carrying their
 * place in its log (`rollupId`, `seq`, `rollupInc`, a unique `{rollupId, seq}` index). Now they are a document
 * per cell (src/services/rollups.ts): the old documents, fields and indexes go, and the rollups are rebuilt
 * from the facts (once: a second release finds no old document).
 */
async function rollupCells(logger: Logger): Promise<void> {
  const old = await AnalyticsRollup.collection.deleteMany({ v: { $exists: true } });
  if (old.deletedCount === 0) return;
  for (const model of [SignupAttribution, RegistrationCompletion, RetentionReturn, FunnelEvent]) {
    await model.collection.updateMany(
      { rollupId: { $exists: true } },
      { $unset: { rollupId: '', seq: '', rollupInc: '' } },
    );
    const ix = (await model.collection.indexes()).find((i) => i.name === 'rollupId_1_seq_1');
    if (ix) await model.collection.dropIndex(ix.name!);
  }
  const rebuilt = await rebuildRollups();
  logger.info({ oldRollups: old.deletedCount, rebuilt }, 'rollups moved to one document per cell');
}

export async function runMigrations(logger: Logger): Promise<void> {
  await dropPlaceholderIdentityKeys(logger);
  await dropPerCodeDocuments(logger);
  await rollupCells(logger);
}
