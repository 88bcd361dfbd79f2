import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import type { MailConfig } from '../../config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { createMailer, MailDeliveryError, type Mailer } from '../../src/lib/mail/index.js';
import { freePort } from '../../scripts/net.mjs';
import { captureLogs } from '../support/logs.js';

// ------------------------------------------------------------------ a local SMTP double

interface ReceivedMail {
  user: unknown;
  mailFrom: string | undefined;
  rcptTo: string[];
  raw: string;
}

interface SmtpDouble {
  port: number;
  /** Messages accepted after DATA. */
  messages: ReceivedMail[];
  /** Every AUTH attempt, as the server decoded it. */
  auths: Pick<SMTPServerAuthentication, 'method' | 'username' | 'password'>[];
  /** Every RCPT TO address, accepted or not. */
  rcpts: string[];
  connections: number;
  closedConnections: number;
  close: () => Promise<void>;
}

const USER = 'mailer@allmine.test';
const PASSWORD = 'S3cret/p@ss:w0rd%x';

interface DoubleOptions {
  /** RCPT TO answer: `undefined` accepts, a number refuses with that code. */
  rcptCode?: (address: string) => number | undefined;
  /** AUTH answer: accept only USER/PASSWORD (default), or refuse everyone with 535. */
  auth?: 'check' | 'refuse';
}

