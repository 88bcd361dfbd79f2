import { expect } from 'chai';
import { SmsDeliveryError } from '../src/lib/sms/index.js';
import { OtpCode } from '../src/models/otp-code.js';
import { codeIn, freshIp, freshPhone, recordingSms, sendOtp, verifyOtp } from './support/auth.js';
import { showsCode } from './support/logs.js';
import { startApp, type TestServer } from './support/http.js';

describe('POST /api/v1/auth/send-otp (contract §2.1)', () => {
  it('stores a new code that replaces the previous one', async () => {
    const sms = recordingSms();
    const srv = await startApp({ TRUST_PROXY: 'true', OTP_RESEND_COOLDOWN_SECONDS: '0' }, { sms });
    try {
      const phone = freshPhone();
      const ip = freshIp();
      const first = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      const second = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      expect([first.status, second.status]).to.deep.equal([201, 201]);
      expect(await OtpCode.countDocuments({ _id: `phone:${phone.e164}` })).to.equal(1); // one code per number: the second replaced the first
      if (first.body.data.code !== second.body.data.code) {
        const old = await verifyOtp(
          srv,
          { countryCode: '90', phoneNumber: phone.phoneNumber, code: first.body.data.code },
          ip,
        );
        expect(old.status).to.equal(400);
        expect(old.body.errorCode).to.equal('OTP_INVALID');
      }
      const res = await verifyOtp(
        srv,
        { countryCode: '90', phoneNumber: phone.phoneNumber, code: second.body.data.code },
        ip,
      );
      expect(res.status).to.equal(200);
    } finally {
      await srv.close();
    }
  });

  it('refuses invalid numbers with a named field, sending nothing and storing nothing', async () => {
    const sms = recordingSms();
    const srv = await startApp({ TRUST_PROXY: 'true' }, { sms });
    try {
      const cases: [unknown, string[]][] = [
        [
          { countryCode: '90', phoneNumber: '2125551234' },
          ['phoneNumber: not a valid mobile number for country code 90'],
        ],
        [{ countryCode: '90', phoneNumber: 'hello' }, ['phoneNumber: not a valid mobile number for country code 90']],
        [
          { countryCode: '1234', phoneNumber: '5551234567' },
          ['countryCode: must be 1-3 digits, optionally with a leading +'],
        ],
        [{ countryCode: '90' }, ['phoneNumber: is required']],
        [{ countryCode: '90', phoneNumber: null }, ['phoneNumber: is required']],
        [{ countryCode: '90', phoneNumber: ['5551234567'] }, ['phoneNumber: must be a string']],
        [{ countryCode: '90', phoneNumber: '5321234567', code: '1234' }, ['code: unknown field']],
      ];
      for (const [body, messages] of cases) {
        const res = await sendOtp(srv, body, freshIp());
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.errors, JSON.stringify(body)).to.deep.equal(['Validation failed', ...messages]);
      }
      expect(sms.sent).to.have.length(0);
      expect(await OtpCode.countDocuments({ _id: 'phone:+902125551234' })).to.equal(0);
    } finally {
      await srv.close();
    }
  });

  describe('limits (§6)', () => {
    let srv: TestServer;
    before(async () => {
      srv = await startApp(
        {
          TRUST_PROXY: 'true',
          OTP_SEND_PER_NUMBER_HOUR: '3',
          OTP_SEND_PER_IP_HOUR: '4',
          OTP_RESEND_COOLDOWN_SECONDS: '60',
        },
        { sms: recordingSms() },
      );
    });
    after(() => srv.close());

    it('applies the resend cooldown per number with 429, Retry-After and details', async () => {
      const phone = freshPhone();
      expect((await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp())).status).to.equal(
        201,
      );
      const res = await sendOtp(srv, { countryCode: '+90', phoneNumber: `0${phone.phoneNumber}` }, freshIp());
      expect(res.status).to.equal(429);
      expect(res.body).to.include({ isSuccess: false, statusCode: 429, data: null, errorCode: 'RATE_LIMITED' });
      expect(res.body.errors).to.deep.equal(['Too many requests']);
      expect(res.body.details.retryAfterSeconds).to.be.within(55, 60);
      expect(res.body.details.limits).to.deep.equal(['send-cooldown']);
      expect(res.headers.get('retry-after')).to.equal(String(res.body.details.retryAfterSeconds));
      expect(await OtpCode.countDocuments({ _id: `phone:${phone.e164}` })).to.equal(1);
    });

    it('applies the per-IP budget across numbers', async () => {
      const ip = freshIp();
      for (let i = 0; i < 4; i++)
        expect((await sendOtp(srv, { countryCode: '90', phoneNumber: freshPhone().phoneNumber }, ip)).status).to.equal(
          201,
        );
      const phone = freshPhone();
      const res = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      expect(res.status).to.equal(429);
      expect(res.body.details.limits).to.include('send-ip-hour');
      expect(await OtpCode.countDocuments({ _id: `phone:${phone.e164}` })).to.equal(0);
    });
  });

  it('applies the per-number hourly budget', async () => {
    const srv = await startApp(
      { TRUST_PROXY: 'true', OTP_SEND_PER_NUMBER_HOUR: '2', OTP_RESEND_COOLDOWN_SECONDS: '0' },
      { sms: recordingSms() },
    );
    try {
      const phone = freshPhone();
      for (let i = 0; i < 2; i++)
        expect((await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp())).status).to.equal(
          201,
        );
      const res = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp());
      expect(res.status).to.equal(429);
      expect(res.body.details.limits).to.deep.equal(['send-recipient-hour']);
    } finally {
      await srv.close();
    }
  });

  it('answers 502 when the SMS provider fails, and the code it made is not usable', async () => {
    const sms = recordingSms();
    sms.failWith = new SmsDeliveryError('twilio', 'timeout', 'twilio: no answer within 5000 ms');
    const srv = await startApp({ TRUST_PROXY: 'true' }, { sms });
    try {
      const phone = freshPhone();
      const ip = freshIp();
      const res = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
      expect(res.status).to.equal(502);
      expect(res.body).to.include({ isSuccess: false, data: null, errorCode: 'SMS_DELIVERY_FAILED' });
      expect(res.body.errors[0]).to.equal('Upstream service failed');
      const attempted = codeIn(sms.sent[0]);
      expect(await OtpCode.countDocuments({ _id: `phone:${phone.e164}` })).to.equal(0);
      const verify = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: attempted }, ip);
      expect(verify.status).to.equal(404);
      // The cooldown was given back: the user can ask again at once.
      sms.failWith = undefined;
      expect((await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip)).status).to.equal(201);
    } finally {
      await srv.close();
    }
  });

  it('omits the code when exposure is off', async () => {
    const sms = recordingSms();
    const srv = await startApp({ TRUST_PROXY: 'true', OTP_EXPOSE_CODE: 'false' }, { sms });
    try {
      const phone = freshPhone();
      const res = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, freshIp());
      expect(res.status).to.equal(201);
      expect(res.body.data).to.deep.equal({
        countryCode: '+90',
        phoneNumber: phone.phoneNumber,
        expiresIn: 180,
        resendAvailableIn: 60,
      });
      expect(sms.sent).to.have.length(1);
    } finally {
      await srv.close();
    }
  });

  it('sends the SMS in Turkish when X-Language is tr', async () => {
    const sms = recordingSms();
    const srv = await startApp({ TRUST_PROXY: 'true' }, { sms });
    try {
      const res = await sendOtp(srv, { countryCode: '90', phoneNumber: freshPhone().phoneNumber }, freshIp(), {
        'x-language': 'tr',
      });
      expect(res.status).to.equal(201);
      expect(sms.sent[0]?.text).to.include('doğrulama kodunuz').and.include(res.body.data.code);
    } finally {
      await srv.close();
    }
  });

  it('gives test numbers their fixed code without SMS or send limits, and logs each use', async () => {
    const sms = recordingSms();
    const phone = freshPhone();
    const srv = await startApp(
      { TRUST_PROXY: 'true', OTP_TEST_NUMBERS: `${phone.e164}=4242`, OTP_SEND_PER_NUMBER_HOUR: '1' },
      { sms },
    );
    try {
      const ip = freshIp();
      for (let i = 0; i < 3; i++) {
        const res = await sendOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber }, ip);
        expect(res.status).to.equal(201);
        expect(res.body.data.code).to.equal('4242');
      }
      expect(sms.sent).to.have.length(0);
      const login = await verifyOtp(srv, { countryCode: '90', phoneNumber: phone.phoneNumber, code: '4242' }, ip);
      expect(login.status).to.equal(200);
      const uses = srv.logs.lines().filter((l) => String(l.msg).startsWith('test number'));
      expect(uses).to.have.length(4);
      expect(srv.logs.text()).to.not.match(showsCode('4242'));
    } finally {
      await srv.close();
    }
  });
});
