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
import { normalizeInternationalPhone } from '../lib/phone.js';
import { ROLES, User, type Role, type UserRecord } from '../models/user.js';
import { recordOnce } from '../services/audit.js';
import { grantRole, revokeRole } from '../services/roles.js';

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
if (revoke && role === 'user') fail('the role "user" cannot be removed');

const phone = rawPhone.trim().startsWith('+')
  ? normalizeInternationalPhone(rawPhone)
  : { error: 'not in international format' };
if ('error' in phone) fail(`"${rawPhone}" is not a mobile number in international format (+<country code><number>)`);

const config = await bootOrExit(() => loadConfig());
await connectMongo(config);
try {
  const user = await User.findOne({ phoneKey: phone.e164 }, { _id: 1 }).lean<Pick<UserRecord, '_id'>>();
  if (!user) fail(`no user has the number ${phone.e164}; they must log in once first`);
  const now = new Date();
  const change = revoke
    ? await revokeRole(user._id, role as Exclude<Role, 'user'>, now)
    : await grantRole(user._id, role as Role, now);
  if (!change) fail(`the account of ${phone.e164} has been deleted`);
  if (change.added.length + change.removed.length > 0) {
    await recordOnce(config, `roles-changed-cli-${user._id.toHexString()}-${now.getTime()}`, {
      type: 'roles-changed',
      at: now,
      actorKind: 'cli',
      targetUserId: user._id,
      count: change.revokedSessions,
      details: { before: change.before, after: change.after, added: change.added, removed: change.removed },
    });
  }
  process.stdout.write(
    `${user._id.toHexString()}: roles ${change.after.join(', ')}${revoke ? `; ${change.revokedSessions} session(s) ended` : ''}\n`,
  );
} finally {
  await disconnectMongo();
}
