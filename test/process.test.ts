import { expect } from 'chai';
import net from 'node:net';
import { spawnApp } from './support/processes.js';

/** Sends the head of a request now and its body later, so it is in flight. */
function slowRequest(port: number, path: string) {
  const body = '{"late":true}';
  const socket = net.connect(port, '127.0.0.1');
  let response = '';
  socket.on('data', (d) => (response += d.toString()));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(response)));
  const ready = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    ready: ready.then(() => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
    }),
    finish: () => socket.write(body),
    closed,
  };
}

describe('processes', function () {
  this.timeout(60_000);

  it('the web refuses to boot in production without its secrets, naming every missing key', async () => {
    const web = spawnApp('web', {
      NODE_ENV: 'production',
      MONGODB_URI: '',
      REDIS_URL: '',
      JWT_SECRET: '',
      OTP_HMAC_SECRET: '',
    });
    const { code } = await web.exited;
    expect(code).to.equal(1);
    for (const key of ['MONGODB_URI', 'REDIS_URL', 'JWT_SECRET', 'OTP_HMAC_SECRET'])
      expect(web.stderr()).to.include(key);
    expect(web.logs.some((l) => l.msg === 'web listening')).to.equal(false);
  });

  it('the web finishes an in-flight request on SIGTERM (sent twice), refuses new ones, and exits 0', async () => {
    const web = spawnApp('web');
    try {
      const { port } = (await web.waitForLog((l) => l.msg === 'web listening')) as { port: number };
      const inflight = slowRequest(port, '/healthz');
      await inflight.ready;
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      web.child.kill('SIGTERM');
      await web.waitForLog((l) => l.msg === 'shutting down');
      web.child.kill('SIGTERM');
      await web.waitForLog((l) => l.msg === 'shutdown already in progress');
      inflight.finish();
      const raw = await inflight.closed;
      expect(raw).to.match(/^HTTP\/1\.1 405/);
      expect(raw).to.include('"statusCode":405');
      const { code } = await web.exited;
      expect(code, JSON.stringify(web.logs.slice(-6))).to.equal(0);
      expect(Date.now() - started).to.be.below(10_000);
      const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => 'answered',
        () => 'refused',
      );
      expect(refused).to.equal('refused');
    } finally {
      await web.stop();
    }
  });

  it('the worker starts, and on SIGTERM (sent twice) closes its queues and exits 0', async () => {
    const worker = spawnApp('worker');
    try {
      await worker.waitForLog((l) => l.msg === 'worker started');
      worker.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      const { code } = await worker.exited;
      expect(code).to.equal(0);
      expect(worker.logs.some((l) => l.msg === 'shutdown complete')).to.equal(true);
    } finally {
      await worker.stop();
    }
  });

  it('the release step creates the indexes and exits 0', async () => {
    const release = spawnApp('release', { LOG_LEVEL: 'info' });
    const { code } = await release.exited;
    expect(code, release.stderr()).to.equal(0);
    expect(release.logs.some((l) => l.msg === 'indexes ensured')).to.equal(true);
  });
});
