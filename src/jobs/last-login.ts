/**
 * Producer: a login happened. One job per session (one login opens one
 * session), so the job id is the session id.
 */
import type { Queues } from './queues.js';

export interface LastLoginJob {
  userId: string;
  sessionId: string;
  /** ISO time of the login; the worker never moves `lastLogin` backwards. */
  loginAt: string;
  reqId?: string;
}

export const lastLoginJobId = (sessionId: string) => `last-login-${sessionId}`;

export async function enqueueLastLogin(queues: Queues, data: LastLoginJob): Promise<void> {
  await queues['last-login'].add('last-login', data, { jobId: lastLoginJobId(data.sessionId) });
}
