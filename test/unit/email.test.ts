/**
 * `emailProblem` (src/middleware/validate.ts): one mailbox, one identity. The HTTP tests
 * (test/verify-otp-email.test.ts, test/users.test.ts) check the same rules through the routes.
 */
import { expect } from 'chai';
import { emailProblem, normalizeEmail } from '../../src/middleware/validate.js';

const INVISIBLE = 'must not contain spaces, invisible, formatting or control characters';

describe('emailProblem', () => {
  it('refuses invisible characters outside Unicode Cf: default-ignorable code points and the braille blank', () => {
    const chars: [number, string][] = [
      [0x3164, 'Hangul filler'],
      [0x115f, 'Hangul choseong filler'],
      [0x1160, 'Hangul jungseong filler'],
      [0xffa0, 'halfwidth Hangul filler'],
      [0x2800, 'braille pattern blank'],
      [0x034f, 'combining grapheme joiner'],
      ...Array.from({ length: 16 }, (_, i): [number, string] => [0xfe00 + i, `variation selector-${i + 1}`]),
      [0xe0100, 'variation selector-17'],
      [0x180b, 'Mongolian free variation selector one'],
      [0x180e, 'Mongolian vowel separator'],
      [0x17b4, 'Khmer vowel inherent aq'],
      [0x17b5, 'Khmer vowel inherent aa'],
    ];
    for (const [cp, name] of chars) {
      const c = String.fromCodePoint(cp);
      for (const email of [`x${c}@example.com`, `x@exa${c}mple.com`, `${c}x@example.com`, `x@example.com${c}`]) {
        expect(emailProblem(email), `${name} in ${JSON.stringify(email)}`).to.equal(INVISIBLE);
      }
    }
  });

  it('still refuses Cf, control characters, spaces and quoted local parts', () => {
    for (const email of [
      'x\u200B@example.com',
      '\uFEFFx@example.com',
      'x\u00AD@example.com',
      'x\u0007@example.com',
      'x y@example.com',
      'x\u3000@example.com',
    ]) {
      expect(emailProblem(email), JSON.stringify(email)).to.equal(INVISIBLE);
    }
    expect(emailProblem('"x"@example.com')).to.equal('must not have a quoted local part');
  });

  it('accepts ordinary and international addresses, trimmed and normalized', () => {
    for (const email of [
      'x@example.com',
      ' Zoe\u0308@Example.COM ',
      'user@例え.jp',
      '사용자@example.kr',
      'δοκιμή@παράδειγμα.δοκιμή',
    ]) {
      expect(emailProblem(email), JSON.stringify(email)).to.equal(undefined);
    }
    expect(normalizeEmail(' Zoe\u0308@Example.COM ')).to.equal('zo\u00EB@example.com');
  });
});
