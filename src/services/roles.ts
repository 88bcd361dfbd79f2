/**
 * Roles (docs/operations.md#roles): granted, removed or set, by the admin API (`PUT /api/v1/admin/users/{id}/roles`)
 * and by the `grant-role` command alike. Every change is one atomic update of the user that returns the
 * roles it replaced (`returnDocument: 'before'`), so what was added and removed is exact even when two
 * changes race. `user` is always kept.
 *
 * A removed role must not live on in the access tokens already issued (their `roles` claim is signed in):
 * the user's sessions are ended (`revokedReason: role-revoked`), after the roles are written, so those
 * tokens stop within `SESSION_CACHE_TTL_MS` and the next login carries the new roles. A refresh racing
 * with the change may still sign the old roles, but only for a session that is ended here.
 */
import type { Types } from 'mongoose';
import { users } from '../models/collections.js';
import { ROLES, type Role } from '../models/user.js';
import { revokeSessions } from './sessions.js';

export interface RoleChange {
  before: Role[];
  after: Role[];
  added: Role[];
  removed: Role[];
  /** Sessions ended because a role was removed. */
  revokedSessions: number;
}

type Update = { $set: { roles: Role[] } } | { $addToSet: { roles: Role } } | { $pull: { roles: Role } };

/** The roles in `ROLES` order, `user` included. */
export const normalizeRoles = (roles: readonly Role[]): Role[] =>
  ROLES.filter((r) => r === 'user' || roles.includes(r));

async function apply(
  userId: Types.ObjectId,
  update: Update,
  after: (before: Role[]) => Role[],
  now: Date,
): Promise<RoleChange | null> {
  const prior = await users().findOneAndUpdate(
    { _id: userId, accountDeletionStatus: { $ne: 'finalized' } },
    { ...update, $set: { ...('$set' in update ? update.$set : {}), updatedAt: now } },
    { returnDocument: 'before', projection: { roles: 1 } },
  );
  if (!prior) return null;
  const before = normalizeRoles((prior.roles ?? ['user']) as Role[]);
  const result = normalizeRoles(after(before));
  const removed = before.filter((r) => !result.includes(r));
  const revokedSessions =
    removed.length > 0 ? await revokeSessions({ userId, expiresAt: { $gt: now } }, 'role-revoked', now) : 0;
  return { before, after: result, added: result.filter((r) => !before.includes(r)), removed, revokedSessions };
}

/**
 * Sets the user's roles to `roles` (plus `user`). @returns null when the user does not exist or is erased.
 */
export function setRoles(userId: Types.ObjectId, roles: readonly Role[], now: Date): Promise<RoleChange | null> {
  const next = normalizeRoles(roles);
  return apply(userId, { $set: { roles: next } }, () => next, now);
}

/** Adds one role, whatever else the user holds. @returns null when the user does not exist or is erased. */
export function grantRole(userId: Types.ObjectId, role: Role, now: Date): Promise<RoleChange | null> {
  return apply(userId, { $addToSet: { roles: role } }, (before) => [...before, role], now);
}

/** Removes one role (never `user`). @returns null when the user does not exist or is erased. */
export function revokeRole(userId: Types.ObjectId, role: Exclude<Role, 'user'>, now: Date): Promise<RoleChange | null> {
  return apply(userId, { $pull: { roles: role } }, (before) => before.filter((r) => r !== role), now);
}
