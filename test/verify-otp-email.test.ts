import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { MailDeliveryError } from '../src/lib/mail/index.js';
import { OtpCode } from '../src/models/otp-code.js';
import { Session } from '../src/models/session.js';
import { PRIVATE_USER_FIELDS, User } from '../src/models/user.js';
import { findOrCreateUser } from '../src/services/auth.js';
import { codeIn, freshIp, recordingMailer, type RecordingMailer } from './support/auth.js';
import { json, startApp, type TestServer } from './support/http.js';

const freshEmail = () => `user.${randomUUID().slice(0, 8)}@example.com`;

describe('e-mail codes: send-otp-email and verify-otp-email (contract §2.3)', () => {
  let srv: TestServer;
  let mailer: RecordingMailer;
  before(async () => {
    mailer = recordingMailer();
    srv = await startApp(
      {
        TRUST_PROXY: 'true',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        OTP_VERIFY_PER_NUMBER_HOUR: '1000',
        OTP_SEND_PER_NUMBER_HOUR: '1000',
      },
      { mailer },
    );
  });
  after(() => srv.close());

  const send = (email: unknown, ip = freshIp()) =>
    srv.request('/api/v1/auth/send-otp-email', json({ email }, { 'x-forwarded-for': ip }));
  const verify = (body: unknown, ip = freshIp()) =>
    srv.request('/api/v1/auth/verify-otp-email', json(body, { 'x-forwarded-for': ip }));

  it('sends a code by mail and logs in a new user with that e-mail, trimmed and lower-cased', async () => {
    const email = freshEmail();
    const sent = await send(`  ${email.toUpperCase()} `);
    expect(sent.status, sent.text).to.equal(201);
    expect(sent.body.data).to.deep.equal({ email, code: sent.body.data.code, expiresIn: 180, resendAvailableIn: 0 });
    expect(mailer.sent.at(-1)?.to).to.equal(email);
    expect(codeIn(mailer.sent.at(-1))).to.equal(sent.body.data.code);

    const res = await verify({
      email: email.toUpperCase(),
      code: sent.body.data.code,
      signupSource: 'newsletter',
      signupCampaign: 'launch',
    });
    expect(res.status, res.text).to.equal(200);
    expect(Object.keys(res.body.data)).to.deep.equal([
      'accessToken',
      'refreshToken',
      'expiresIn',
      'refreshExpiresIn',
      'user',
      'isRegistrationComplete',
    ]);
    expect(Object.keys(res.body.data.user)).to.deep.equal([...PRIVATE_USER_FIELDS]);
    expect(res.body.data.user).to.include({
      email,
      countryCode: null,
      phoneNumber: null,
      signupSource: 'newsletter',
      signupCampaign: 'launch',
    });
    const stored = await User.findOne({ emailKey: email }).lean();
    expect(stored?._id.toHexString()).to.equal(res.body.data.user.id);
    expect(stored).to.not.have.property('phoneKey'); // no phone identity: not in the sparse unique index

    // A second login finds the same user and keeps the attribution.
    const again = await send(email);
    const second = await verify({ email, code: again.body.data.code, signupSource: 'other' });
    expect(second.body.data.user.id).to.equal(res.body.data.user.id);
    expect(second.body.data.user.signupSource).to.equal('newsletter');
    expect(await Session.countDocuments({ userId: stored!._id })).to.equal(2);
  });

  it('refuses malformed bodies with 400, naming each field, and changes nothing', async () => {
    const email = freshEmail();
    const cases: [unknown, string[]][] = [
      [{}, ['email: is required', 'code: is required']],
      [{ email: 'not-an-address', code: '1234' }, ['email: not a valid e-mail address']],
      [{ email: 42, code: '1234' }, ['email: must be a string']],
      [{ email, code: '123' }, ['code: must be 4 digits']],
      [{ email, code: '1234', signupSource: 'a b' }, ['signupSource: must be 1-64 characters of A-Z a-z 0-9 . _ -']],
      [{ email, code: '1234', phoneNumber: '5551234567' }, ['phoneNumber: unknown field']],
    ];
    for (const [body, messages] of cases) {
      const res = await verify(body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.errors, JSON.stringify(body)).to.deep.equal(['Validation failed', ...messages]);
    }
    const bad = await send('nobody@');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.deep.equal(['Validation failed', 'email: not a valid e-mail address']);
    expect(await User.countDocuments({ emailKey: email })).to.equal(0);
    expect(await OtpCode.countDocuments({ _id: 'email:nobody@' })).to.equal(0);
  });

  it('one mailbox, one identity: refuses a quoted local part and invisible characters with 400, and creates nothing', async () => {
    const local = `look.alike.${randomUUID().slice(0, 8)}`;
    const invisible = 'email: must not contain spaces, invisible, formatting or control characters';
    const cases: [string, string][] = [
      [`"${local}"@example.com`, 'email: must not have a quoted local part'],
      [`${local}\u200B@example.com`, invisible], // zero-width space
      [`${local}\u200C@example.com`, invisible], // zero-width non-joiner
      [`${local}@exa\u200Dmple.com`, invisible], // zero-width joiner, in the domain
      [`${local}\u2060@example.com`, invisible], // word joiner
      [`\uFEFF${local}@example.com`, invisible], // BOM, which trim() would drop silently
      [`${local}\u00AD@example.com`, invisible], // soft hyphen
      [`${local}\u202E@example.com`, invisible], // right-to-left override
      [`${local}\u0007@example.com`, invisible], // a control character
      // Invisible outside Unicode Cf: default-ignorable code points, and the braille blank.
      [`${local}\u3164@example.com`, invisible], // Hangul filler
      [`${local}\u115F@example.com`, invisible], // Hangul choseong filler
      [`${local}\u1160@example.com`, invisible], // Hangul jungseong filler
      [`${local}\uFFA0@example.com`, invisible], // halfwidth Hangul filler
      [`${local}\u2800@example.com`, invisible], // braille pattern blank
      [`${local}\u034F@example.com`, invisible], // combining grapheme joiner
      [`${local}\uFE00@example.com`, invisible], // variation selector-1
      [`${local}\uFE0F@example.com`, invisible], // variation selector-16
      [`${local}@exam\u180Eple.com`, invisible], // Mongolian vowel separator, in the domain
      [`${local}\u17B4@example.com`, invisible], // Khmer vowel inherent aq
      [`${local}\u17B5@example.com`, invisible], // Khmer vowel inherent aa
    ];
    const codesBefore = await OtpCode.countDocuments();
    const mailsBefore = mailer.sent.length;
    for (const [email, message] of cases) {
      const sent = await send(email);
      expect(sent.status, JSON.stringify(email)).to.equal(400);
      expect(sent.body, JSON.stringify(email)).to.include({ isSuccess: false, statusCode: 400, data: null });
      expect(sent.body.errors, JSON.stringify(email)).to.deep.equal(['Validation failed', message]);
      const verified = await verify({ email, code: '1234' });
      expect(verified.status, JSON.stringify(email)).to.equal(400);
      expect(verified.body.errors, JSON.stringify(email)).to.deep.equal(['Validation failed', message]);
    }
    expect(mailer.sent.length, 'mails sent').to.equal(mailsBefore);
    expect(await OtpCode.countDocuments(), 'codes stored').to.equal(codesBefore);
    const keys = [`${local}@example.com`, ...cases.map(([e]) => e.trim().toLowerCase())];
    expect(await User.countDocuments({ $or: [{ emailKey: { $in: keys } }, { email: { $in: keys } }] })).to.equal(0);
  });

  it('normalizes an address (trim, lower case, Unicode NFC): two spellings of one mailbox are one user', async () => {
    const local = `zoe.${randomUUID().slice(0, 8)}`;
    const composed = `${local}\u00EB@example.com`; // ë as one code point
    const decomposed = `  ${local.toUpperCase()}E\u0308@Example.COM `; // Ë as E + combining diaeresis
    const sent = await send(decomposed);
    expect(sent.status, sent.text).to.equal(201);
    expect(sent.body.data.email).to.equal(composed);
    expect(mailer.sent.at(-1)?.to).to.equal(composed);
    const res = await verify({ email: composed, code: sent.body.data.code });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.data.user.email).to.equal(composed);
    const again = await send(composed);
    const second = await verify({ email: decomposed, code: again.body.data.code });
    expect(second.status, second.text).to.equal(200);
    expect(second.body.data.user.id).to.equal(res.body.data.user.id);
    expect(await User.countDocuments({ emailKey: composed })).to.equal(1);
  });

  it('refuses the right code after 5 wrong ones', async () => {
    const email = freshEmail();
    const { code } = (await send(email)).body.data;
    const wrong = code === '0000' ? '1111' : '0000';
    for (let i = 4; i >= 0; i--) {
      const res = await verify({ email, code: wrong });
      expect(res.status).to.equal(400);
      expect(res.body).to.deep.include({ errorCode: 'OTP_INVALID', details: { attemptsRemaining: i } });
    }
    const right = await verify({ email, code });
    expect(right.status).to.equal(404);
    expect(right.body.errorCode).to.equal('OTP_NOT_FOUND');
  });

  it('of 20 concurrent verifies with the right code, exactly one succeeds and one user exists', async () => {
    const email = freshEmail();
    const { code } = (await send(email)).body.data;
    const results = await Promise.all(Array.from({ length: 20 }, () => verify({ email, code })));
    expect(results.filter((r) => r.status === 200)).to.have.length(1);
    expect(results.filter((r) => r.status === 404 && r.body.errorCode === 'OTP_NOT_FOUND')).to.have.length(19);
    expect(await User.countDocuments({ emailKey: email })).to.equal(1);
  });

  it('makes 20 concurrent first logins of one address converge on one user', async () => {
    const email = freshEmail();
    const client = {
      language: 'en',
      timezone: 'UTC',
      timezoneGiven: false,
      platform: 'web',
      appVersion: null,
      deviceId: null,
      userAgent: null,
      ip: null,
    } as const;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => findOrCreateUser({ kind: 'email', email }, {}, client, new Date())),
    );
    expect(new Set(results.map((r) => r.user._id.toHexString())).size).to.equal(1);
    expect(results.filter((r) => r.isNew)).to.have.length(1);
    expect(await User.countDocuments({ emailKey: email })).to.equal(1);
  });

  it('answers 502 when the mail transport fails, and the code is not usable', async () => {
    const failing = recordingMailer();
    failing.failWith = new MailDeliveryError('smtp', 'rejected', 'smtp: rejected with 550', { responseCode: 550 });
    const app = await startApp({ TRUST_PROXY: 'true' }, { mailer: failing });
    try {
      const email = freshEmail();
      const ip = freshIp();
      const res = await app.request('/api/v1/auth/send-otp-email', json({ email }, { 'x-forwarded-for': ip }));
      expect(res.status).to.equal(502);
      expect(res.body).to.include({ errorCode: 'MAIL_DELIVERY_FAILED', data: null });
      expect(await OtpCode.countDocuments({ _id: `email:${email}` })).to.equal(0);
      const verifyRes = await app.request(
        '/api/v1/auth/verify-otp-email',
        json({ email, code: codeIn(failing.sent[0]) }, { 'x-forwarded-for': ip }),
      );
      expect(verifyRes.status).to.equal(404);
    } finally {
      await app.close();
    }
  });

  it('applies the resend cooldown per address', async () => {
    const app = await startApp({ TRUST_PROXY: 'true' }, { mailer: recordingMailer() });
    try {
      const email = freshEmail();
      const first = await app.request('/api/v1/auth/send-otp-email', json({ email }, { 'x-forwarded-for': freshIp() }));
      expect(first.status).to.equal(201);
      const second = await app.request(
        '/api/v1/auth/send-otp-email',
        json({ email: email.toUpperCase() }, { 'x-forwarded-for': freshIp() }),
      );
      expect(second.status).to.equal(429);
      expect(second.body.details.limits).to.deep.equal(['send-cooldown']);
    } finally {
      await app.close();
    }
  });
});
