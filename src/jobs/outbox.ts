/**
 * Publishing side effects without losing any (contract §5).
 *
 * `publish()` writes the events to the MongoDB outbox, which the request
 * awaits (one insert), then enqueues them in the background (the fast path)
 * and marks them dispatched. If Redis is down, or the process dies before the
 * enqueue, the worker's `relayOutbox()` enqueues them later. Either way the
 * BullMQ job id is the event's id, and every processor is idempotent, so an
 * event sent twice has its effect once.
 */
import type { Logger } from '../lib/logger.js';
import { withTimeout } from '../lib/timeout.js';
import { Outbox } from '../models/outbox.js';
import type { QueueName, Queues } from './queues.js';

export interface OutboxEvent {
  queue: QueueName;
  /** The BullMQ job id: deterministic, from the business key. */
  jobId: string;
  /** Ids and non-personal values only. */
  data: Record<string, unknown>;
}

const KEEP_MS = 7 * 24 * 3600 * 1000;
const ENQUEUE_TIMEOUT_MS = 1000;

async function enqueue(queues: Queues, events: OutboxEvent[]): Promise<void> {
  await Promise.all(
    events.map((e) => withTimeout(queues[e.queue].add(e.queue, e.data, { jobId: e.jobId }), ENQUEUE_TIMEOUT_MS, `enqueue to ${e.queue} timed out`)),
  );
}

async function markDispatched(ids: string[], now: Date): Promise<void> {
  await Outbox.collection.updateMany({ _id: { $in: ids as never[] } }, { $set: { dispatchedAt: now } });
}

export class Publisher {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly queues: Queues,
    private readonly clock: () => Date,
  ) {}

  /**
   * Durably records the events (awaited), then enqueues them in the background, once `after` (the
   * records the jobs read, e.g. the login's session) has settled. If `after` fails, the fast path is
   * skipped: the events in `cancelIfAfterFails` (facts that did not happen, e.g. a login whose
   * session could not be stored) are deleted from the outbox, and the others wait there for the
   * relay. Should that delete fail too (the database is down), the relay delivers them later.
   */
  async publish(events: OutboxEvent[], log: Logger, opts: { after?: Promise<unknown>; cancelIfAfterFails?: OutboxEvent[] } = {}): Promise<void> {
    if (events.length === 0) return;
    // Settled before anything is awaited, so a failing `after` is never an unhandled rejection.
    const afterOk = (opts.after ?? Promise.resolve()).then(() => true, () => false);
    const now = this.clock();
    try {
      await Outbox.collection.insertMany(
        events.map((e) => ({ _id: e.jobId as never, queue: e.queue, name: e.queue, data: e.data, createdAt: now, dispatchedAt: null, expiresAt: new Date(now.getTime() + KEEP_MS) })),
        { ordered: false },
      );
    } catch (err) {
      // The same event recorded before (a retried request): it is in the outbox already.
      const e = err as { code?: number; writeErrors?: { code?: number }[] };
      const allDuplicates = e.code === 11000 && (e.writeErrors ?? []).every((w) => w.code === 11000);
      if (!allDuplicates) throw err;
    }
    const fastPath = afterOk.then((ok) =>
      // When `after` failed, the request reports its own error and the events wait in the outbox.
      ok
        ? enqueue(this.queues, events)
            .then(() => markDispatched(events.map((e) => e.jobId), this.clock()))
            .catch((err: unknown) => log.warn({ err: (err as Error).message, events: events.map((e) => e.jobId) }, 'enqueue deferred to the outbox relay'))
        : this.cancel(opts.cancelIfAfterFails ?? [], log),
    );
    this.pending.add(fastPath);
    void fastPath.finally(() => this.pending.delete(fastPath));
  }

  private async cancel(events: OutboxEvent[], log: Logger): Promise<void> {
    if (events.length === 0) return;
    const ids = events.map((e) => e.jobId);
    await Outbox.collection
      .deleteMany({ _id: { $in: ids as never[] }, dispatchedAt: null })
      .catch((err: unknown) => log.warn({ err: (err as Error).message, events: ids }, 'could not cancel outbox events; the relay will deliver them'));
  }

  /** Waits for background enqueues (graceful shutdown; tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/**
 * Enqueues the outbox events older than `afterMs` that are not dispatched yet.
 * @returns how many it dispatched.
 */
export async function relayOutbox(queues: Queues, now: Date, afterMs: number, batchSize = 500): Promise<number> {
  const due = await Outbox.collection
    .find({ dispatchedAt: null, createdAt: { $lte: new Date(now.getTime() - afterMs) } })
    .sort({ createdAt: 1 })
    .limit(batchSize)
    .toArray();
  if (due.length === 0) return 0;
  const events = due.map((d) => ({ queue: d.queue as QueueName, jobId: String(d._id), data: d.data as Record<string, unknown> }));
  await enqueue(queues, events);
  await markDispatched(events.map((e) => e.jobId), now);
  return events.length;
}

export const OUTBOX_RELAY_SCHEDULER_ID = 'outbox-relay';

/** The relay runs every `everyMs` in whichever worker takes the job. */
export async function scheduleOutboxRelay(queues: Queues, everyMs: number): Promise<void> {
  await queues['outbox-relay'].upsertJobScheduler(OUTBOX_RELAY_SCHEDULER_ID, { every: everyMs }, { name: 'relay', data: {} });
}
