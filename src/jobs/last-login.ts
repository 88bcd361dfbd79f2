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
  /** ISO time the user signed up: the worker reads the signup's facts only on day 1, 7 or 30 after it. */
  signedUpAt?: string;
  reqId?: string;
}

export const lastLoginJobId = (sessionId: string) => `last-login-${sessionId}`;

export function lastLoginEvent(data: LastLoginJob): OutboxEvent {
  return { queue: 'last-login', jobId: lastLoginJobId(data.sessionId), data: { ...data } };
}
