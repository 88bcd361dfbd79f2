/**
 * ioredis connections from one URL. `rediss://` (Heroku Redis) turns on TLS;
 * Heroku's certificates are self-signed, so verification is configurable.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../../config/index.js';

export type RedisRole =
  /** Ordinary commands from the web process: fail fast when Redis is down. */
  | 'client'
  /** BullMQ workers block on Redis and must retry forever (BullMQ requires `maxRetriesPerRequest: null`). */
  | 'bullmq';

export function redisOptions(config: Config, role: RedisRole): RedisOptions {
  const url = new URL(config.redis.url);
  const options: RedisOptions = {
    connectionName: `allmine-${role}`,
    lazyConnect: false,
    enableReadyCheck: true,
    // Reconnect with a capped backoff; never give up for good.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    maxRetriesPerRequest: role === 'bullmq' ? null : 2,
    enableOfflineQueue: role === 'bullmq',
  };
  if (url.protocol === 'rediss:') {
    options.tls = { rejectUnauthorized: config.redis.tlsRejectUnauthorized };
  }
  return options;
}

export function createRedis(config: Config, role: RedisRole): Redis {
  return new Redis(config.redis.url, redisOptions(config, role));
}

export type { Redis };

/** Resolves once the client is ready (or already is); rejects after `timeoutMs`. */
export function redisReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** QUIT when connected (pending replies are delivered first), else just drop the socket. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit();
  } else {
    redis.disconnect();
  }
}
