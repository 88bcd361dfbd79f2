import { expect } from 'chai';
import { newUserDocument, User, type NewUserFields } from '../../src/models/user.js';

/** What mongoose builds for the same fields: a document with every default, validated, as a plain object. */
async function mongooseBuilds(fields: NewUserFields, now: Date, _id: unknown): Promise<Record<string, unknown>> {
  const doc = new User({ ...fields, _id, createdAt: now, updatedAt: now });
  await doc.validate();
  return doc.toObject() as Record<string, unknown>;
}

describe('a new user document (newUserDocument)', () => {
  const now = new Date('2026-12-06T03:00:00.000Z');
  const cases: [string, NewUserFields][] = [
    [
      'a phone signup without attribution',
      {
        phoneKey: '+905551234567',
        countryCode: '90',
        phoneNumber: '5551234567',
        signupCountry: '90',
        signupPlatform: 'web',
        timezone: null,
      },
    ],
    [
      'a phone signup with every attribution field and a time zone',
      {
        phoneKey: '+905551234568',
        countryCode: '90',
        phoneNumber: '5551234568',
        signupCountry: '90',
        signupSource: 'google',
        signupCampaign: 'winter-2026',
        signupMedium: 'cpc',
        signupContent: 'banner_a',
        signupTerm: 'otp.login',
        clickId: 'Cj0KCQ-abc_123',
        clickIdType: 'gclid',
        signupPlatform: 'ios',
        timezone: 'UTC+03:00',
      },
    ],
    [
      // What a login without attribution passes: null for every field it may leave unset. newUserDocument runs
      // no validator on a null, as mongoose runs none but `required`: a field made required would fail here.
      'a phone signup with every optional field null',
      {
        phoneKey: '+905551234569',
        countryCode: '90',
        phoneNumber: '5551234569',
        signupCountry: '90',
        signupSource: null,
        signupCampaign: null,
        signupMedium: null,
        signupContent: null,
        signupTerm: null,
        clickId: null,
        clickIdType: null,
        signupPlatform: 'web',
        timezone: null,
      },
    ],
    ['an e-mail signup', { emailKey: 'zoe@example.com', email: 'zoe@example.com', signupPlatform: 'android' }],
  ];

  for (const [name, fields] of cases) {
    it(`is the document mongoose builds: ${name}`, async () => {
      const ours = (await newUserDocument(fields, now)) as unknown as Record<string, unknown>;
      expect(ours).to.deep.equal(await mongooseBuilds(fields, now, ours._id));
      // Every default is there (not only the fields given): e.g. the roles, the counters, the consents.
      expect(ours).to.include({ isRegistrationComplete: false, followersCount: 0, privacyPolicyAccepted: false });
      expect(ours.roles).to.deep.equal(['user']);
    });
  }

  it('gives every document its own id and its own arrays', async () => {
    const a = await newUserDocument({ phoneKey: '+905551230001' }, now);
    const b = await newUserDocument({ phoneKey: '+905551230002' }, now);
    expect(a._id.equals(b._id)).to.equal(false);
    (a.roles as string[]).push('admin');
    (a.interests as string[]).push('music');
    expect(b.roles).to.deep.equal(['user']);
    expect(b.interests).to.deep.equal([]);
    const c = await newUserDocument({ phoneKey: '+905551230003' }, now);
    expect(c.roles).to.deep.equal(['user']);
  });

  it('refuses what the schema refuses: a click id type out of its enum', async () => {
    const fields = { phoneKey: '+905551230004', clickIdType: 'msclkid' } as unknown as NewUserFields;
    const mongooseError = await mongooseBuilds(fields, now, undefined).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(mongooseError?.name).to.equal('ValidationError');
    const ours = await newUserDocument(fields, now).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(ours?.name).to.equal('ValidationError');
    expect(ours?.message).to.include('clickIdType');
  });

  it('refuses a field the schema does not have', async () => {
    const err = await newUserDocument({ nickname: 'x' } as unknown as NewUserFields, now).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.include('no field nickname');
  });
});
