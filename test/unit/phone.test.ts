import { expect } from 'chai';
import { normalizePhone } from '../../src/lib/phone.js';

describe('phone normalization (contract §1.4)', () => {
  it('accepts the docs’ examples', () => {
    expect(normalizePhone('90', '5551234567')).to.deep.equal({
      countryCode: '90',
      phoneNumber: '5551234567',
      e164: '+905551234567',
    });
    expect(normalizePhone('90', '5372505890')).to.deep.equal({
      countryCode: '90',
      phoneNumber: '5372505890',
      e164: '+905372505890',
    });
  });

  it('maps every spelling of one number to the same normalized number', () => {
    for (const [cc, n] of [
      ['+90', '555 123 45 67'],
      ['90', '05551234567'],
      ['90', '0555-123-45-67'],
      ['+90', '(0555) 123.45.67'],
    ] as const) {
      expect(normalizePhone(cc, n), `${cc} ${n}`).to.deep.equal({
        countryCode: '90',
        phoneNumber: '5551234567',
        e164: '+905551234567',
      });
    }
  });

  it('accepts fixed-line-or-mobile numbers (NANP) and other countries’ mobiles', () => {
    expect(normalizePhone('1', '201-555-0123')).to.deep.include({ e164: '+12015550123' });
    expect(normalizePhone('7', '8 912 345 67 89')).to.deep.include({ countryCode: '7', phoneNumber: '9123456789' });
  });

  it('refuses fixed lines, short numbers, letters and bad calling codes with a named field', () => {
    expect(normalizePhone('90', '2125551234')).to.deep.equal({
      error: 'phoneNumber: not a valid mobile number for country code 90',
    });
    expect(normalizePhone('90', '555'))
      .to.have.property('error')
      .that.matches(/^phoneNumber:/);
    expect(normalizePhone('90', '555abc4567'))
      .to.have.property('error')
      .that.matches(/^phoneNumber:/);
    expect(normalizePhone('9000', '5551234567'))
      .to.have.property('error')
      .that.matches(/^countryCode:/);
    expect(normalizePhone('+', '5551234567'))
      .to.have.property('error')
      .that.matches(/^countryCode:/);
    // A calling code that does not match the number's metadata.
    expect(normalizePhone('999', '5551234567'))
      .to.have.property('error')
      .that.matches(/^phoneNumber:/);
  });
});
