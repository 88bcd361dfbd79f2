/**
 * Producer: a new user's first-touch attribution is to be recorded.
 * One job per user (the job id is the user id), so a retried request
 * cannot enqueue it twice.
 */
import type { Queues } from './queues.js';

export interface SignupAttributionJob {
  userId: string;
  sessionId: string;
  reqId?: string;
}

export const signupAttributionJobId = (userId: string) => `signup-attribution-${userId}`;

export async function enqueueSignupAttribution(queues: Queues, data: SignupAttributionJob): Promise<void> {
  await queues['signup-attribution'].add('signup-attribution', data, { jobId: signupAttributionJobId(data.userId) });
}
