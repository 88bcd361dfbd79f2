import { expect } from 'chai';
import { createLogger, maskPhone } from '../src/lib/logger.js';
import { captureLogs } from './support/logs.js';

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
    for (const leaked of ['4821', '9137', 'eyJhbGciOiJIUzI1NiJ9', 'rt_abcdef', 'eyJsecret', '5551234567', '5372505890']) {
      expect(text, leaked).to.not.include(leaked);
    }
    const [line] = logs.lines();
    expect(line?.phoneNumber).to.equal('55******67');
    expect((line?.body as Record<string, unknown>).countryCode).to.equal('90');
    expect((line?.body as Record<string, unknown>).code).to.equal('[REDACTED]');
  });

  it('masks all but two leading and two trailing digits', () => {
    expect(maskPhone('+90 555 123 45 67')).to.equal('90********67');
    expect(maskPhone('123')).to.equal('***');
  });
});
