import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import { sha256Hex } from '../src/lib/crypto.js';
import { createLogger } from '../src/lib/logger.js';
import { authenticate } from '../src/middleware/authenticate.js';
import { errorHandler } from '../src/middleware/errors.js';
import { requestContext } from '../src/middleware/request-context.js';
import { RefreshToken } from '../src/models/refresh-token.js';
import { Session } from '../src/models/session.js';
import { SessionGuard } from '../src/services/session-guard.js';
import { signAccessToken } from '../src/services/tokens.js';
import { bearer, eventually, freshIp, freshPhone, login, post, sendOtp, verifyOtp } from './support/auth.js';
import { testConfig } from './support/env.js';
import { json, listen, startApp, type TestServer } from './support/http.js';
import { captureLogs } from './support/logs.js';

const refresh = (srv: TestServer, refreshToken: string) => srv.request('/api/v1/auth/refresh', json({ refreshToken }));

describe('refresh (contract §2.4)', () => {
  let now = Date.now();
  let srv: TestServer;
  before(async () => {
    srv = await startApp(
      { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', SESSION_CACHE_TTL_MS: '0' },
      { clock: () => new Date(now) },
    );
  });
  after(() => srv.close());

  it('returns a new pair that works, and stores only hashes', async () => {
    const s = await login(srv);
    const res = await refresh(srv, s.refreshToken);
    expect(res.status, res.text).to.equal(200);
    expect(Object.keys(res.body.data)).to.deep.equal(['accessToken', 'refreshToken', 'expiresIn', 'refreshExpiresIn']);
    expect(res.body.data).to.include({ expiresIn: 3600, refreshExpiresIn: 2592000 });
    expect(res.body.data.refreshToken).to.not.equal(s.refreshToken);
    const claims = jwt.decode(res.body.data.accessToken) as jwt.JwtPayload;
    expect(claims).to.include({ sub: s.userId, sid: s.sid });
    const stored = await RefreshToken.findById(sha256Hex(res.body.data.refreshToken)).lean();
    expect(stored?.parentId).to.equal(sha256Hex(s.refreshToken));
    expect((await srv.request('/api/v1/auth/me', bearer(res.body.data.accessToken))).status).to.equal(200);
    expect((await refresh(srv, res.body.data.refreshToken)).status).to.equal(200);
  });

  it('gives 10 concurrent refreshes with one token each a working pair; the user stays signed in', async () => {
    const s = await login(srv);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(srv, s.refreshToken)));
    expect(results.map((r) => r.status)).to.deep.equal(Array(10).fill(200));
    const tokens = results.map((r) => r.body.data.refreshToken as string);
    expect(new Set(tokens).size).to.equal(10);
    // Every returned refresh token works next time, and every access token works now.
    const next = await Promise.all(tokens.map((t) => refresh(srv, t)));
    expect(next.map((r) => r.status)).to.deep.equal(Array(10).fill(200));
    for (const r of results)
      expect((await srv.request('/api/v1/auth/me', bearer(r.body.data.accessToken))).status).to.equal(200);
    expect((await Session.findById(s.sid).lean())?.revokedAt).to.equal(null);
  });

  it('treats reuse after the grace window as theft: the session and every token of it are revoked', async () => {
    const s = await login(srv);
    const first = await refresh(srv, s.refreshToken);
    expect(first.status).to.equal(200);
    now += 15_000; // the old token comes back 15 s later
    const reuse = await refresh(srv, s.refreshToken);
    expect(reuse.status).to.equal(401);
    expect(reuse.body).to.include({ isSuccess: false, data: null, errorCode: 'REFRESH_TOKEN_REUSED' });
    expect(reuse.body.errors[0]).to.equal('Authentication required');
    expect((await Session.findById(s.sid).lean())?.revokedReason).to.equal('refresh-token-reuse');
    // The thief's and the owner's newer tokens are dead too.
    const newer = await refresh(srv, first.body.data.refreshToken);
    expect(newer.status).to.equal(401);
    expect(newer.body.errorCode).to.equal('REFRESH_TOKEN_INVALID');
    const me = await srv.request('/api/v1/auth/me', bearer(first.body.data.accessToken));
    expect(me.status).to.equal(401);
    expect(me.body.errorCode).to.equal('SESSION_REVOKED');
  });

  it('refuses an unknown, malformed or expired refresh token with 401', async () => {
    expect((await refresh(srv, 'not-a-token')).body.errorCode).to.equal('REFRESH_TOKEN_INVALID');
    const bad = await srv.request('/api/v1/auth/refresh', json({ refreshToken: 12 }));
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.deep.equal(['Validation failed', 'refreshToken: must be a string']);
    const s = await login(srv);
    now += 2592000 * 1000 + 1000;
    const expired = await refresh(srv, s.refreshToken);
    expect(expired.status).to.equal(401);
    now = Date.now();
  });
});

