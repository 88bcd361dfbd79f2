import { expect } from 'chai';
import mongoose from 'mongoose';
import { createRedis } from '../src/lib/redis.js';
import { testConfig } from './support/env.js';
import { startApp } from './support/http.js';

describe('health and readiness', () => {
  it('GET /readyz is 200 when MongoDB and Redis answer', async () => {
    const srv = await startApp();
    try {
      const res = await srv.request('/readyz');
      expect(res.status).to.equal(200);
      expect(res.body.data).to.deep.equal({ status: 'ready', checks: { mongodb: 'up', redis: 'up' } });
    } finally {
      await srv.close();
    }
  });

  it('GET /readyz is 503 in the envelope when Redis does not answer, while /healthz stays 200', async () => {
    // A port nothing listens on: the client fails fast instead of queueing.
    const deadRedis = createRedis(testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), 'client');
    deadRedis.on('error', () => undefined);
    const srv = await startApp({ READINESS_TIMEOUT_MS: '300' }, { redis: deadRedis });
    try {
      const res = await srv.request('/readyz');
      expect(res.status).to.equal(503);
      expect(res.body).to.include({ isSuccess: false, statusCode: 503, data: null });
      expect(res.body.errors).to.deep.equal(['Service unavailable', 'redis: not reachable']);
      expect(res.body.details.checks).to.deep.equal({ mongodb: 'up', redis: 'down' });
      expect((await srv.request('/healthz')).status).to.equal(200);
    } finally {
      await srv.close();
      deadRedis.disconnect();
    }
  });

  it('GET /readyz is 503 when MongoDB is not connected', async () => {
    const idle = mongoose.createConnection(); // never opened
    const srv = await startApp({ READINESS_TIMEOUT_MS: '300' }, { mongo: idle });
    try {
      const res = await srv.request('/readyz');
      expect(res.status).to.equal(503);
      expect(res.body.errors).to.deep.equal(['Service unavailable', 'mongodb: not reachable']);
    } finally {
      await srv.close();
      await idle.close();
    }
  });
});
