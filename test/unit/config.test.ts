import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { ConfigError, configKeys, loadConfig } from '../../config/index.js';

const STRONG = 'x'.repeat(48);
const TWILIO = {
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'a'.repeat(32),
  TWILIO_MESSAGING_SERVICE_SID: `MG${'1'.repeat(32)}`,
  SMTP_URL: 'smtp://mailer:secret@smtp.example.net:587?requireTLS=true',
};

/** A developer who means to use remote services (see the remote-services test). */
const REMOTE_DEV = { NODE_ENV: 'development', ALLOW_REMOTE_DEV_SERVICES: 'true' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  expect.fail('loadConfig should have thrown');
}

describe('config', () => {
  it('refuses production without its required keys, naming every one', () => {
    const p = problems({ NODE_ENV: 'production' });
    for (const key of ['MONGODB_URI', 'REDIS_URL', 'JWT_SECRET', 'OTP_HMAC_SECRET']) {
      expect(
        p.some((m) => m.startsWith(`${key}:`)),
        key,
      ).to.equal(true);
    }
  });

  it('refuses short secrets, bad URLs and bad numbers, all at once', () => {
    const p = problems({
      NODE_ENV: 'production',
      MONGODB_URI: 'postgres://x',
      REDIS_URL: 'redis://h:6379',
      JWT_SECRET: 'short',
      OTP_HMAC_SECRET: STRONG,
      PORT: 'eighty',
    });
    expect(p).to.have.length(3);
    expect(p.join('\n'))
      .to.include('MONGODB_URI')
      .and.include('JWT_SECRET: JWT_SECRET must be at least 32 bytes')
      .and.include('PORT');
  });

  it('refuses the development secrets in production', () => {
    const dev = loadConfig({ NODE_ENV: 'development' });
    const p = problems({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/allmine',
      REDIS_URL: 'rediss://h:6380',
      JWT_SECRET: dev.jwt.secret,
      OTP_HMAC_SECRET: dev.otp.hmacSecret,
      ...TWILIO,
    });
    expect(p).to.deep.equal([
      'JWT_SECRET: JWT_SECRET must not be the development default',
      'OTP_HMAC_SECRET: OTP_HMAC_SECRET must not be the development default',
    ]);
  });

  it('accepts a complete production config and freezes it', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb+srv://u:p@cluster0.example.net/allmine',
      REDIS_URL: 'rediss://:pw@ec2.example.com:6380',
      REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
      JWT_SECRET: STRONG,
      OTP_HMAC_SECRET: STRONG + 'y',
      TRUST_PROXY: '1',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      ...TWILIO,
    });
    expect(c.sms.provider).to.equal('twilio');
    expect(c.otp.exposeCode).to.equal(false);
    expect(c.isProduction).to.equal(true);
    expect(c.http.trustProxy).to.equal(1);
    expect(c.http.corsOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
    expect(c.redis.tlsRejectUnauthorized).to.equal(false);
    expect(c.logLevel).to.equal('info');
    expect(Object.isFrozen(c.http)).to.equal(true);
  });

  it('gives development and test safe local defaults', () => {
    const dev = loadConfig({});
    expect(dev.nodeEnv).to.equal('development');
    expect(dev.mongodbUri).to.equal('mongodb://127.0.0.1:27017/allmine_dev');
    expect(dev.redis.url).to.equal('redis://127.0.0.1:6379');
    expect(dev.http.bodyLimitBytes).to.equal(16 * 1024);
    const test = loadConfig({ NODE_ENV: 'test' });
    expect(test.mongodbUri).to.match(/allmine_test$/);
    expect(test.logLevel).to.equal('silent');
  });

  it('takes a Redis Cluster as comma-separated seed nodes, and requires a hash-tagged queue prefix for it', () => {
    const c = loadConfig({
      ...REMOTE_DEV,
      REDIS_CLUSTER: 'true',
      REDIS_URL: 'rediss://:pw@n1.example:7000, rediss://:pw@n2.example:7001',
    });
    expect(c.redis).to.deep.include({
      cluster: true,
      url: 'rediss://:pw@n1.example:7000',
      urls: ['rediss://:pw@n1.example:7000', 'rediss://:pw@n2.example:7001'],
      queuePrefix: '{allmine}',
    });
    expect(loadConfig({}).redis).to.deep.include({ cluster: false, urls: ['redis://127.0.0.1:6379'] });
    expect(problems({ ...REMOTE_DEV, REDIS_URL: 'redis://a:1,redis://b:2' })).to.deep.equal([
      'REDIS_URL: several URLs need REDIS_CLUSTER=true',
    ]);
    expect(
      problems({ ...REMOTE_DEV, REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:1', QUEUE_PREFIX: 'allmine' }),
    ).to.deep.equal(['QUEUE_PREFIX: must contain a {hash tag} when REDIS_CLUSTER=true (e.g. {allmine})']);
    expect(problems({ ...REMOTE_DEV, REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:1/2' })).to.deep.equal([
      'REDIS_URL: a Redis Cluster has only database 0; drop the /<db> path',
    ]);
    expect(problems({ ...REMOTE_DEV, REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:1,rediss://b:2' })).to.deep.equal([
      'REDIS_URL: mixes redis:// and rediss:// URLs',
    ]);
    expect(problems({ REDIS_URL: 'http://a:1' })[0]).to.match(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('refuses code exposure, the console SMS provider and unapproved test numbers in production', () => {
    const base = {
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/a',
      REDIS_URL: 'redis://r',
      JWT_SECRET: STRONG,
      OTP_HMAC_SECRET: STRONG,
      SMTP_URL: TWILIO.SMTP_URL,
    };
    expect(problems({ ...base, ...TWILIO, OTP_EXPOSE_CODE: 'true' })).to.deep.equal([
      'OTP_EXPOSE_CODE: OTP_EXPOSE_CODE must be off in production',
    ]);
    expect(problems({ ...base, SMS_PROVIDER: 'console' })).to.deep.equal([
      'SMS_PROVIDER: console sends no SMS; not allowed in production',
    ]);
    expect(problems({ ...base, ...TWILIO, OTP_TEST_NUMBERS: '+905550000001=1234' })[0]).to.match(
      /^OTP_TEST_NUMBERS: test numbers are refused in production/,
    );
    const allowed = loadConfig({
      ...base,
      ...TWILIO,
      OTP_TEST_NUMBERS: '+905550000001=1234',
      OTP_TEST_NUMBERS_IN_PRODUCTION: 'true',
    });
    expect(allowed.otp.testNumbers).to.deep.equal({ '+905550000001': '1234' });
    expect(problems({ ...base, ...TWILIO, MAIL_TRANSPORT: 'json' })).to.deep.equal([
      'MAIL_TRANSPORT: json sends no mail; not allowed in production',
    ]);
    expect(problems({ ...base, ...TWILIO, SMTP_URL: '' })).to.deep.equal([
      'SMTP_URL: is required when MAIL_TRANSPORT=smtp',
    ]);
    expect(problems({ ...base, ...TWILIO, SMTP_URL: 'smtp://u:p@mail.example:587' })).to.deep.equal([
      'SMTP_URL: use smtps:// or add ?requireTLS=true in production',
    ]);
    expect(loadConfig({ ...base, ...TWILIO, SMTP_URL: 'smtps://u:p@mail.example:465' }).mail.smtpUrl).to.equal(
      'smtps://u:p@mail.example:465',
    );
    expect(problems({ ...base, SMS_PROVIDER: 'netgsm' })).to.deep.equal([
      'NETGSM_USERCODE: is required when SMS_PROVIDER=netgsm',
      'NETGSM_PASSWORD: is required when SMS_PROVIDER=netgsm',
      'NETGSM_HEADER: is required when SMS_PROVIDER=netgsm',
    ]);
  });

  it('parses test numbers and refuses malformed ones or codes of the wrong length', () => {
    expect(loadConfig({ OTP_TEST_NUMBERS: '+905550000001=1234, +15005550006=0000' }).otp.testNumbers).to.deep.equal({
      '+905550000001': '1234',
      '+15005550006': '0000',
    });
    expect(problems({ OTP_TEST_NUMBERS: '905550000001:1234' })[0]).to.match(/^OTP_TEST_NUMBERS:/);
    expect(problems({ OTP_TEST_NUMBERS: '+905550000001=123456' })[0]).to.match(/OTP_LENGTH/);
  });

  it('treats empty values as unset and rejects an unknown NODE_ENV', () => {
    expect(loadConfig({ NODE_ENV: 'test', PORT: '' }).port).to.equal(3000);
    expect(problems({ NODE_ENV: 'staging' })[0]).to.match(/^NODE_ENV:/);
  });

  it('parses TRUST_PROXY as boolean, hop count or address list', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).to.equal(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).to.deep.equal([
      'loopback',
      '10.0.0.0/8',
    ]);
  });

  it('refuses TRUST_PROXY=true in production (a client would pick its own IP); takes a hop count or addresses', () => {
    const production = {
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/a',
      REDIS_URL: 'rediss://r:6380',
      JWT_SECRET: STRONG,
      OTP_HMAC_SECRET: STRONG,
      ...TWILIO,
    };
    const refused = problems({ ...production, TRUST_PROXY: 'true' });
    expect(refused).to.have.length(1);
    expect(refused[0])
      .to.match(/^TRUST_PROXY: true is refused in production/)
      .and.include('hop count (Heroku: 1)');
    expect(loadConfig({ ...production, TRUST_PROXY: '1' }).http.trustProxy).to.equal(1);
    expect(loadConfig({ ...production, TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' }).http.trustProxy).to.deep.equal([
      '10.0.0.0/8',
      '192.168.1.1',
    ]);
    expect(loadConfig(production).http.trustProxy).to.equal(false);
  });

  it('refuses in production TRUST_PROXY lists that trust every address and hop counts above 10', () => {
    const production = {
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/a',
      REDIS_URL: 'rediss://r:6380',
      JWT_SECRET: STRONG,
      OTP_HMAC_SECRET: STRONG,
      ...TWILIO,
    };
    for (const value of [
      '0.0.0.0/1,128.0.0.0/1',
      '::/1, 8000::/1',
      '::ffff:0:0/96',
      '10.0.0.0/8, 0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/2',
    ]) {
      const refused = problems({ ...production, TRUST_PROXY: value });
      expect(refused, value).to.have.length(1);
      expect(refused[0], value).to.match(/^TRUST_PROXY: a list that trusts every address is refused in production/);
    }
    for (const value of ['0.0.0.0/0', '::/0', '*', '10.0.0.0/8,0.0.0.0/0.0.0.0']) {
      const refused = problems({ ...production, TRUST_PROXY: value });
      expect(refused, value).to.have.length(1);
      expect(refused[0], value).to.match(/^TRUST_PROXY: "[^"]+" would trust every address/);
      expect(problems({ TRUST_PROXY: value }), `${value} (development)`).to.have.length(1); // Express cannot read it
    }
    const hops = problems({ ...production, TRUST_PROXY: '99' });
    expect(hops).to.have.length(1);
    expect(hops[0]).to.match(/^TRUST_PROXY: a hop count above 10 is refused in production/);
    expect(loadConfig({ ...production, TRUST_PROXY: '10' }).http.trustProxy).to.equal(10);
    expect(loadConfig({ TRUST_PROXY: '99' }).http.trustProxy).to.equal(99); // development: as given
    // Wide but not everything: the operator's call.
    expect(
      loadConfig({ ...production, TRUST_PROXY: 'loopback, uniquelocal, 0.0.0.0/1' }).http.trustProxy,
    ).to.deep.equal(['loopback', 'uniquelocal', '0.0.0.0/1']);
    expect(
      loadConfig({ ...production, TRUST_PROXY: '10.0.0.0/255.0.0.0, fe80::/10, ::1' }).http.trustProxy,
    ).to.deep.equal(['10.0.0.0/255.0.0.0', 'fe80::/10', '::1']);
  });

  it('reports an unreadable TRUST_PROXY as a config error naming the key, in every environment', () => {
    for (const value of [
      'True',
      'yes',
      'FALSE',
      'loopback, 10.0.0.0/33',
      '10.0.0',
      'proxy.example.com',
      '1.2.3.4/255.0.255.0',
    ]) {
      for (const env of [{}, { NODE_ENV: 'test' }] as Record<string, string>[]) {
        const p = problems({ ...env, TRUST_PROXY: value });
        expect(p, value).to.have.length(1);
        expect(p[0], value).to.match(/^TRUST_PROXY: cannot read "/);
        expect(p[0], value).to.include('a hop count (Heroku: 1)');
      }
    }
    expect(problems({ TRUST_PROXY: 'True' })[0]).to.include('true and false are lower case');
    // Every value the config takes, Express takes too (no crash at `app.set('trust proxy')`).
    const express = createRequire(import.meta.url)('express') as () => { set(k: string, v: unknown): void };
    for (const value of [
      '1',
      'false',
      'true',
      'loopback, linklocal, uniquelocal',
      '10.0.0.0/255.0.0.0, 10.1.2.3/8, fe80::/10, ::1, ::ffff:10.0.0.1',
    ]) {
      expect(
        () => express().set('trust proxy', loadConfig({ TRUST_PROXY: value }).http.trustProxy),
        value,
      ).to.not.throw();
    }
  });

  it('refuses development/test defaults next to a MongoDB or Redis on another host, naming the keys', () => {
    const remote = {
      MONGODB_URI: 'mongodb+srv://app:pw@cluster0.example.net/allmine',
      REDIS_URL: 'rediss://:pw@ec2-1-2-3-4.compute.example.com:6380',
    };
    // NODE_ENV unset: the production shell that forgot it. Refused, even with the opt-out.
    for (const env of [remote, { ...remote, ALLOW_REMOTE_DEV_SERVICES: 'true' }]) {
      expect(problems(env)).to.deep.equal([
        'NODE_ENV: is not set, but MONGODB_URI, REDIS_URL point to non-local hosts; set NODE_ENV=production (or NODE_ENV=development with ALLOW_REMOTE_DEV_SERVICES=true to develop against remote services)',
      ]);
    }
    expect(problems({ MONGODB_URI: 'mongodb://db.internal:27017/app' })).to.deep.equal([
      'NODE_ENV: is not set, but MONGODB_URI points to a non-local host; set NODE_ENV=production (or NODE_ENV=development with ALLOW_REMOTE_DEV_SERVICES=true to develop against remote services)',
    ]);
    // One remote host in a replica set or a cluster seed list is enough.
    expect(
      problems({ NODE_ENV: 'test', MONGODB_URI: 'mongodb://127.0.0.1:27017,10.0.0.7:27017/app?replicaSet=rs0' }),
    ).to.deep.equal([
      'NODE_ENV: is test, but MONGODB_URI points to a non-local host; set NODE_ENV=production, or ALLOW_REMOTE_DEV_SERVICES=true to test against remote services',
    ]);
    expect(problems({ NODE_ENV: 'development', REDIS_URL: 'redis://[2001:db8::1]:6379' })[0]).to.match(
      /^NODE_ENV: is development, but REDIS_URL points to a non-local host/,
    );
    // The explicit opt-out, with NODE_ENV set on purpose.
    const dev = loadConfig({ ...remote, ...REMOTE_DEV });
    expect(dev).to.deep.include({ nodeEnv: 'development', mongodbUri: remote.MONGODB_URI });
    expect(dev.otp.exposeCode).to.equal(true);
    // Loopback in every spelling, and the defaults, are local.
    for (const local of [
      {},
      { MONGODB_URI: 'mongodb://localhost:27017/a', REDIS_URL: 'redis://127.0.0.1:6379' },
      { MONGODB_URI: 'mongodb://u:p@127.8.9.10:1,[::1]:2/a', REDIS_URL: 'redis://:pw@[::1]:6379/2' },
      { MONGODB_URI: 'mongodb://%2Ftmp%2Fmongodb-27017.sock/a' },
    ]) {
      expect(loadConfig(local).nodeEnv, JSON.stringify(local)).to.equal('development');
    }
    // Other problems are still reported alongside.
    expect(problems({ ...remote, PORT: 'eighty' })).to.have.length(2);
  });
});

describe('.env.example', () => {
  it('documents every configuration key, and only those', async () => {
    const text = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect([...documented].sort()).to.deep.equal([...configKeys()].sort());
  });
});
