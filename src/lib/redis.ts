/**
 * ioredis connections from the config: one Redis server (`REDIS_URL`), or a
 * Redis Cluster (`REDIS_CLUSTER=true`, `REDIS_URL` = one or more seed nodes;
 * the client discovers the others and follows MOVED/ASK redirections).
 * `rediss://` (Heroku Redis, managed clusters) turns on TLS; Heroku's
 * certificates are self-signed, so verification is configurable.
 *
 * Everything we keep in Redis works on a cluster: rate-limit counters are
 * one key per Lua call, and every BullMQ key starts with the hash-tagged
 * `QUEUE_PREFIX` (`{allmine}`), so each queue's multi-key scripts stay in one slot.
 */
import { Cluster, Redis as Standalone, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../../config/index.js';

/** A connection to one server or to a cluster; both take the same commands. */
export type Redis = Standalone | Cluster;

export type RedisRole =
  /** Ordinary commands from the web process: fail fast when Redis is down. */
  | 'client'
  /** BullMQ workers block on Redis and must retry forever (BullMQ requires `maxRetriesPerRequest: null`). */
  | 'bullmq';

/** Reconnect with a capped backoff; never give up for good. */
const backoff = (times: number) => Math.min(times * 200, 2000);

/** Options of each connection (to the one server, or to every node of a cluster). */
export function redisOptions(config: Config, role: RedisRole): RedisOptions {
  const url = new URL(config.redis.url);
  const options: RedisOptions = {
    connectionName: `allmine-${role}`,
    enableReadyCheck: true,
    maxRetriesPerRequest: role === 'bullmq' ? null : 2,
  };
  if (url.protocol === 'rediss:') {
    options.tls = { rejectUnauthorized: config.redis.tlsRejectUnauthorized };
  }
  return options;
}

function clusterOptions(config: Config, role: RedisRole): ClusterOptions {
  // Seed URLs carry the credentials; every node of a cluster shares them.
  const seed = new URL(config.redis.url);
  const redisOpts: ClusterOptions['redisOptions'] = {
    ...redisOptions(config, role),
    ...(seed.username && { username: decodeURIComponent(seed.username) }),
    ...(seed.password && { password: decodeURIComponent(seed.password) }),
  };
  return {
    redisOptions: redisOpts,
    clusterRetryStrategy: backoff,
    enableOfflineQueue: role === 'bullmq',
    enableReadyCheck: true,
    // Reads go to masters: rate-limit counters and queue state must be read where they are written.
    scaleReads: 'master',
    // Managed TLS clusters announce IPs while their certificates name hosts: keep the names we were given.
    ...(seed.protocol === 'rediss:' && { dnsLookup: (address, done) => done(null, address) }),
  };
}

export function createRedis(config: Config, role: RedisRole): Redis {
  if (config.redis.cluster) {
    const nodes = config.redis.urls.map((u) => {
      const { hostname, port } = new URL(u);
      return { host: hostname, port: Number(port || 6379) };
    });
    return new Cluster(nodes, clusterOptions(config, role));
  }
  return new Standalone(config.redis.url, {
    ...redisOptions(config, role),
    lazyConnect: false,
    retryStrategy: backoff,
    enableOfflineQueue: role === 'bullmq',
  });
}

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

/** QUIT when connected (pending replies are delivered first), else just drop the socket(s). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit();
  } else {
    redis.disconnect();
  }
}

/**
 * Every key matching `pattern`, by SCAN on the one server or on each master of
 * a cluster (a key-less command like KEYS would only see one node there).
 * For tools and tests; never on a request path.
 */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}
