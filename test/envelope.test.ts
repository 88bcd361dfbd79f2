import { expect } from 'chai';
import express from 'express';
import mongoose from 'mongoose';
import { requestContext } from '../src/middleware/request-context.js';
import { errorHandler, notFoundHandler } from '../src/middleware/errors.js';
import { createLogger } from '../src/lib/logger.js';
import { captureLogs } from './support/logs.js';
import { json, listen, startApp, type TestServer } from './support/http.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectErrorEnvelope(body: unknown, status: number, first: string) {
  expect(body).to.include({ isSuccess: false, statusCode: status, data: null });
  const b = body as { errors: string[]; timestamp: string };
  expect(b.errors[0]).to.equal(first);
  expect(b.timestamp).to.match(ISO_MS);
}

describe('HTTP conventions (contract §1.1)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startApp({ BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: 'https://app.allmine.example' });
  });
  after(() => srv.close());

  it('wraps success in the envelope, with a request id', async () => {
    const res = await srv.request('/healthz');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ isSuccess: true, statusCode: 200 });
    expect(res.body.errors).to.deep.equal([]);
    expect(res.body.data.status).to.equal('ok');
    expect(res.body.timestamp).to.match(ISO_MS);
    expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
  });

  it('answers an unknown route with 404 in the envelope', async () => {
    const res = await srv.request('/api/v1/nope');
    expect(res.status).to.equal(404);
    expectErrorEnvelope(res.body, 404, 'Resource not found');
  });

  it('answers a body that is not JSON with 400, before any route', async () => {
    for (const path of ['/healthz', '/api/v1/auth/send-otp', '/nowhere']) {
      const res = await srv.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"countryCode": 90,',
      });
      expect(res.status, path).to.equal(400);
      expectErrorEnvelope(res.body, 400, 'Validation failed');
      expect(res.body.errors).to.include('body: not valid JSON');
    }
  });

  it('answers a body over the limit with 413', async () => {
    const res = await srv.request('/healthz', json({ pad: 'x'.repeat(4096) }));
    expect(res.status).to.equal(413);
    expectErrorEnvelope(res.body, 413, 'Request body too large');
  });

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const res = await srv.request('/healthz', { method: 'DELETE' });
    expect(res.status).to.equal(405);
    expectErrorEnvelope(res.body, 405, 'Method not allowed');
    expect(res.headers.get('allow')).to.equal('GET, HEAD');
  });

  it('keeps a sane incoming X-Request-Id and replaces an insane one', async () => {
    const sane = await srv.request('/healthz', { headers: { 'x-request-id': 'req-abc-12345678' } });
    expect(sane.headers.get('x-request-id')).to.equal('req-abc-12345678');
    const insane = await srv.request('/healthz', { headers: { 'x-request-id': 'bad id<script>' } });
    expect(insane.headers.get('x-request-id')).to.not.equal('bad id<script>');
    expect(insane.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('sets helmet security headers and no X-Powered-By', async () => {
    const res = await srv.request('/healthz');
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('strict-transport-security')).to.be.a('string');
    expect(res.headers.get('x-powered-by')).to.equal(null);
  });

  it('sends CORS headers to allowed origins only', async () => {
    const ok = await srv.request('/healthz', { headers: { origin: 'https://app.allmine.example' } });
    expect(ok.headers.get('access-control-allow-origin')).to.equal('https://app.allmine.example');
    const other = await srv.request('/healthz', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('logs one line per request with its request id', async () => {
    const res = await srv.request('/healthz', { headers: { 'x-request-id': 'trace-me-0001' } });
    expect(res.status).to.equal(200);
    const line = srv.logs.lines().find((l) => l.reqId === 'trace-me-0001' && l.msg === 'request');
    expect(line).to.include({ method: 'GET', path: '/healthz', status: 200 });
  });
});

describe('unexpected errors', () => {
  it('become a generic 500: logged with the request id, never sent', async () => {
    const logs = captureLogs();
    const app = express();
    app.use(requestContext(createLogger({ level: 'debug' }, logs.stream)));
    app.get('/boom', () => {
      throw new Error('secret internal detail: db password is hunter2');
    });
    app.use(notFoundHandler);
    app.use(errorHandler);
    const srv = await listen(app, logs);
    try {
      const res = await srv.request('/boom');
      expect(res.status).to.equal(500);
      expectErrorEnvelope(res.body, 500, 'Internal server error');
      expect(res.text).to.not.include('hunter2');
      expect(res.text).to.not.include('at ');
      const reqId = res.headers.get('x-request-id');
      const logged = logs.lines().find((l) => l.msg === 'unhandled error');
      expect(logged?.reqId).to.equal(reqId);
      expect(JSON.stringify(logged?.err)).to.include('hunter2');
    } finally {
      await srv.close();
    }
  });
});

describe('database errors that mean "try again"', () => {
  const serverError = (code: number, errmsg: string, labels: string[] = []) =>
    new mongoose.mongo.MongoServerError({ ok: 0, code, errmsg, errorLabels: labels });
  const cases: Array<[string, Error, number]> = [
    ['a write conflict (112)', serverError(112, 'WriteConflict'), 503],
    ['a primary stepping down (189)', serverError(189, 'PrimarySteppedDown'), 503],
    ['a lock timeout (24)', serverError(24, 'LockTimeout'), 503],
    [
      "a RetryableWriteError label after the driver's own retry",
      serverError(9001, 'SocketException', ['RetryableWriteError']),
      503,
    ],
    ['a duplicate key, which is a bug here, not a pause', serverError(11000, 'E11000 duplicate key error'), 500],
    ['a plain Error whose text says WriteConflict', new Error('WriteConflict'), 500],
  ];

  it("answer 503 DEPENDENCY_UNAVAILABLE in the envelope, never the server's text; anything else stays a 500", async () => {
    const logs = captureLogs();
    const app = express();
    app.use(requestContext(createLogger({ level: 'debug' }, logs.stream)));
    app.get('/db/:i', (req) => {
      throw cases[Number(req.params.i)]![1];
    });
    app.use(errorHandler);
    const srv = await listen(app, logs);
    try {
      for (const [i, [what, err, status]] of cases.entries()) {
        const res = await srv.request(`/db/${i}`);
        expect(res.status, what).to.equal(status);
        expect(res.text, what).to.not.include(err.message);
        if (status === 503) {
          expectErrorEnvelope(res.body, 503, 'Service unavailable');
          expect(res.body.errorCode, what).to.equal('DEPENDENCY_UNAVAILABLE');
          expect(res.body.errors, what).to.deep.equal(['Service unavailable', 'database: temporarily unavailable']);
        } else {
          expectErrorEnvelope(res.body, 500, 'Internal server error');
        }
      }
      expect(logs.lines().filter((l) => l.msg === 'request failed')).to.have.length(
        cases.filter(([, , s]) => s === 503).length,
      );
    } finally {
      await srv.close();
    }
  });
});
