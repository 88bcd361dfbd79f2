/**
 * Events of the top of the funnel (docs/api.md#analytics): a code was sent, a code was
 * verified. One per code (the job id is the code's id). They carry the
 * calling code, the platform and the request's attribution, never the
 * number, the address or the code.
 */
import type { OutboxEvent } from './outbox.js';

export type FunnelStep = 'otp-sent' | 'otp-verified';

export interface FunnelJob {
  step: FunnelStep;
  codeId: string;
  /** ISO time of the event. */
  at: string;
  channel: 'phone' | 'email';
  country: string | null;
  platform: string;
  source: string | null;
  campaign: string | null;
  /** The verify request's `signupMedium` (optional: older producers and the outbox may lack it). */
  medium?: string | null;
}

export const funnelJobId = (step: FunnelStep, codeId: string) => `${step}-${codeId}`;

export function funnelEvent(data: FunnelJob): OutboxEvent {
  return { queue: 'funnel', jobId: funnelJobId(data.step, data.codeId), data: { ...data } };
}
