import { expect } from 'chai';
import { Cluster, Redis as Standalone } from 'ioredis';
import { loadConfig } from '../config/index.js';
import { closeRedis, createRedis, scanKeys } from '../src/lib/redis.js';
import { freshIp, freshPhone, sendOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { queues, redis } from './support/hooks.js';
import { startApp } from './support/http.js';

describe('Redis client', () => {
  it('builds a cluster client from seed URLs: credentials and TLS for every node, host names kept for TLS', () => {
    const config = loadConfig({
      REDIS_CLUSTER: 'true',
      REDIS_URL: 'rediss://app:s%40cret@127.0.0.1:1, rediss://app:s%40cret@127.0.0.1:2',
      REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
    });
    const client = createRedis(config, 'bullmq');
    client.on('error', () => undefined);
    try {
      expect(client).to.be.instanceOf(Cluster);
      const { options } = client as Cluster;
      expect(options.redisOptions).to.deep.include({
        username: 'app',
        password: 's@cret',
        maxRetriesPerRequest: null,
        tls: { rejectUnauthorized: false },
      });
      expect(options.enableOfflineQueue).to.equal(true);
      expect(options.scaleReads).to.equal('master');
      expect(options.dnsLookup).to.be.a('function');
    } finally {
      client.disconnect();
    }
  });

  it('builds a fail-fast standalone client from one URL', async () => {
    const client = createRedis(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), 'client');
    client.on('error', () => undefined);
    try {
      expect(client).to.be.instanceOf(Standalone);
      expect((client as Standalone).options).to.include({ enableOfflineQueue: false, maxRetriesPerRequest: 2 });
    } finally {
      await closeRedis(client);
    }
  });

  // `npm run test:cluster` runs the whole suite against a local 3-master cluster; this checks that it really did.
  describe('in a run against a Redis Cluster (REDIS_CLUSTER=true)', function () {
    before(function () {
      if (!testConfig().redis.cluster) this.skip(); // runs in `npm run test:cluster` (and CI)
    });

    it('talks to 3 masters: every queue key is in the prefix hash slot, rate-limit keys are spread over the nodes', async () => {
      const cluster = redis() as Cluster;
      expect(cluster).to.be.instanceOf(Cluster);
      const masters = cluster.nodes('master');
      expect(masters).to.have.length(3);

      const srv = await startApp({ TRUST_PROXY: 'true' });
      try {
        for (let i = 0; i < 12; i++) {
          const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: freshPhone().phoneNumber }, freshIp());
          expect(sent.status, sent.text).to.equal(201);
        }
      } finally {
        await srv.close();
      }
      // A job parked for an hour (so no worker takes it), removed again at the end.
      const probe = await queues()['last-login'].add(
        'probe',
        {},
        { jobId: `cluster-probe-${Date.now()}`, delay: 3_600_000 },
      );
      const perNode = async (pattern: string) =>
        Promise.all(masters.map(async (node) => (await scanKeys(node, pattern)).length));
      let queueKeys: number[];
      try {
        queueKeys = await perNode(`${testConfig().redis.queuePrefix}:*`);
      } finally {
        await probe.remove();
      }
      expect(
        queueKeys.filter((n) => n > 0),
        `masters holding queue keys: ${queueKeys}`,
      ).to.have.length(1);
      const limitKeys = await perNode('rl:*');
      expect(limitKeys.filter((n) => n > 0).length, `rate-limit keys per master: ${limitKeys}`).to.be.at.least(2);
    });
  });
});