/** smtp-server on 127.0.0.1, plain text (no STARTTLS), AUTH PLAIN required, records everything. */
async function startSmtpDouble(options: DoubleOptions = {}): Promise<SmtpDouble> {
  const double = {
    messages: [] as ReceivedMail[],
    auths: [] as SmtpDouble['auths'],
    rcpts: [] as string[],
    connections: 0,
    closedConnections: 0,
  };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    closeTimeout: 200,
    onConnect(_session, callback) {
      double.connections += 1;
      callback();
    },
    onClose(_session: SMTPServerSession) {
      double.closedConnections += 1;
    },
    onAuth(auth, _session, callback) {
      double.auths.push({ method: auth.method, username: auth.username, password: auth.password });
      if (options.auth !== 'refuse' && auth.username === USER && auth.password === PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        callback(null, { message: 'Authentication credentials invalid', responseCode: 535 });
      }
    },
    onRcptTo(address, _session, callback) {
      double.rcpts.push(address.address);
      const code = options.rcptCode?.(address.address);
      if (code === undefined) return callback();
      const err = Object.assign(new Error(`<${address.address}>: Recipient address rejected: User unknown`), {
        responseCode: code,
      });
      return callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        double.messages.push({
          user: session.user,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(double, {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A raw TCP server that lets `onSocket` drive (or ignore) each connection; closes them all on close. */
async function startTcpDouble(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    sockets,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** `username:password@` with both parts percent-encoded, as they must be in an SMTP_URL. */
const credentials = (user = USER, password = PASSWORD) =>
  `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;

/** Header name (lower case) → unfolded value, from the raw message; body after the blank line. */
function parseMessage(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: raw.slice(split + 4) };
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

async function sendExpectingError(mailer: Mailer, to: string): Promise<MailDeliveryError> {
  try {
    await mailer.send({ to, subject: SUBJECT, text: TEXT });
  } catch (error) {
    expect(error).to.be.instanceOf(MailDeliveryError);
    return error as MailDeliveryError;
  }
  throw new Error('send() resolved but was expected to fail');
}

// ------------------------------------------------------------------ configs

const CODE = '739104';
const TEXT = `Your Allmine code is ${CODE}.\nIt expires in 3 minutes.`;
const SUBJECT = 'Your Allmine code';
const TO = 'ayse.yilmaz@example.com';
const FROM = 'Allmine <no-reply@allmine.app>';

function mailConfig(overrides: Partial<MailConfig> = {}): MailConfig {
  return { transport: 'smtp', from: FROM, timeoutMs: 2000, ...overrides };
}

const silent = createLogger({ level: 'silent' });

function expectNoSecrets(err: Error, ...secrets: string[]): void {
  for (const s of [TEXT, CODE, TO, 'ayse.yilmaz', PASSWORD, encodeURIComponent(PASSWORD), ...secrets]) {
    expect(err.message, `message leaks "${s}"`).to.not.include(s);
    expect(String(err.stack), `stack leaks "${s}"`).to.not.include(s);
    expect(JSON.stringify(err), `properties leak "${s}"`).to.not.include(s);
  }
}

// ------------------------------------------------------------------ smtp

describe('mail: smtp transport', () => {
  let double: SmtpDouble | undefined;
  let tcp: Awaited<ReturnType<typeof startTcpDouble>> | undefined;
  let mailer: Mailer | undefined;
  afterEach(async () => {
    mailer?.close();
    mailer = undefined;
    await double?.close();
    double = undefined;
    await tcp?.close();
    tcp = undefined;
  });

  it('authenticates with the URL credentials and delivers one message with from, to, subject and text', async () => {
    double = await startSmtpDouble();
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${double.port}` }), silent);

    const out = await mailer.send({ to: TO, subject: SUBJECT, text: TEXT });

    expect(mailer.transport).to.equal('smtp');
    expect(double.auths).to.deep.equal([{ method: 'PLAIN', username: USER, password: PASSWORD }]);
    expect(double.messages).to.have.length(1);
    const [msg] = double.messages;
    expect(msg?.user).to.equal(USER);
    expect(msg?.mailFrom).to.equal('no-reply@allmine.app');
    expect(msg?.rcptTo).to.deep.equal([TO]);
    const { headers, body } = parseMessage(msg!.raw);
    expect(headers.subject).to.equal(SUBJECT);
    expect(headers.from).to.equal(FROM);
    expect(headers.to).to.equal(TO);
    expect(headers['message-id'])
      .to.equal(out.messageId)
      .and.match(/^<.+@allmine\.app>$/);
    expect(headers['content-type']).to.match(/^text\/plain; charset=utf-8$/i);
    expect(body.replace(/\r\n/g, '\n')).to.include(TEXT);
  });

  it('sends a second message over the same pooled connection, and close() ends it', async () => {
    double = await startSmtpDouble();
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${double.port}` }), silent);

    await mailer.send({ to: TO, subject: SUBJECT, text: TEXT });
    await mailer.send({ to: 'second@example.org', subject: 'Again', text: 'Your Allmine code is 111222.' });

    expect(double.messages.map((m) => m.rcptTo)).to.deep.equal([[TO], ['second@example.org']]);
    expect(double.connections).to.equal(1);
    expect(double.auths).to.have.length(1);
    expect(double.closedConnections).to.equal(0);

    mailer.close();
    expect(await waitFor(() => double!.closedConnections === 1, 1500), 'connection closed by close()').to.equal(true);
    const err = await sendExpectingError(mailer, TO);
    expect(err.reason).to.equal('network');
    expect(double.messages).to.have.length(2);
  });

  // Two guards make this hold: `to` goes to nodemailer as one address object, and
  // maxRecipients is 1. Removing both makes the double accept both recipients.
  it('sends a recipient holding a comma to one (refused) address, never to a list', async () => {
    double = await startSmtpDouble();
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${double.port}` }), silent);

    const err = await sendExpectingError(mailer, 'victim@example.com, attacker@evil.test');

    expect(double.rcpts).to.not.include('attacker@evil.test');
    expect(double.rcpts).to.not.include('victim@example.com');
    expect(double.messages).to.have.length(0);
    expect(err.reason).to.equal('rejected');
  });

  it('turns a 550 on RCPT TO into `rejected` with responseCode 550, leaking nothing', async () => {
    double = await startSmtpDouble({ rcptCode: () => 550 });
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${double.port}` }), silent);

    const err = await sendExpectingError(mailer, TO);

    expect(double.rcpts).to.deep.equal([TO]);
    expect(double.messages).to.have.length(0);
    expect(err.transport).to.equal('smtp');
    expect(err.reason).to.equal('rejected');
    expect(err.responseCode).to.equal(550);
    expect(err.message).to.include('smtp').and.include('550');
    expect(err.cause).to.equal(undefined);
    expectNoSecrets(err, 'Recipient address rejected');
  });

  it('turns a transient 450 into `rejected` with responseCode 450', async () => {
    double = await startSmtpDouble({ rcptCode: () => 450 });
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${double.port}` }), silent);

    const err = await sendExpectingError(mailer, TO);

    expect(err.reason).to.equal('rejected');
    expect(err.responseCode).to.equal(450);
  });

  it('turns refused credentials (535) into `rejected` without the password', async () => {
    double = await startSmtpDouble({ auth: 'refuse' });
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${double.port}` }), silent);

    const err = await sendExpectingError(mailer, TO);

    expect(double.auths).to.have.length(1);
    expect(double.messages).to.have.length(0);
    expect(err.reason).to.equal('rejected');
    expect(err.responseCode).to.equal(535);
    expectNoSecrets(err, USER, encodeURIComponent(USER));
  });

  it('gives up with `timeout` when the server accepts the connection but never greets', async () => {
    tcp = await startTcpDouble(() => {
      /* stays silent */
    });
    mailer = createMailer(
      mailConfig({ timeoutMs: 300, smtpUrl: `smtp://${credentials()}127.0.0.1:${tcp.port}` }),
      silent,
    );

    const started = Date.now();
    const err = await sendExpectingError(mailer, TO);
    const elapsed = Date.now() - started;

    expect(tcp.sockets, 'the connection reached the double').to.have.length(1);
    expect(err.reason).to.equal('timeout');
    expect(err.responseCode).to.equal(undefined);
    expect(err.message).to.include('300 ms');
    expect(elapsed).to.be.within(250, 1500);
    expectNoSecrets(err);
  });

  it('enforces the overall deadline when the server trickles a never-ending reply (no socket timeout fires)', async () => {
    const timers: NodeJS.Timeout[] = [];
    tcp = await startTcpDouble((socket) => {
      socket.write('220 slow.test ESMTP\r\n');
      socket.once('data', () => {
        // An EHLO reply that never ends: a continuation line every 50 ms keeps the socket busy.
        const t = setInterval(() => socket.write('250-STILL-THINKING\r\n'), 50);
        timers.push(t);
        socket.on('close', () => clearInterval(t));
      });
    });
    mailer = createMailer(mailConfig({ timeoutMs: 300, smtpUrl: `smtp://127.0.0.1:${tcp.port}` }), silent);

    const started = Date.now();
    const err = await sendExpectingError(mailer, TO);
    const elapsed = Date.now() - started;

    expect(err.reason).to.equal('timeout');
    expect(elapsed).to.be.within(250, 1000);
    const socket = tcp.sockets[0]!;
    expect(
      await waitFor(() => socket.destroyed || socket.readyState === 'closed', 1500),
      'the aborted send closed its connection',
    ).to.equal(true);
    for (const t of timers) clearInterval(t);
  });

  it('reports `network` when nothing listens on the port', async () => {
    const port = await freePort();
    mailer = createMailer(mailConfig({ smtpUrl: `smtp://${credentials()}127.0.0.1:${port}` }), silent);

    const started = Date.now();
    const err = await sendExpectingError(mailer, TO);

    expect(err.reason).to.equal('network');
    expect(err.transport).to.equal('smtp');
    expect(err.message).to.include('ECONNREFUSED');
    expect(err.errorCode).to.equal('ECONNREFUSED');
    expect(Date.now() - started).to.be.below(1000);
    expectNoSecrets(err);
  });
});

