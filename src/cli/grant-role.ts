/**
 * Grants (or with --revoke, removes) a role to the user of a phone number:
 * how the first admin is made.
 *
 *   npm run grant-role -- +905551234567 marketing
 *   npm run grant-role -- +905551234567 admin --revoke
 *
 * A granted role is in the user's next access token (after a login or a refresh). A revoked one must not
 * live on in the tokens already issued (their `roles` claim is signed in): --revoke also ends every session
 * of the user, so those tokens stop within `SESSION_CACHE_TTL_MS` and the user signs in again without it.
 */
import { loadConfig } from '../../config/index.js';
import { bootOrExit } from '../lib/lifecycle.js';
import { connectMongo, disconnectMongo } from '../lib/mongo.js';
import { normalizePhone } from '../lib/phone.js';
import { users } from '../models/collections.js';
import { ROLES, User, type Role, type UserRecord } from '../models/user.js';
import { revokeSessions } from '../services/sessions.js';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

const USAGE = `usage: grant-role <+E.164 phone number> <${ROLES.join('|')}> [--revoke]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const revoke = args.includes('--revoke');
const [rawPhone, role] = args.filter((a) => a !== '--revoke');
if (!rawPhone || !role) fail('missing arguments');
if (!(ROLES as readonly string[]).includes(role)) fail(`unknown role "${role}"`);

let e164: string;
try {
  const parsed = parsePhoneNumberWithError(rawPhone);
  const phone = normalizePhone(parsed.countryCallingCode, parsed.nationalNumber);
  if ('error' in phone) fail(phone.error);
  e164 = phone.e164;
} catch {
  fail(`"${rawPhone}" is not a phone number in international format (+<country code><number>)`);
}

const config = await bootOrExit(() => loadConfig());
await connectMongo(config);
try {
  const user = await User.findOne({ phoneKey: e164 }).lean<UserRecord>();
  if (!user) fail(`no user has the number ${e164}; they must log in once first`);
  const roles = new Set<Role>(user.roles ?? ['user']);
  if (revoke) roles.delete(role as Role);
  else roles.add(role as Role);
  roles.add('user');
  const now = new Date();
  await users().updateOne({ _id: user._id }, { $set: { roles: [...roles], updatedAt: now } });
  // After the roles are written: a refresh racing with this may still sign the old role, but only for a
  // session that is ended here.
  const ended = revoke ? await revokeSessions({ userId: user._id, expiresAt: { $gt: now } }, 'role-revoked', now) : 0;
  process.stdout.write(
    `${user._id.toHexString()}: roles ${[...roles].join(', ')}${revoke ? `; ${ended} session(s) ended` : ''}\n`,
  );
} finally {
  await disconnectMongo();
}
