import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { SmsConfig } from '../../config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { createSmsProvider, netgsmNumber, SmsDeliveryError, type SmsProvider } from '../../src/lib/sms/index.js';
import { freePort } from '../../scripts/net.mjs';
import { captureLogs } from '../support/logs.js';

// ------------------------------------------------------------------ a local HTTP double

interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Double {
  baseUrl: string;
  requests: RecordedRequest[];
  close: () => Promise<void>;
}

type Answer = (res: ServerResponse, req: RecordedRequest) => void;

/** Records every request in full, then lets `answer` reply (or not reply at all). */
async function startDouble(answer: Answer): Promise<Double> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      answer(res, recorded);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function sendExpectingError(provider: SmsProvider, to: string, text: string): Promise<SmsDeliveryError> {
  try {
    await provider.send({ to, text });
  } catch (error) {
    expect(error).to.be.instanceOf(SmsDeliveryError);
    return error as SmsDeliveryError;
  }
  throw new Error('send() resolved but was expected to fail');
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

// ------------------------------------------------------------------ configs

const TEXT = 'Your Allmine code is 739104';
const CODE = '739104';
const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'twilio-auth-token-7f3a9c1e5b2d4f60';
const SERVICE_SID = `MG${'fedcba9876543210'.repeat(2)}`;
const NETGSM_USER = '8501234567';
const NETGSM_PASSWORD = 'netgsm-pass-Q9x!7';

function smsConfig(overrides: {
  provider: SmsConfig['provider'];
  timeoutMs?: number;
  twilio?: Partial<SmsConfig['twilio']>;
  netgsm?: Partial<SmsConfig['netgsm']>;
}): SmsConfig {
  return {
    provider: overrides.provider,
    timeoutMs: overrides.timeoutMs ?? 2000,
    twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, baseUrl: 'http://127.0.0.1:1', ...overrides.twilio },
    netgsm: {
      usercode: NETGSM_USER,
      password: NETGSM_PASSWORD,
      header: 'ALLMINE',
      baseUrl: 'http://127.0.0.1:1',
      ...overrides.netgsm,
    },
  };
}

const silent = createLogger({ level: 'silent' });

function expectNoSecrets(err: Error, ...secrets: string[]): void {
  for (const s of [TEXT, CODE, ...secrets]) {
    expect(err.message, `message leaks "${s}"`).to.not.include(s);
    expect(String(err.stack), `stack leaks "${s}"`).to.not.include(s);
  }
}

// ------------------------------------------------------------------ twilio

