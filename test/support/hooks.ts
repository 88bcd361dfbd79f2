/**
 * Root hooks: one mongoose connection and one Redis client for the whole run,
 * indexes created once (the same index-setup step as `release`), and every
 * handle closed at the end so mocha exits by itself (no `--exit`).
 */
import mongoose from 'mongoose';
import { closeQueues, createQueues, type Queues } from '../../src/jobs/queues.js';
import { connectMongo } from '../../src/lib/mongo.js';
import { createLogger } from '../../src/lib/logger.js';
import { closeRedis, createRedis, redisReady, type Redis } from '../../src/lib/redis.js';
import { registerModels } from '../../src/models/index.js';
import { ensureIndexes } from '../../src/models/indexes.js';
import { testConfig } from './env.js';

export const shared: { redis?: Redis; queues?: Queues } = {};

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    const config = testConfig();
    await connectMongo(config);
    registerModels();
    await ensureIndexes(mongoose.connection, createLogger({ level: 'silent' }));
    shared.redis = createRedis(config, 'client');
    await redisReady(shared.redis);
    shared.queues = createQueues(config, shared.redis);
  },
  async afterAll() {
    if (shared.queues) await closeQueues(shared.queues);
    if (shared.redis) await closeRedis(shared.redis);
    await mongoose.disconnect();
  },
};

export function redis(): Redis {
  if (!shared.redis) throw new Error('root hooks have not run');
  return shared.redis;
}

export function queues(): Queues {
  if (!shared.queues) throw new Error('root hooks have not run');
  return shared.queues;
}
