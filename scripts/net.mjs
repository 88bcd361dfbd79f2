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

/**
 * One RESP command on a fresh loopback connection. Resolves to the reply as text: a simple string or an
 * error with its type byte ("+OK", "-ERR …"), or a bulk string's contents. Rejects when the connection
 * fails or no reply comes within `timeoutMs`.
 */
export function redisCommand(port, args, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new Error(`redis on port ${port}: no answer to ${args[0]} within ${timeoutMs} ms`));
    });
    sock.once('error', reject);
    sock.once('connect', () =>
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`),
    );
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const head = buf.subarray(0, eol).toString();
      let reply = head;
      if (head[0] === '$') {
        const len = Number(head.slice(1));
        if (len >= 0 && buf.length < eol + 2 + len) return; // wait for the whole bulk string
        reply = len < 0 ? '' : buf.subarray(eol + 2, eol + 2 + len).toString();
      }
      sock.destroy();
      resolve(reply);
    });
  });
}

/** True when the server on the port answers PING with +PONG within 1 s. */
export function redisPing(port) {
  return redisCommand(port, ['PING'], 1000).then(
    (reply) => reply === '+PONG',
    () => false,
  );
}
