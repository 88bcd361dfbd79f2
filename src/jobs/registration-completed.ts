/**
 * Event: a user completed registration (a funnel step, docs/api.md#analytics).
 * One per user: registration completes once.
 */
import type { OutboxEvent } from './outbox.js';

export interface RegistrationCompletedJob {
  userId: string;
  /** ISO time of the completion. */
  completedAt: string;
  reqId?: string;
}

export const registrationCompletedJobId = (userId: string) => `registration-completed-${userId}`;

export function registrationCompletedEvent(data: RegistrationCompletedJob): OutboxEvent {
  return { queue: 'registration-completed', jobId: registrationCompletedJobId(data.userId), data: { ...data } };
}
