/**
 * Data migrations the release step runs before the index setup. Each is
 * idempotent (a second run changes nothing) and uses update operators only.
 */
import type { Logger } from '../lib/logger.js';
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

export async function runMigrations(logger: Logger): Promise<void> {
  await dropPlaceholderIdentityKeys(logger);
}
