/**
 * Producer: a user completed registration (a funnel event, contract §5).
 * One job per user: registration completes once.
 */
import type { Queues } from './queues.js';

export interface RegistrationCompletedJob {
  userId: string;
  /** ISO time of the completion. */
  completedAt: string;
  reqId?: string;
}

export const registrationCompletedJobId = (userId: string) => `registration-completed-${userId}`;

export async function enqueueRegistrationCompleted(queues: Queues, data: RegistrationCompletedJob): Promise<void> {
  await queues['registration-completed'].add('registration-completed', data, { jobId: registrationCompletedJobId(data.userId) });
}
