/**
 * The outbox relay, run by a job scheduler: enqueues events the web recorded
 * but could not enqueue (Redis was down, the process died after answering).
 */
import type { Job } from 'bullmq';
import { relayOutbox } from '../jobs/outbox.js';
import type { JobContext } from './context.js';

export async function processOutboxRelay(_job: Job, ctx: JobContext): Promise<{ relayed: number }> {
  let relayed = 0;
  // Drain in batches, so a long Redis outage is caught up in one run.
  for (;;) {
    const n = await relayOutbox(ctx.queues, ctx.now(), ctx.config.outbox.relayAfterMs);
    relayed += n;
    if (n < 500) break;
  }
  if (relayed > 0) ctx.log.info({ relayed }, 'outbox events relayed');
  return { relayed };
}
