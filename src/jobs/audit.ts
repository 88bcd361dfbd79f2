/**
 * Event: a security-relevant fact about a user, recorded in the audit trail by the worker
 * (`src/workers/audit.ts`). Staff actions of the admin API are recorded by the request itself
 * (`src/services/audit.ts`); these are the rest: logins, wrong codes, refresh-token theft, logouts and
 * revoked sessions, deletion requests. The payload carries ids and non-personal values only: the worker
 * reads the IP and device from the session named by `actorSessionId` (or `sessionId`).
 *
 * The job id is deterministic per fact, so the same fact is one job and one event however often it is sent.
 */
import type { Platform } from '../lib/client-info.js';
import type { OutboxEvent } from './outbox.js';

/** The audit types the worker records (a subset of `AUDIT_TYPES`). */
export const WORKER_AUDIT_TYPES = [
  'login',
  'verify-failed',
  'refresh-token-reuse',
  'logout',
  'session-revoked',
  'deletion-requested',
  'deletion-cancelled',
  'deletion-finalized',
] as const;
export type WorkerAuditType = (typeof WORKER_AUDIT_TYPES)[number];

export interface AuditJob {
  type: WorkerAuditType;
  /** ISO time of the fact. */
  at: string;
  /** The user the fact is about. */
  userId: string;
  /** `user`: the account holder; `anonymous`: someone unknown (wrong codes, a reused refresh token). */
  actorKind: 'user' | 'anonymous';
  /** The session the fact is about (opened, ended, reused). */
  sessionId?: string;
  /** The session the actor used, where the IP and device are read from (default: `sessionId`). */
  actorSessionId?: string;
  /** `verify-failed`: the code, and which of its attempts this was (1-based). */
  codeId?: string;
  attempt?: number;
  /** `verify-failed`: how the code was sent, and the platform of the request (no session exists). */
  channel?: 'phone' | 'email';
  platform?: Platform;
  /** Sessions ended by a logout. */
  count?: number;
  reqId?: string;
}

/** The audit event's `_id`: one per fact; `verify-failed` is one per code, counting its attempts. */
export function auditEventId(
  d: Pick<AuditJob, 'type' | 'userId' | 'sessionId' | 'actorSessionId' | 'codeId' | 'at'>,
): string {
  switch (d.type) {
    case 'login':
    case 'refresh-token-reuse':
    case 'session-revoked':
      return `${d.type}-${d.sessionId}`;
    case 'logout':
      return `logout-${d.actorSessionId}`;
    case 'verify-failed':
      return `verify-failed-${d.codeId}`;
    case 'deletion-finalized':
      return `deletion-finalized-${d.userId}`;
    case 'deletion-requested':
    case 'deletion-cancelled':
      return `${d.type}-${d.userId}-${Date.parse(d.at)}`;
  }
}

export const auditJobId = (d: AuditJob) =>
  `audit-${auditEventId(d)}${d.type === 'verify-failed' ? `-${d.attempt}` : ''}`;

export function auditEvent(data: AuditJob): OutboxEvent {
  return { queue: 'audit', jobId: auditJobId(data), data: { ...data } };
}