describe('sms providers: twilio', () => {
  let double: Double | undefined;
  afterEach(async () => {
    await double?.close();
    double = undefined;
  });

  it('POSTs the form to the account Messages.json with Basic auth and returns the sid', async () => {
    double = await startDouble((res) =>
      json(res, 201, { sid: 'SM0123456789abcdef0123456789abcdef', status: 'accepted', to: '+905551234567' }),
    );
    const provider = createSmsProvider(
      smsConfig({
        provider: 'twilio',
        twilio: { baseUrl: double.baseUrl, messagingServiceSid: SERVICE_SID, from: '+15005550006' },
      }),
      silent,
    );

    const out = await provider.send({ to: '+905551234567', text: TEXT });

    expect(out).to.deep.equal({ providerMessageId: 'SM0123456789abcdef0123456789abcdef' });
    expect(double.requests).to.have.length(1);
    const req = double.requests[0]!;
    expect(req.method).to.equal('POST');
    expect(req.path).to.equal(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(req.headers.authorization).to.equal(basic(ACCOUNT_SID, AUTH_TOKEN));
    expect(req.headers['content-type']).to.match(/^application\/x-www-form-urlencoded\b/);
    const form = new URLSearchParams(req.body);
    expect(Object.fromEntries(form)).to.deep.equal({
      To: '+905551234567',
      Body: TEXT,
      MessagingServiceSid: SERVICE_SID, // preferred over From when both are set
    });
  });

  it('sends From when no Messaging Service is configured', async () => {
    double = await startDouble((res) => json(res, 201, { sid: 'SMfrom' }));
    const provider = createSmsProvider(
      smsConfig({ provider: 'twilio', twilio: { baseUrl: double.baseUrl, from: '+15005550006' } }),
      silent,
    );

    await provider.send({ to: '+14155550123', text: 'Kodunuz: 1234 (ğüşıöç)' });

    const form = new URLSearchParams(double.requests[0]!.body);
    expect(form.get('From')).to.equal('+15005550006');
    expect(form.has('MessagingServiceSid')).to.equal(false);
    expect(form.get('To')).to.equal('+14155550123');
    expect(form.get('Body')).to.equal('Kodunuz: 1234 (ğüşıöç)');
  });

  it('turns a 400 error body into a rejected SmsDeliveryError with status and Twilio code, leaking nothing', async () => {
    double = await startDouble((res) =>
      json(res, 400, {
        code: 21211,
        message: "The 'To' number +905551234567 is not a valid phone number.",
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      }),
    );
    const provider = createSmsProvider(
      smsConfig({ provider: 'twilio', twilio: { baseUrl: double.baseUrl, from: '+15005550006' } }),
      silent,
    );

    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(double.requests).to.have.length(1);
    expect(err.provider).to.equal('twilio');
    expect(err.reason).to.equal('rejected');
    expect(err.httpStatus).to.equal(400);
    expect(err.providerCode).to.equal('21211');
    expect(err.message).to.include('400').and.include('21211');
    expectNoSecrets(err, AUTH_TOKEN, basic(ACCOUNT_SID, AUTH_TOKEN), '5551234567');
  });

  it('gives up with `timeout` when the provider does not answer within timeoutMs', async () => {
    double = await startDouble(() => {
      /* never answers */
    });
    const provider = createSmsProvider(
      smsConfig({ provider: 'twilio', timeoutMs: 200, twilio: { baseUrl: double.baseUrl, from: '+15005550006' } }),
      silent,
    );

    const started = Date.now();
    const err = await sendExpectingError(provider, '+905551234567', TEXT);
    const elapsed = Date.now() - started;

    expect(err.reason).to.equal('timeout');
    expect(err.httpStatus).to.equal(undefined);
    expect(elapsed).to.be.within(150, 1000);
    expect(double.requests, 'the request reached the double').to.have.length(1);
    expectNoSecrets(err, AUTH_TOKEN);
  });

  it('reports `network` when nothing listens on the port', async () => {
    const port = await freePort();
    const provider = createSmsProvider(
      smsConfig({ provider: 'twilio', twilio: { baseUrl: `http://127.0.0.1:${port}`, from: '+15005550006' } }),
      silent,
    );

    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(err.reason).to.equal('network');
    expect(err.provider).to.equal('twilio');
    expect(err.message).to.include('ECONNREFUSED');
    expectNoSecrets(err, AUTH_TOKEN);
  });
});

// ------------------------------------------------------------------ netgsm

describe('sms providers: netgsm', () => {
  let double: Double | undefined;
  afterEach(async () => {
    await double?.close();
    double = undefined;
  });

  it('POSTs JSON to /sms/rest/v2/send with Basic auth, the national number and TR encoding, and returns the jobid', async () => {
    double = await startDouble((res) =>
      json(res, 200, { code: '00', description: 'queued', jobid: '17377215342605050417149344' }),
    );
    const provider = createSmsProvider(
      smsConfig({ provider: 'netgsm', netgsm: { baseUrl: `${double.baseUrl}/` } }),
      silent,
    );
    const text = 'Allmine doğrulama kodunuz: 739104';

    const out = await provider.send({ to: '+905551234567', text });

    expect(out).to.deep.equal({ providerMessageId: '17377215342605050417149344' });
    expect(double.requests).to.have.length(1);
    const req = double.requests[0]!;
    expect(req.method).to.equal('POST');
    expect(req.path).to.equal('/sms/rest/v2/send');
    expect(req.headers.authorization).to.equal(basic(NETGSM_USER, NETGSM_PASSWORD));
    expect(req.headers['content-type']).to.match(/^application\/json\b/);
    expect(JSON.parse(req.body)).to.deep.equal({
      msgheader: 'ALLMINE',
      messages: [{ msg: text, no: '5551234567' }],
      encoding: 'TR',
    });
  });

  it('leaves encoding out for plain ASCII text and sends foreign numbers as 00 + digits', async () => {
    double = await startDouble((res) => json(res, 200, { code: '00', jobid: '42' }));
    const provider = createSmsProvider(smsConfig({ provider: 'netgsm', netgsm: { baseUrl: double.baseUrl } }), silent);

    await provider.send({ to: '+4915112345678', text: TEXT });

    expect(JSON.parse(double.requests[0]!.body)).to.deep.equal({
      msgheader: 'ALLMINE',
      messages: [{ msg: TEXT, no: '004915112345678' }],
    });
  });

  it('turns an error code in a 200 body into `rejected` with that providerCode, leaking nothing', async () => {
    double = await startDouble((res) => json(res, 200, { code: '40', description: 'msgheader not defined' }));
    const provider = createSmsProvider(smsConfig({ provider: 'netgsm', netgsm: { baseUrl: double.baseUrl } }), silent);

    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(double.requests).to.have.length(1);
    expect(err.provider).to.equal('netgsm');
    expect(err.reason).to.equal('rejected');
    expect(err.httpStatus).to.equal(200);
    expect(err.providerCode).to.equal('40');
    expectNoSecrets(err, NETGSM_PASSWORD, basic(NETGSM_USER, NETGSM_PASSWORD));
  });

  it('reads the code from a 406 error body too', async () => {
    double = await startDouble((res) => json(res, 406, { code: '30', description: 'invalid credentials' }));
    const provider = createSmsProvider(smsConfig({ provider: 'netgsm', netgsm: { baseUrl: double.baseUrl } }), silent);

    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(err.reason).to.equal('rejected');
    expect(err.httpStatus).to.equal(406);
    expect(err.providerCode).to.equal('30');
    expect(err.message).to.include('406').and.include('30');
    expectNoSecrets(err, NETGSM_PASSWORD);
  });

  it('treats a non-JSON 5xx as `rejected` without a providerCode', async () => {
    double = await startDouble((res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const provider = createSmsProvider(smsConfig({ provider: 'netgsm', netgsm: { baseUrl: double.baseUrl } }), silent);

    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(err.reason).to.equal('rejected');
    expect(err.httpStatus).to.equal(502);
    expect(err.providerCode).to.equal(undefined);
  });

  it('gives up with `timeout` when the provider does not answer within timeoutMs', async () => {
    double = await startDouble(() => {
      /* never answers */
    });
    const provider = createSmsProvider(
      smsConfig({ provider: 'netgsm', timeoutMs: 200, netgsm: { baseUrl: double.baseUrl } }),
      silent,
    );

    const started = Date.now();
    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(err.reason).to.equal('timeout');
    expect(Date.now() - started).to.be.within(150, 1000);
    expect(double.requests).to.have.length(1);
  });

  it('reports `network` when nothing listens on the port', async () => {
    const port = await freePort();
    const provider = createSmsProvider(
      smsConfig({ provider: 'netgsm', netgsm: { baseUrl: `http://127.0.0.1:${port}` } }),
      silent,
    );

    const err = await sendExpectingError(provider, '+905551234567', TEXT);

    expect(err.reason).to.equal('network');
    expectNoSecrets(err, NETGSM_PASSWORD);
  });

  it('maps E.164 to the number format Netgsm expects', () => {
    expect(netgsmNumber('+905551234567')).to.equal('5551234567');
    expect(netgsmNumber('+4915112345678')).to.equal('004915112345678');
    expect(netgsmNumber('905551234567')).to.equal(undefined);
    expect(netgsmNumber('+90 555 123 45 67')).to.equal(undefined);
  });
});

// ------------------------------------------------------------------ console and factory

describe('sms providers: console', () => {
  it('logs one info line with the masked phone and the length, never the text', async () => {
    const logs = captureLogs();
    const provider = createSmsProvider(
      smsConfig({ provider: 'console' }),
      createLogger({ level: 'info' }, logs.stream),
    );

    const out = await provider.send({ to: '+905551234567', text: TEXT });

    expect(provider.name).to.equal('console');
    expect(out.providerMessageId)
      .to.be.a('string')
      .and.match(/^console-/);
    const lines = logs.lines();
    expect(lines).to.have.length(1);
    const [line] = lines;
    expect(line?.msg).to.equal('sms sent (console)');
    expect(line?.level).to.equal(30);
    expect(line?.provider).to.equal('console');
    expect(line?.phone).to.equal('90********67');
    expect(line?.length).to.equal(TEXT.length);
    const text = logs.text();
    expect(text).to.not.include(CODE);
    expect(text).to.not.include(TEXT);
    expect(text).to.not.include('5551234567');
  });
});

describe('createSmsProvider', () => {
  it('picks the provider named in the config', () => {
    expect(createSmsProvider(smsConfig({ provider: 'console' }), silent).name).to.equal('console');
    expect(
      createSmsProvider(smsConfig({ provider: 'twilio', twilio: { from: '+15005550006' } }), silent).name,
    ).to.equal('twilio');
    expect(createSmsProvider(smsConfig({ provider: 'netgsm' }), silent).name).to.equal('netgsm');
  });

  it('throws a plain Error naming the missing keys, without the secrets it was given', () => {
    expect(() => createSmsProvider(smsConfig({ provider: 'twilio' }), silent)).to.throw(
      Error,
      /TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID/,
    );
    expect(() =>
      createSmsProvider(
        smsConfig({ provider: 'twilio', twilio: { authToken: undefined, from: '+15005550006' } }),
        silent,
      ),
    ).to.throw(Error, /TWILIO_AUTH_TOKEN/);
    let thrown: unknown;
    try {
      createSmsProvider(smsConfig({ provider: 'netgsm', netgsm: { header: undefined } }), silent);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(Error).and.not.instanceOf(SmsDeliveryError);
    expect((thrown as Error).message)
      .to.include('NETGSM_HEADER')
      .and.not.include(NETGSM_PASSWORD);
  });
});
