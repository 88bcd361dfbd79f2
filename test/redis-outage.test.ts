import { expect } from 'chai';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { createRedis } from '../src/lib/redis.js';
import { Outbox } from '../src/models/outbox.js';
import { User } from '../src/models/user.js';
import { eventually, freshIp, freshPhone, recordingSms, sendOtp, verifyOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { startApp } from './support/http.js';

describe('when Redis does not answer', () => {
  it('send-otp and verify-otp still work (limits fall back to memory), and the events wait in the outbox', async () => {
    const config = testConfig({ REDIS_URL: 'redis://127.0.0.1:1' });
    const dead = createRedis(config, 'client');
    dead.on('error', () => undefined);
    const deadQueues = createQueues(config, dead);
    for (const q of Object.values(deadQueues)) q.on('error', () => undefined);
    const srv = await startApp(
      { TRUST_PROXY: 'true', OTP_VERIFY_PER_IP_HOUR: '2' },
      { redis: dead, queues: deadQueues, sms: recordingSms() },
    );
    try {
      const phone = freshPhone();
      const ip = freshIp();
      const started = Date.now();
      const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      expect(sent.status, sent.text).to.equal(201);
      const res = await verifyOtp(
        srv,
        { countryCode: '90', phoneNumber: phone.phoneNumber, code: sent.body.data.code },
        ip,
      );
      expect(res.status, res.text).to.equal(200);
      expect(Date.now() - started).to.be.below(5000);
      expect(await User.countDocuments({ phoneKey: phone.e164 })).to.equal(1);
      // Both requests' events wait in the outbox for the worker's relay.
      const userId = res.body.data.user.id as string;
      await eventually(
        async () => srv.logs.lines().filter((l) => l.msg === 'enqueue deferred to the outbox relay').length === 2,
        5000,
        'fast path gave up',
      );
      const pending = await Outbox.find({ 'events.data.userId': userId }).lean();
      expect(pending).to.have.length(1); // one document per request
      expect(pending[0]!.events.map((e) => e.queue).sort()).to.deep.equal([
        'funnel',
        'last-login',
        'signup-attribution',
      ]);

      // The in-memory fallback still limits: the third verify from this IP is refused.
      await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: '0000' }, ip);
      const limited = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: '0000' }, ip);
      expect(limited.status).to.equal(429);
    } finally {
      await srv.close();
      await closeQueues(deadQueues).catch(() => undefined);
      dead.disconnect();
    }
  });
});
