/**
 * The user (docs/api.md, "The user"). One account per normalized phone
 * number, and one per verified e-mail address, is guaranteed by sparse
 * unique indexes on `phoneKey` (`+905551234567`) and `emailKey`
 * (`user@example.com`). A user without that identity, or whose account was
 * finalized, has no such field at all, and a sparse index leaves it out.
 * (A partial index on `{$type: 'string'}` says the same on MongoDB, but the
 * embedded server indexes a missing field as `null` there; sparse behaves
 * alike on both, which the smoke test asserts.)
 *
 * Every write to a user is one atomic update operator (`$set`, `$max`,
 * `$unset`) under a filter that states the state it expects: requests and the
 * worker change one user at the same time, and no change may overwrite
 * another (test/lost-updates.test.ts).
 */
import { model, Schema, Types, type InferSchemaType } from 'mongoose';

export const AVAILABILITY = ['available', 'busy', 'away', 'offline'] as const;
export const GENDERS = ['male', 'female', 'other', 'prefer_not_to_say'] as const;
export const DELETION_STATUSES = ['pending', 'cancelled', 'finalized'] as const;
export const EXPERTISE = [
  'musician',
  'trainer',
  'chef',
  'photographer',
  'designer',
  'stylist',
  'gamer',
  'educator',
  'coach',
  'entertainer',
  'developer',
  'creator',
] as const;
/**
 * `user`: everyone. `marketing`: the reports. `support`: the admin API's look-ups and account actions
 * (sessions, limits, suspension). `admin`: all of that, plus roles and erasure (docs/operations.md#roles).
 */
export const ROLES = ['user', 'admin', 'marketing', 'support'] as const;
export type Role = (typeof ROLES)[number];

const nullString = { type: String, default: null };

const nullDate = { type: Date, default: null };

const userSchema = new Schema(
  {
    phoneKey: { type: String, unique: true, sparse: true },
    emailKey: { type: String, unique: true, sparse: true },
    countryCode: nullString,
    phoneNumber: nullString,
    name: nullString,
    surname: nullString,
    username: nullString,
    signupSource: nullString,
    signupCampaign: nullString,
    // First-touch attribution beyond the contract's two fields: written once, with them; not in the user object.
    signupMedium: nullString,
    signupContent: nullString,
    signupTerm: nullString,
    clickId: nullString,
    clickIdType: { type: String, enum: ['gclid', 'fbclid', 'ttclid', 'other', null], default: null },
    profilePhoto: nullString,
    availabilityStatus: { type: String, enum: [...AVAILABILITY, null], default: null },
    birthDate: nullDate,
    gender: { type: String, enum: [...GENDERS, null], default: null },
    interests: { type: [String], default: [] },
    expertise: { type: [{ type: String, enum: EXPERTISE }], default: [] },
    email: nullString,
    bio: nullString,
    instagram: nullString,
    x: nullString,
    tiktok: nullString,
    snapchat: nullString,
    facebook: nullString,
    privacyPolicyAccepted: { type: Boolean, default: false },
    privacyPolicyVersion: nullString,
    termsOfUseAccepted: { type: Boolean, default: false },
    termsOfUseVersion: nullString,
    consentFormAccepted: { type: Boolean, default: false },
    consentFormVersion: nullString,
    isRegistrationComplete: { type: Boolean, default: false },
    roles: { type: [{ type: String, enum: ROLES }], default: ['user'] },
    followersCount: { type: Number, default: 0 },
    followingCount: { type: Number, default: 0 },
    minutePriceInLiveStream: { type: Number, default: 0 },
    creditBalance: { type: Number, default: 0 },
    lastLogin: nullDate,
    timezone: nullString,
    lastUsernameChangeDate: nullDate,
    accountDeletionStatus: { type: String, enum: [...DELETION_STATUSES, null], default: null },
    accountDeletionRequestedAt: nullDate,
    accountDeletionScheduledFor: nullDate,
    accountDeletionCancelledAt: nullDate,
    accountDeletionFinalizedAt: nullDate,
    // Internal: never in the public projection.
    signupCountry: nullString,
    signupPlatform: nullString,
    suspendedAt: nullDate,
  },
  // No version key: users are written by update operators and inserts, never by a document `save()`
  // (users stored before this carry an unread `__v: 0`).
  { timestamps: true, collection: 'users', versionKey: false },
);

// The deletion sweep: pending requests that are due.
userSchema.index({ accountDeletionStatus: 1, accountDeletionScheduledFor: 1 });
// Support's look-up by e-mail also finds the profile address (not a login identity, not unique).
userSchema.index({ email: 1 });

export type UserFields = InferSchemaType<typeof userSchema>;
export type UserRecord = UserFields & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export const User = model('User', userSchema);

