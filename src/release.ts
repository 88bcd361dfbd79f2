/**
 * The `release` phase (Procfile): migrate data and create indexes before new code serves traffic.
 */
import mongoose from 'mongoose';
import { loadConfig } from '../config/index.js';
import { bootOrExit } from './lib/lifecycle.js';
import { createLogger } from './lib/logger.js';
import { connectMongo, disconnectMongo } from './lib/mongo.js';
import { registerModels } from './models/index.js';
import { ensureIndexes } from './models/indexes.js';
import { runMigrations } from './models/migrations.js';

const config = await bootOrExit(() => loadConfig());
const logger = createLogger({ level: config.logLevel === 'silent' ? 'silent' : 'info', name: 'release' });
try {
  await connectMongo(config);
  registerModels();
  await runMigrations(logger);
  await ensureIndexes(mongoose.connection, logger);
  await disconnectMongo();
} catch (err) {
  logger.fatal({ err }, 'release failed');
  logger.flush();
  process.exitCode = 1;
  await disconnectMongo().catch(() => undefined);
}