describe('logout, revoke-token, sessions, me (contract §3)', () => {
  let srv: TestServer;
  let other: TestServer; // a second web dyno with its own session cache
  before(async () => {
    srv = await startApp({ TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0' });
    other = await startApp({ TRUST_PROXY: 'true' });
  });
  after(async () => {
    await srv.close();
    await other.close();
  });

  it('logout ends every session: refresh tokens fail at once, access tokens within 5 s on every dyno', async () => {
    const phone = freshPhone();
    const a = await login(srv, phone);
    const b = await login(srv, phone);
    const c = await login(srv, phone);
    // The other dyno has seen (and cached) session b as live.
    expect((await other.request('/api/v1/auth/me', bearer(b.accessToken))).status).to.equal(200);

    const started = Date.now();
    const out = await srv.request('/api/v1/auth/logout', post(a.accessToken));
    expect(out.status, out.text).to.equal(200);
    expect(out.body.data).to.deep.equal({ revokedSessions: 3 });
    for (const s of [a, b, c]) expect((await refresh(srv, s.refreshToken)).status).to.equal(401);
    expect((await srv.request('/api/v1/auth/me', bearer(c.accessToken))).status).to.equal(401); // this dyno: at once
    await eventually(
      async () => (await other.request('/api/v1/auth/me', bearer(b.accessToken))).status === 401,
      6000,
      'other dyno refuses',
    );
    expect(Date.now() - started).to.be.below(5000);
    expect(await Session.countDocuments({ userId: new Types.ObjectId(a.userId), revokedReason: 'logout' })).to.equal(3);
  });

  it('lists sessions with their devices, marks the current one, and shrinks after revoke-token', async () => {
    const phone = freshPhone();
    const ios = await login(srv, phone, {
      'x-platform': 'mobile_ios',
      'x-device-id': 'iphone-15',
      'x-app-version': '3.0.0',
      'user-agent': 'Allmine iOS',
    });
    const android = await login(srv, phone, {
      'x-platform': 'mobile_android',
      'x-device-id': 'pixel-8',
      'x-app-version': '3.0.1',
    });
    const list = await srv.request('/api/v1/auth/sessions', bearer(android.accessToken));
    expect(list.status).to.equal(200);
    expect(list.body.data).to.have.length(2);
    const [first, second] = list.body.data;
    expect(Object.keys(first)).to.deep.equal([
      'id',
      'createdAt',
      'lastUsedAt',
      'expiresAt',
      'ip',
      'userAgent',
      'platform',
      'deviceId',
      'appVersion',
      'current',
    ]);
    const byDevice = Object.fromEntries(list.body.data.map((s: { deviceId: string }) => [s.deviceId, s]));
    expect(byDevice['pixel-8']).to.include({
      id: android.sid,
      platform: 'mobile_android',
      appVersion: '3.0.1',
      current: true,
    });
    expect(byDevice['iphone-15']).to.include({
      id: ios.sid,
      platform: 'mobile_ios',
      appVersion: '3.0.0',
      userAgent: 'Allmine iOS',
      current: false,
    });
    expect([first.id, second.id]).to.include.members([ios.sid, android.sid]);

    const revoke = await srv.request(
      '/api/v1/auth/revoke-token',
      post(android.accessToken, { refreshToken: ios.refreshToken }),
    );
    expect(revoke.status, revoke.text).to.equal(200);
    expect(revoke.body.data).to.deep.equal({ revoked: true });
    const after = await srv.request('/api/v1/auth/sessions', bearer(android.accessToken));
    expect(after.body.data.map((s: { id: string }) => s.id)).to.deep.equal([android.sid]);
    expect((await refresh(srv, ios.refreshToken)).status).to.equal(401);
    expect((await srv.request('/api/v1/auth/me', bearer(ios.accessToken))).status).to.equal(401);
  });

  it('revoke-token answers 404 for a token that is not the caller’s, and revokes nothing', async () => {
    const mine = await login(srv);
    const theirs = await login(srv);
    const res = await srv.request(
      '/api/v1/auth/revoke-token',
      post(mine.accessToken, { refreshToken: theirs.refreshToken }),
    );
    expect(res.status).to.equal(404);
    expect(res.body.errorCode).to.equal('REFRESH_TOKEN_NOT_FOUND');
    expect((await Session.findById(theirs.sid).lean())?.revokedAt).to.equal(null);
    expect((await refresh(srv, theirs.refreshToken)).status).to.equal(200);
  });

  it('me returns the private user object', async () => {
    const s = await login(srv);
    const me = await srv.request('/api/v1/auth/me', bearer(s.accessToken));
    expect(me.status).to.equal(200);
    expect(me.body.data).to.include({
      id: s.userId,
      countryCode: '90',
      phoneNumber: s.phone.phoneNumber,
      isRegistrationComplete: false,
    });
    expect(me.body.data).to.not.have.any.keys('_id', '__v', 'phoneKey', 'emailKey', 'suspendedAt');
  });
});

describe('the authentication middleware (contract §1.2)', () => {
  const config = testConfig();
  let srv: TestServer;
  let valid: Awaited<ReturnType<typeof login>>;
  before(async () => {
    srv = await startApp({ TRUST_PROXY: 'true' });
    valid = await login(srv);
  });
  after(() => srv.close());

  const forge = (payload: object, secret: string, options: jwt.SignOptions) => jwt.sign(payload, secret, options);

  it('refuses every bad token with 401 in the envelope', async () => {
    const claims = { sid: valid.sid, roles: ['user'] };
    const base: jwt.SignOptions = {
      algorithm: 'HS256',
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      subject: valid.userId,
      expiresIn: 600,
    };
    const { expiresIn: _unused, ...noExpiry } = base;
    const nowS = Math.floor(Date.now() / 1000);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({
        ...claims,
        sub: valid.userId,
        iss: config.jwt.issuer,
        aud: config.jwt.audience,
        exp: nowS + 600,
      }),
    ).toString('base64url')}.`;
    const cases: Record<string, [string | undefined, string]> = {
      missing: [undefined, 'TOKEN_MISSING'],
      'not bearer': ['Basic dXNlcjpwYXNz', 'TOKEN_INVALID'],
      malformed: ['Bearer abc.def', 'TOKEN_INVALID'],
      'another secret': [
        `Bearer ${forge(claims, 'another-secret-that-is-long-enough-0123456789', base)}`,
        'TOKEN_INVALID',
      ],
      'alg none': [`Bearer ${none}`, 'TOKEN_INVALID'],
      'HS512 with our secret': [
        `Bearer ${forge(claims, config.jwt.secret, { ...base, algorithm: 'HS512' })}`,
        'TOKEN_INVALID',
      ],
      'expired by 1 s': [
        `Bearer ${forge({ ...claims, iat: nowS - 601, exp: nowS - 1 }, config.jwt.secret, noExpiry)}`,
        'TOKEN_EXPIRED',
      ],
      'another audience': [
        `Bearer ${forge(claims, config.jwt.secret, { ...base, audience: 'someone-else' })}`,
        'TOKEN_INVALID',
      ],
      'another issuer': [`Bearer ${forge(claims, config.jwt.secret, { ...base, issuer: 'evil' })}`, 'TOKEN_INVALID'],
      'unknown session': [
        `Bearer ${signAccessToken(config, { sub: valid.userId, sid: new Types.ObjectId().toHexString(), roles: ['user'] }, new Date())}`,
        'SESSION_REVOKED',
      ],
      'someone else’s session': [
        `Bearer ${signAccessToken(config, { sub: new Types.ObjectId().toHexString(), sid: valid.sid, roles: ['user'] }, new Date())}`,
        'SESSION_REVOKED',
      ],
    };
    for (const [name, [header, code]] of Object.entries(cases)) {
      const res = await srv.request('/api/v1/auth/me', header ? { headers: { authorization: header } } : {});
      expect(res.status, name).to.equal(401);
      expect(res.body, name).to.include({ isSuccess: false, statusCode: 401, data: null, errorCode: code });
      expect(res.body.errors[0], name).to.equal('Authentication required');
      expect(res.headers.get('www-authenticate'), name).to.match(/^Bearer/);
    }
    expect((await srv.request('/api/v1/auth/me', bearer(valid.accessToken))).status).to.equal(200);
  });

  it('refuses a token signed with our secret but without exp, iat, sid or sub with 401', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const full = {
      sub: valid.userId,
      sid: valid.sid,
      roles: ['user'],
      iss: config.jwt.issuer,
      aud: config.jwt.audience,
      iat: nowS,
      exp: nowS + 600,
    };
    // jsonwebtoken adds `iat` unless told not to.
    const sign = (payload: object, noTimestamp = false) =>
      jwt.sign(payload, config.jwt.secret, { algorithm: 'HS256', noTimestamp });
    // The complete token works, so what fails below is the missing claim alone.
    expect((await srv.request('/api/v1/auth/me', bearer(sign(full)))).status).to.equal(200);
    for (const claim of ['exp', 'iat', 'sid', 'sub'] as const) {
      const { [claim]: _dropped, ...rest } = full;
      const token = sign(rest, claim === 'iat');
      expect(jwt.decode(token), claim).to.not.have.property(claim);
      const res = await srv.request('/api/v1/auth/me', bearer(token));
      expect(res.status, claim).to.equal(401);
      expect(res.body, claim).to.include({ isSuccess: false, statusCode: 401, data: null, errorCode: 'TOKEN_INVALID' });
      expect(res.body.errors, claim).to.deep.equal(['Authentication required', 'accessToken: invalid']);
      expect(res.headers.get('www-authenticate'), claim).to.match(/^Bearer/);
    }
  });

  it('answers 403 when a valid token lacks the required role', async () => {
    const logs = captureLogs();
    const app = express();
    app.use(requestContext(createLogger({ level: 'silent' }, logs.stream)));
    app.get(
      '/admin-only',
      authenticate(
        { config, guard: new SessionGuard(0, () => new Date()), clock: () => new Date() },
        'admin',
        'marketing',
      ),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.use(errorHandler);
    const admin = await listen(app, logs);
    try {
      const res = await admin.request('/admin-only', bearer(valid.accessToken));
      expect(res.status).to.equal(403);
      expect(res.body).to.include({ isSuccess: false, statusCode: 403, data: null });
      expect(res.body.errors).to.deep.equal(['Insufficient permissions', 'role: one of admin, marketing is required']);
      const stranger = await admin.request('/admin-only');
      expect(stranger.status).to.equal(401);
    } finally {
      await admin.close();
    }
  });
});

describe('caching of API responses', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startApp({ TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0' });
  });
  after(() => srv.close());

  it('marks every /api/v1 response no-store: tokens, the signed-in user, and errors; /healthz is not marked', async () => {
    const phone = freshPhone();
    const ip = freshIp();
    const sent = await sendOtp(srv, { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber }, ip);
    const body = { countryCode: phone.countryCode, phoneNumber: phone.phoneNumber, code: sent.body.data.code };
    const verified = await verifyOtp(srv, body, ip);
    const { accessToken, refreshToken } = verified.body.data;
    const email = `no-store-${randomUUID()}@example.com`;
    const mailed = await srv.request('/api/v1/auth/send-otp-email', json({ email }, { 'x-forwarded-for': ip }));
    const responses: Record<string, [Awaited<ReturnType<TestServer['request']>>, number]> = {
      'send-otp': [sent, 201],
      'verify-otp': [verified, 200],
      'verify-otp with a used code': [await verifyOtp(srv, body, ip), 404],
      'verify-otp with an unreadable body': [
        await srv.request('/api/v1/auth/verify-otp', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"code":',
        }),
        400,
      ],
      'verify-otp-email': [
        await srv.request(
          '/api/v1/auth/verify-otp-email',
          json({ email, code: mailed.body.data.code }, { 'x-forwarded-for': ip }),
        ),
        200,
      ],
      refresh: [await refresh(srv, refreshToken), 200],
      me: [await srv.request('/api/v1/auth/me', bearer(accessToken)), 200],
      'me without a token': [await srv.request('/api/v1/auth/me'), 401],
      sessions: [await srv.request('/api/v1/auth/sessions', bearer(accessToken)), 200],
      'PATCH users/me': [
        await srv.request('/api/v1/users/me', post(accessToken, { bio: 'not for caches' }, 'PATCH')),
        200,
      ],
      'funnel without a reporting role': [await srv.request('/api/v1/analytics/funnel', bearer(accessToken)), 403],
    };
    for (const [name, [res, status]] of Object.entries(responses)) {
      expect(res.status, `${name}: ${res.text}`).to.equal(status);
      expect(res.headers.get('cache-control'), name).to.equal('no-store');
    }
    expect(verified.body.data.accessToken).to.be.a('string');
    expect(responses['verify-otp-email']![0].body.data.user.email).to.equal(email);
    expect(responses.me![0].body.data).to.include({ id: verified.body.data.user.id, bio: null });
    expect(responses['PATCH users/me']![0].body.data.bio).to.equal('not for caches');
    expect(responses['me without a token']![0].body.errorCode).to.equal('TOKEN_MISSING');
    const health = await srv.request('/healthz');
    expect(health.status).to.equal(200);
    expect(health.headers.get('cache-control')).to.equal(null);
  });
});
