import { expect } from 'chai';
import { createLogger, maskPhone } from '../../src/lib/logger.js';
import { captureLogs, showsCode } from '../support/logs.js';

describe('logger redaction', () => {
  it('censors codes, tokens and secrets, and masks phone numbers, at top level and one level deep', () => {
    const logs = captureLogs();
    const log = createLogger({ level: 'info' }, logs.stream).child({ reqId: 'r1' });
    log.info(
      {
        code: '4821',
        accessToken: 'eyJhbGciOiJIUzI1NiJ9.payload.sig',
        phoneNumber: '5551234567',
        body: { code: '9137', refreshToken: 'rt_abcdef', phoneNumber: '5372505890', countryCode: '90' },
        req: { headers: { authorization: 'Bearer eyJsecret' } },
      },
      'login',
    );
    const text = logs.text();
    for (const code of ['4821', '9137']) expect(text, code).to.not.match(showsCode(code)); // a pid may hold the digits
    for (const leaked of ['eyJhbGciOiJIUzI1NiJ9', 'rt_abcdef', 'eyJsecret', '5551234567', '5372505890']) {
      expect(text, leaked).to.not.include(leaked);
    }
    const [line] = logs.lines();
    expect(line?.phoneNumber).to.equal('55******67');
    expect((line?.body as Record<string, unknown>).countryCode).to.equal('90');
    expect((line?.body as Record<string, unknown>).code).to.equal('[REDACTED]');
  });

  it("the tests' code check (showsCode) finds a code shown in a log, and not the same digits inside ids, pids or times", () => {
    const shown = [
      '{"code":"4242"}',
      '{"body":{"otp":"4242"}}',
      '{"msg":"test number 4242 used"}',
      '{"msg":"code=4242"}',
      '{"code":4242}',
      '{"msg":"sent \'4242\'"}',
    ];
    for (const text of shown) expect(text, text).to.match(showsCode('4242'));
    const chance = [
      '{"pid":14242}',
      '{"reqId":"0b3e4242-1c2d-4e5f-8a9b-c0d1e2f34242"}',
      '{"userId":"6b0b8cb545af4242e6126e2a"}',
      '{"time":"2026-11-29T02:14:24.2424Z"}',
      '{"codeId":"42421c2d3e4f5a6b7c8d9e0f"}',
    ];
    for (const text of chance) expect(text, text).to.not.match(showsCode('4242'));
  });

  it('masks all but two leading and two trailing digits', () => {
    expect(maskPhone('+90 555 123 45 67')).to.equal('90********67');
    expect(maskPhone('123')).to.equal('***');
  });
});
