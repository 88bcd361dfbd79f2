/**
 * Event: a new user's first-touch attribution is to be recorded. One per
 * user (the job id is the user id), so a retried request cannot send it twice.
 */
import type { OutboxEvent } from './outbox.js';

export interface SignupAttributionJob {
  userId: string;
  sessionId: string;
  reqId?: string;
}

export const signupAttributionJobId = (userId: string) => `signup-attribution-${userId}`;

export function signupAttributionEvent(data: SignupAttributionJob): OutboxEvent {
  return { queue: 'signup-attribution', jobId: signupAttributionJobId(data.userId), data: { ...data } };
}
