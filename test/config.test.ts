import { expect } from 'chai';
import { ConfigError, loadConfig } from '../config/index.js';

const STRONG = 'x'.repeat(48);

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
      expect(p.some((m) => m.startsWith(`${key}:`)), key).to.equal(true);
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
    expect(p.join('\n')).to.include('MONGODB_URI').and.include('JWT_SECRET: JWT_SECRET must be at least 32 bytes').and.include('PORT');
  });

  it('refuses the development secrets in production', () => {
    const dev = loadConfig({ NODE_ENV: 'development' });
    const p = problems({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/allmine',
      REDIS_URL: 'rediss://h:6380',
      JWT_SECRET: dev.jwt.secret,
      OTP_HMAC_SECRET: dev.otp.hmacSecret,
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
    });
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

  it('treats empty values as unset and rejects an unknown NODE_ENV', () => {
    expect(loadConfig({ NODE_ENV: 'test', PORT: '' }).port).to.equal(3000);
    expect(problems({ NODE_ENV: 'staging' })[0]).to.match(/^NODE_ENV:/);
  });

  it('parses TRUST_PROXY as boolean, hop count or address list', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).to.equal(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).to.deep.equal(['loopback', '10.0.0.0/8']);
  });
});
