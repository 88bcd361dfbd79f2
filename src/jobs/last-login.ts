/**
 * Event: a login happened. One per session (one login opens one session),
 * so the job id is the session id.
 */
import type { OutboxEvent } from './outbox.js';

export interface LastLoginJob {
  userId: string;
  sessionId: string;
  /** ISO time of the login; the worker never moves `lastLogin` backwards. */
  loginAt: string;
  reqId?: string;
}

export const lastLoginJobId = (sessionId: string) => `last-login-${sessionId}`;

export function lastLoginEvent(data: LastLoginJob): OutboxEvent {
  return { queue: 'last-login', jobId: lastLoginJobId(data.sessionId), data: { ...data } };
}
