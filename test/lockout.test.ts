/**
 * Lockout by strangers, and what an attacker gets (RELIABILITY.md, "Lockout
 * by strangers"). With the defaults: 5 attempts per code, 10 verifies per
 * number per hour that reach a code, 5 codes per number per hour and 10 a day.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { users } from '../src/models/collections.js';
import { OtpCode } from '../src/models/otp-code.js';
import { freshIp, freshPhone, recordingSms, sendOtp, verifyOtp } from './support/auth.js';
import { startApp, type TestServer } from './support/http.js';

describe('lockout by strangers (RELIABILITY.md)', function () {
  this.timeout(60_000);
  let srv: TestServer;

  before(async () => {
    srv = await startApp({ TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0' }, { sms: recordingSms() });
  });
  after(() => srv.close());

  const wrongFor = (code: string) => (code === '0000' ? '1111' : '0000');

  /** The owner asks for a code bound to its device and logs in with it: tokens, and its user stored. */
  async function ownerLogsInBound(phone: { phoneNumber: string; e164: string }, ip: string): Promise<void> {
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, bindToDevice: true }, ip);
    expect(sent.status, sent.text).to.equal(201);
    const { code, verificationId } = sent.body.data as { code: string; verificationId: string };
    const login = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code, verificationId }, ip);
    expect(login.status, login.text).to.equal(200);
    const data = login.body.data as { accessToken: string; refreshToken: string; user: { id: string } };
    expect(data.accessToken).to.be.a('string').and.not.equal('');
    expect(data.refreshToken).to.be.a('string').and.not.equal('');
    const stored = await users().findOne({ phoneKey: phone.e164 });
    expect(stored?._id.toHexString()).to.equal(data.user.id);
  }

  it("a code bound to the owner's device: 20 strangers' guesses, with no id or made-up ones, reach nothing; the owner logs in", async () => {
    const phone = freshPhone();
    const ownerIp = freshIp();
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, bindToDevice: true }, ownerIp);
    expect(sent.status, sent.text).to.equal(201);
    const { code, verificationId } = sent.body.data as { code: string; verificationId: string };
    expect(verificationId).to.match(/^[A-Za-z0-9_-]{43}$/);
    const stored = await OtpCode.collection.findOne({ _id: `phone:${phone.e164}` as never });
    expect(stored?.verificationHash).to.match(/^[0-9a-f]{64}$/); // only a hash of the id is stored
    expect(JSON.stringify(stored)).to.not.include(verificationId);

    const strangers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        verifyOtp(
          srv,
          {
            countryCode: '90',
            phoneNumber: phone.phoneNumber,
            code: wrongFor(code),
            ...(i % 2 ? { verificationId: randomBytes(32).toString('base64url') } : {}),
          },
          freshIp(),
        ),
      ),
    );
    expect(new Set(strangers.map((r) => `${r.status} ${r.body.errorCode}`))).to.deep.equal(
      new Set(['404 OTP_NOT_FOUND']),
    );
    expect((await OtpCode.collection.findOne({ _id: `phone:${phone.e164}` as never }))?.attempts).to.equal(0);

    // Even the right code, without the id, does not reach it (an attacker who read the SMS over a shoulder).
    const withoutId = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, freshIp());
    expect(withoutId.status).to.equal(404);
    const owner = await verifyOtp(
      srv,
      { countryCode: '90', phoneNumber: phone.phoneNumber, code, verificationId },
      ownerIp,
    );
    expect(owner.status, owner.text).to.equal(200);
  });

  it("a stranger's own bound codes (2 sends, 10 wrong guesses with its verificationId) do not spend the owner's verify budget: the owner's bound code logs in", async () => {
    const phone = freshPhone();
    const strangerIp = freshIp();
    const guesses: string[] = [];
    for (let round = 0; round < 2; round++) {
      const sent = await sendOtp(
        srv,
        { countryCode: '90', phoneNumber: phone.phoneNumber, bindToDevice: true },
        strangerIp,
      );
      expect(sent.status, sent.text).to.equal(201);
      const { code, verificationId } = sent.body.data as { code: string; verificationId: string };
      for (let i = 0; i < 5; i++) {
        const r = await verifyOtp(
          srv,
          { countryCode: '90', phoneNumber: phone.phoneNumber, code: wrongFor(code), verificationId },
          strangerIp,
        );
        guesses.push(`${r.status} ${r.body.errorCode}`);
      }
      // The stranger's code is dead after its 5 attempts, for the stranger too: no 6th guess.
      const sixth = await verifyOtp(
        srv,
        { countryCode: '90', phoneNumber: phone.phoneNumber, code, verificationId },
        strangerIp,
      );
      expect(sixth.status).to.equal(404);
    }
    expect(guesses).to.deep.equal(Array(10).fill('400 OTP_INVALID')); // all 10 reached a code

    await ownerLogsInBound(phone, freshIp());
  });

  it("strangers' 10 guesses on unbound codes spend the number-wide budget (an unbound owner waits), but not the budget of the owner's bound code", async () => {
    const phone = freshPhone();
    for (let round = 0; round < 2; round++) {
      const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp());
      const code = sent.body.data.code as string;
      for (let i = 0; i < 5; i++) {
        const r = await verifyOtp(
          srv,
          { countryCode: '90', phoneNumber: phone.phoneNumber, code: wrongFor(code) },
          freshIp(),
        );
        expect(r.status).to.equal(400);
      }
    }
    // An owner whose client does not bind: the number's budget is spent (as before).
    const ownerIp = freshIp();
    const unbound = (await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ownerIp)).body.data
      .code as string;
    const refused = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: unbound }, ownerIp);
    expect(refused.status, refused.text).to.equal(429);
    expect(refused.body.details.limits).to.deep.equal(['verify-recipient-hour']);
    // An owner whose client binds: its code has its own budget.
    await ownerLogsInBound(phone, ownerIp);
  });

  it('the holder of a bound code has the same 5 attempts as anyone on an unbound code, not more', async () => {
    const phone = freshPhone();
    const ip = freshIp();
    const sent = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, bindToDevice: true }, ip);
    const { code, verificationId } = sent.body.data as { code: string; verificationId: string };
    const body = { countryCode: '90', phoneNumber: phone.phoneNumber, verificationId };
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await verifyOtp(srv, { ...body, code: wrongFor(code) }, ip);
      expect(r.status).to.equal(400);
      remaining.push(r.body.details.attemptsRemaining as number);
    }
    expect(remaining).to.deep.equal([4, 3, 2, 1, 0]);
    expect((await verifyOtp(srv, { ...body, code }, ip)).status).to.equal(404); // dead, for the holder too
    expect(
      (await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code }, freshIp())).status,
    ).to.equal(404);
  });

  it('an unbound code (a client that sends no id, as before): strangers kill each code with 5 guesses, and after 10 that reached a code the owner waits up to 60 minutes', async () => {
    const phone = freshPhone();
    const ownerIp = freshIp();
    const send = () => sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ownerIp);
    const strangers = (n: number) =>
      Promise.all(
        Array.from({ length: n }, () =>
          verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: '0000' }, freshIp()),
        ),
      );
    const firstCode = (await send()).body.data.code as string;
    await strangers(5);
    expect(
      (await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: firstCode }, ownerIp)).status,
      'the first code is dead',
    ).to.equal(404);
    // Guesses that reach no code (it is dead) are not charged to the number.
    expect(new Set((await strangers(5)).map((r) => r.status))).to.deep.equal(new Set([404]));
    await send();
    await strangers(5); // 10 attempts have now reached a code this hour
    const thirdCode = (await send()).body.data.code as string;
    const owner = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: thirdCode }, ownerIp);
    expect(owner.status, owner.text).to.equal(429);
    expect(owner.body.details.limits).to.deep.equal(['verify-recipient-hour']);
    expect(owner.body.details.retryAfterSeconds).to.be.within(3500, 3600); // the owner's worst case: 60 minutes
  });

  it('burning the send budget: the 11th code of a day is refused for up to 24 hours, bound or not', async () => {
    const phone = freshPhone();
    const limited = await startApp(
      { TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_SEND_PER_NUMBER_HOUR: '100' },
      { sms: recordingSms() },
    );
    try {
      for (let i = 0; i < 10; i++)
        expect(
          (await sendOtp(limited, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp())).status,
        ).to.equal(201);
      const owner = await sendOtp(
        limited,
        { countryCode: '90', phoneNumber: phone.phoneNumber, bindToDevice: true },
        freshIp(),
      );
      expect(owner.status).to.equal(429);
      expect(owner.body.details.limits).to.deep.equal(['send-recipient-day']);
      expect(owner.body.details.retryAfterSeconds).to.be.within(86_000, 86_400);
    } finally {
      await limited.close();
    }
  });
});
