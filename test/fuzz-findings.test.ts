/**
 * Problems `npm run fuzz` (schemathesis against /openapi.json) found or pointed at:
 * - string limits were enforced in UTF-16 units (`String#length`, validator.js's `isLength`)
 *   while the document's `minLength`/`maxLength` count characters (code points), so a
 *   schema-valid name of emoji was refused;
 * - the document's reserved-username rule was case-sensitive while the app's is not;
 * - three errors had no `errorCode` to branch on: a missing role (403), an account already
 *   deleted (409), an account changing state at signup (409).
 */
import { expect } from 'chai';
import { Types } from 'mongoose';
import { AppError } from '../src/lib/errors.js';
import { charLength } from '../src/middleware/validate.js';
import { exampleRegistration } from '../src/openapi/examples.js';
import { buildOpenApiSpec, type JsonSchema } from '../src/openapi/spec.js';
import { cancelDeletion, requestDeletion } from '../src/services/account-deletion.js';
import { login, post } from './support/auth.js';
import { testConfig } from './support/env.js';
import { startApp, type TestServer } from './support/http.js';

const EMOJI = '\u{1F600}'; // one character, two UTF-16 units
const VS16 = '\u2764\uFE0F'; // a heart and a variation selector: two characters

describe('string limits count characters, as the OpenAPI document does', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startApp({ OTP_RESEND_COOLDOWN_SECONDS: '0' });
  });
  after(() => srv.close());

  it('charLength counts code points', () => {
    expect(charLength('')).to.equal(0);
    expect(charLength('abc')).to.equal(3);
    expect(charLength(EMOJI.repeat(3))).to.equal(3);
    expect(charLength(VS16)).to.equal(2);
    expect(charLength('\uD800x')).to.equal(2); // a lone surrogate is one
  });

  it('profile text of astral characters is accepted up to the documented maxLength, refused past it', async () => {
    const s = await login(srv);
    const patch = (body: unknown) => srv.request('/api/v1/users/me', post(s.accessToken, body, 'PATCH'));

    const ok = await patch({ name: EMOJI.repeat(50), bio: EMOJI.repeat(500), interests: [EMOJI.repeat(40)] });
    expect(ok.status, ok.text).to.equal(200);
    expect(ok.body.data.name).to.equal(EMOJI.repeat(50));
    expect(ok.body.data.interests).to.deep.equal([EMOJI.repeat(40)]);

    const tooLong = await patch({ name: EMOJI.repeat(51) });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.body.errors).to.deep.equal(['Validation failed', 'name: must be a string of 1-50 characters']);

    // Variation selectors are characters too (validator.js's isLength did not count them).
    const selectors = await patch({ surname: VS16.repeat(26) });
    expect(selectors.status).to.equal(400);
    expect(selectors.body.errors).to.deep.equal(['Validation failed', 'surname: must be a string of 1-50 characters']);
  });

  it('required strings (refresh tokens) take the documented 256 characters: astral ones and variation selectors count', async () => {
    const refresh = (refreshToken: string) =>
      srv.request('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });
    for (const atLimit of [EMOJI.repeat(256), VS16.repeat(128)]) {
      const res = await refresh(atLimit);
      expect(res.status, res.text).to.equal(401); // well-formed, just not a token of ours
      expect(res.body.errorCode).to.equal('REFRESH_TOKEN_INVALID');
    }
    for (const over of [EMOJI.repeat(257), VS16.repeat(129)]) {
      const res = await refresh(over);
      expect(res.status, res.text).to.equal(400);
      expect(res.body.errors).to.deep.equal(['Validation failed', 'refreshToken: must be 1-256 characters']);
    }
  });

  it('the document refuses reserved usernames in any case, as the app does', async () => {
    const doc = buildOpenApiSpec({ servers: [] });
    const username = (doc.components.schemas.ChangeUsernameRequest!.properties as Record<string, JsonSchema>)
      .newUsername!;
    const reserved = new RegExp((username.not as { pattern: string }).pattern, 'u');
    for (const name of ['admin', 'Admin', 'ADMIN', 'Support', 'nULL']) expect(reserved.test(name), name).to.equal(true);
    for (const name of ['admins', 'my.admin', 'ayse.music']) expect(reserved.test(name), name).to.equal(false);

    const s = await login(srv);
    const res = await srv.request(
      '/api/v1/users/me/complete-registration',
      post(s.accessToken, { ...exampleRegistration(), username: 'Admin' }),
    );
    expect(res.status).to.equal(400);
    expect(res.body.errors).to.deep.equal(['Validation failed', 'username: is reserved']);
  });
});

describe('errors carry an errorCode to branch on', () => {
  it('an account already deleted is 409 ACCOUNT_DELETED (request and cancel deletion)', async () => {
    const gone = new Types.ObjectId();
    for (const attempt of [
      () => requestDeletion(testConfig(), gone, new Date()),
      () => cancelDeletion(gone, new Date()),
    ]) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(AppError);
      expect(err).to.include({ status: 409, errorCode: 'ACCOUNT_DELETED' });
      expect((err as AppError).errors).to.deep.equal([
        'Resource already exists or cannot be changed in its current state',
        'account: already deleted',
      ]);
    }
  });

  it('the document lists every errorCode the app can send on those responses', () => {
    const doc = buildOpenApiSpec({ servers: [] });
    const codesOf = (path: string, method: 'get' | 'post' | 'delete', status: string) => {
      const response = doc.paths[path]![method]!.responses[status] as unknown as {
        content: Record<string, { schema: { allOf: { properties?: { errorCode?: { enum: string[] } } }[] } }>;
      };
      return response.content['application/json']!.schema.allOf[1]!.properties!.errorCode!.enum;
    };
    expect(codesOf('/api/v1/analytics/signups', 'get', '403')).to.deep.equal(['ROLE_REQUIRED']);
    expect(codesOf('/api/v1/analytics/funnel', 'get', '403')).to.deep.equal(['ROLE_REQUIRED']);
    expect(codesOf('/api/v1/users/me/account-deletion', 'post', '409')).to.deep.equal(['ACCOUNT_DELETED']);
    expect(codesOf('/api/v1/users/me/account-deletion', 'delete', '409')).to.include('ACCOUNT_DELETED');
    expect(codesOf('/api/v1/users/me/account-deletion/finalize-now', 'post', '409')).to.deep.equal(['ACCOUNT_DELETED']);
    expect(codesOf('/api/v1/auth/verify-otp', 'post', '409')).to.deep.equal([
      'ACCOUNT_SUSPENDED',
      'ACCOUNT_UNAVAILABLE',
    ]);
  });
});
