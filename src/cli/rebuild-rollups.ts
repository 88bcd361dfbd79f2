/**
 * Recomputes the reports' rollups from the facts the worker recorded (src/services/rollups.ts):
 *
 *   npm run rebuild-rollups [-- signup|completion|return|funnel …]
 *
 * Run it with the workers stopped, after a restore, a bug fix in the rollup code, or to count facts written
 * before the rollups existed. It prints, per kind, the facts read and the rollup documents written.
 */
import { loadConfig } from '../../config/index.js';
import { bootOrExit } from '../lib/lifecycle.js';
import { connectMongo, disconnectMongo } from '../lib/mongo.js';
import { registerModels } from '../models/index.js';
import { rebuildRollups, ROLLUP_KINDS, type RollupKind } from '../services/rollups.js';

const kinds = process.argv.slice(2);
const unknown = kinds.filter((k) => !(ROLLUP_KINDS as readonly string[]).includes(k));
if (unknown.length) {
  process.stderr.write(`usage: rebuild-rollups [${ROLLUP_KINDS.join('|')} …] (unknown: ${unknown.join(', ')})\n`);
  process.exit(2);
}

const config = await bootOrExit(() => loadConfig());
registerModels();
await connectMongo(config);
try {
  const started = Date.now();
  const result = await rebuildRollups(kinds.length ? (kinds as RollupKind[]) : ROLLUP_KINDS);
  for (const [kind, r] of Object.entries(result))
    process.stdout.write(`${kind}: ${r.facts} fact(s), ${r.rollups} rollup document(s)\n`);
  process.stdout.write(`rebuilt in ${Date.now() - started} ms\n`);
} finally {
  await disconnectMongo();
}