// ------------------------------------------------------------------ json

describe('mail: json transport', () => {
  it('returns a message id and logs one line with the domain and lengths, never the text or the address', async () => {
    const logs = captureLogs();
    const mailer = createMailer(mailConfig({ transport: 'json' }), createLogger({ level: 'info' }, logs.stream));

    try {
      const out = await mailer.send({ to: TO, subject: SUBJECT, text: TEXT });

      expect(mailer.transport).to.equal('json');
      expect(out.messageId)
        .to.be.a('string')
        .and.match(/^<.+@allmine\.app>$/);
      const lines = logs.lines();
      expect(lines).to.have.length(1);
      const [line] = lines;
      expect(line?.msg).to.equal('mail sent (json transport)');
      expect(line?.level).to.equal(30);
      expect(line?.transport).to.equal('json');
      expect(line?.messageId).to.equal(out.messageId);
      expect(line?.emailDomain).to.equal('example.com');
      expect(line?.subjectLength).to.equal(SUBJECT.length);
      expect(line?.length).to.equal(TEXT.length);
      const text = logs.text();
      expect(text).to.not.include(CODE);
      expect(text).to.not.include('Your Allmine code is');
      expect(text).to.not.include('ayse.yilmaz');
    } finally {
      mailer.close();
    }
  });
});

// ------------------------------------------------------------------ factory

describe('createMailer', () => {
  it('throws a plain Error naming SMTP_URL when smtp has no URL', () => {
    let thrown: unknown;
    try {
      createMailer(mailConfig({ transport: 'smtp' }), silent);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(Error).and.not.instanceOf(MailDeliveryError);
    expect((thrown as Error).message).to.include('SMTP_URL');
  });
});