/** The fields a signup sets (the rest are the schema's defaults). */
export type NewUserFields = Partial<
  Pick<
    UserFields,
    | 'phoneKey'
    | 'emailKey'
    | 'countryCode'
    | 'phoneNumber'
    | 'email'
    | 'signupCountry'
    | 'signupSource'
    | 'signupCampaign'
    | 'signupMedium'
    | 'signupContent'
    | 'signupTerm'
    | 'clickId'
    | 'clickIdType'
    | 'signupPlatform'
    | 'timezone'
  >
>;

/** Every schema default of a user, as `new User({}).toObject()` has them; read from the schema once. */
let defaults: Record<string, unknown> | undefined;

/**
 * A new user document, the one `new User({ ...fields, createdAt: now, updatedAt: now }).toObject()` gives
 * once `validate()` passed (test/unit/new-user.test.ts compares them), without building a mongoose document
 * per signup (0.2 ms of CPU in a tight loop, about 1 ms per new user in the login's CPU profile). The schema stays
 * the one source: the defaults are read from it once, and the given non-null fields whose paths have validators
 * (the `clickIdType` enum) go through `User.validate` for those paths alone. Arrays are fresh per document.
 * @throws mongoose's ValidationError for a value a validator refuses, or an Error for a field the schema lacks.
 */
export async function newUserDocument(fields: NewUserFields, now: Date): Promise<UserRecord> {
  if (!defaults) {
    const { _id: _unused, ...rest } = new User({}).toObject() as Record<string, unknown>;
    defaults = rest;
  }
  const doc: Record<string, unknown> = { _id: new Types.ObjectId() };
  for (const [key, value] of Object.entries(defaults)) doc[key] = Array.isArray(value) ? [...value] : value;
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const path = userSchema.path(key);
    if (!path) throw new Error(`newUserDocument: the user schema has no field ${key}`);
    // Mongoose runs no validator but `required` on a null, and no signup field is required (the unit test checks).
    if (value !== null && path.validators.length > 0) checked[key] = value;
    doc[key] = value;
  }
  const paths = Object.keys(checked);
  if (paths.length > 0) await User.validate(checked, paths);
  doc.createdAt = now;
  doc.updatedAt = now;
  return doc as UserRecord;
}

/** The private user object (docs/api.md#the-user), exactly these keys, in this order. */
export const PRIVATE_USER_FIELDS = [
  'id',
  'name',
  'surname',
  'username',
  'countryCode',
  'phoneNumber',
  'signupSource',
  'signupCampaign',
  'profilePhoto',
  'availabilityStatus',
  'birthDate',
  'gender',
  'interests',
  'expertise',
  'email',
  'bio',
  'instagram',
  'x',
  'tiktok',
  'snapchat',
  'facebook',
  'privacyPolicyAccepted',
  'privacyPolicyVersion',
  'termsOfUseAccepted',
  'termsOfUseVersion',
  'consentFormAccepted',
  'consentFormVersion',
  'isRegistrationComplete',
  'roles',
  'followersCount',
  'followingCount',
  'minutePriceInLiveStream',
  'creditBalance',
  'lastLogin',
  'timezone',
  'lastUsernameChangeDate',
  'accountDeletionStatus',
  'accountDeletionRequestedAt',
  'accountDeletionScheduledFor',
  'accountDeletionCancelledAt',
  'accountDeletionFinalizedAt',
] as const;
export type PrivateUser = Record<(typeof PRIVATE_USER_FIELDS)[number], unknown>;

const ARRAY_FIELDS = new Set(['interests', 'expertise', 'roles']);
const COUNTER_FIELDS = new Set(['followersCount', 'followingCount', 'minutePriceInLiveStream', 'creditBalance']);
const BOOLEAN_FIELDS = new Set([
  'privacyPolicyAccepted',
  'termsOfUseAccepted',
  'consentFormAccepted',
  'isRegistrationComplete',
]);

/** Projects a stored user (lean or hydrated) to the private user object. */
export function toPrivateUser(user: Partial<UserRecord> & { _id: Types.ObjectId }): PrivateUser {
  const src = user as unknown as Record<string, unknown>;
  const out = {} as PrivateUser;
  for (const key of PRIVATE_USER_FIELDS) {
    if (key === 'id') {
      out.id = user._id.toHexString();
      continue;
    }
    const v = src[key];
    if (ARRAY_FIELDS.has(key)) out[key] = Array.isArray(v) ? [...(v as unknown[])] : [];
    else if (COUNTER_FIELDS.has(key)) out[key] = typeof v === 'number' ? v : 0;
    else if (BOOLEAN_FIELDS.has(key)) out[key] = v === true;
    else if (v instanceof Date) out[key] = v.toISOString();
    else out[key] = v ?? null;
  }
  return out;
}
