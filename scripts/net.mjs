// Loopback helpers shared by scripts/stack.mjs and the tests (test/support). Node built-ins only.
import net from 'node:net';

/** A loopback port free right now: bind port 0, read it, release it (also "a port nothing listens on"). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One raw RESP round trip: true when the server on the port answers PING with +PONG (within 1 s). */
export function redisPing(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
