/**
 * Publishing side effects without losing any (see docs: "Side effects").
 *
 * `publish()` writes the request's events to the MongoDB outbox as one
 * document, which the request awaits (one insert), then enqueues them in the
 * background (the fast path, gathered across requests: FAST_PATH) and deletes
 * the document. If Redis is down, or the process dies before the enqueue, the
 * worker's `relayOutbox()` enqueues them later. Either way the BullMQ job id
 * is the event's id, and every processor is idempotent, so an event sent
 * twice has its effect once.
 */
import { Batcher, type BatcherOptions } from '../lib/batcher.js';
import type { Logger } from '../lib/logger.js';
import { withTimeout } from '../lib/timeout.js';
import { outbox } from '../models/collections.js';
import { isDuplicateKey } from '../models/write-once.js';
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
/**
 * The fast path's enqueues are gathered across requests for up to 25 ms (or 64 requests): one `addBulk` per
 * queue and one outbox delete per batch, and the worker wakes once per batch and queue instead of once per job
 * (BENCHMARKS.md). The events are in the outbox already: the wait delays their effect, it risks none of them.
 */
export const FAST_PATH: BatcherOptions = { lingerMs: 25, maxItems: 64 };

/**
 * Enqueues `events`: one `addBulk` per queue (a pipeline, one round trip each), all within ENQUEUE_TIMEOUT_MS
 * (one timer). An event already enqueued (the same job id) is not added again. Exported for the benchmark's
 * floor, which enqueues as the app does.
 */
export async function enqueue(queues: Queues, events: OutboxEvent[]): Promise<void> {
  const byQueue = new Map<QueueName, OutboxEvent[]>();
  for (const e of events) {
    const list = byQueue.get(e.queue);
    if (list) list.push(e);
    else byQueue.set(e.queue, [e]);
  }
  await withTimeout(
    Promise.all(
      [...byQueue].map(([queue, list]) =>
        queues[queue].addBulk(list.map((e) => ({ name: queue, data: e.data, opts: { jobId: e.jobId } }))),
      ),
    ),
    ENQUEUE_TIMEOUT_MS,
    `enqueue to ${[...byQueue.keys()].join(', ')} timed out`,
  );
}

/** Delivered: the outbox documents go (by `_id`; the outbox holds only what is still to deliver). */
async function markDispatched(ids: string[]): Promise<void> {
  if (ids.length === 1) await outbox().deleteOne({ _id: ids[0]! });
  else await outbox().deleteMany({ _id: { $in: ids } });
}

export class Publisher {
  private readonly pending = new Set<Promise<void>>();
  /** Requests' events on their way to the queues, a batch at a time (FAST_PATH). */
  private readonly fast = new Batcher<{ id: string; events: OutboxEvent[] }>(async (_key, items) => {
    await enqueue(
      this.queues,
      items.flatMap((i) => i.events),
    );
    await markDispatched(items.map((i) => i.id));
  }, FAST_PATH);

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
  async publish(
    events: OutboxEvent[],
    log: Logger,
    opts: { after?: Promise<unknown>; cancelIfAfterFails?: OutboxEvent[] } = {},
  ): Promise<void> {
    if (events.length === 0) return;
    // Settled before anything is awaited, so a failing `after` is never an unhandled rejection.
    const afterOk = (opts.after ?? Promise.resolve()).then(
      () => true,
      () => false,
    );
    const now = this.clock();
    const id = events[0]!.jobId;
    try {
      await outbox().insertOne({
        _id: id,
        events: events.map((e) => ({ queue: e.queue, jobId: e.jobId, data: e.data })),
        createdAt: now,
        expiresAt: new Date(now.getTime() + KEEP_MS),
      });
    } catch (err) {
      // The same events recorded before (a retried request): they are in the outbox already.
      if (!isDuplicateKey(err)) throw err;
    }
    const fastPath = afterOk.then((ok) =>
      // When `after` failed, the request reports its own error and the events wait in the outbox.
      ok
        ? this.fast
            .add('enqueue', { id, events })
            .catch((err: unknown) =>
              log.warn(
                { err: (err as Error).message, events: events.map((e) => e.jobId) },
                'enqueue deferred to the outbox relay',
              ),
            )
        : this.cancel(id, opts.cancelIfAfterFails ?? [], log),
    );
    this.pending.add(fastPath);
    void fastPath.finally(() => this.pending.delete(fastPath));
  }

  /** Withdraws `events` from outbox document `id` (one `$pull`: the relay may read it at the same time). */
  private async cancel(id: string, events: OutboxEvent[], log: Logger): Promise<void> {
    if (events.length === 0) return;
    const ids = events.map((e) => e.jobId);
    await outbox()
      .updateOne({ _id: id }, { $pull: { events: { jobId: { $in: ids } } } })
      .catch((err: unknown) =>
        log.warn(
          { err: (err as Error).message, events: ids },
          'could not cancel outbox events; the relay will deliver them',
        ),
      );
  }

  /** Waits for background enqueues (graceful shutdown; tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/**
 * A document written by a release before December 2026 (one event per document, `dispatchedAt` once
 * enqueued), which old web dynos may still write while a deploy is under way.
 */
function legacyEvents(d: Record<string, unknown>): OutboxEvent[] {
  if (d.dispatchedAt) return []; // delivered already: only to be deleted
  return [{ queue: d.queue as QueueName, jobId: String(d._id), data: d.data as Record<string, unknown> }];
}

/**
 * Enqueues the events of outbox documents older than `afterMs` (the fast path has had its chance)
 * and deletes those documents. The outbox holds only undelivered events, so this reads little.
 * @returns how many documents it delivered (at most `batchSize`).
 */
export async function relayOutbox(queues: Queues, now: Date, afterMs: number, batchSize = 500): Promise<number> {
  const due = await outbox()
    .find({ createdAt: { $lte: new Date(now.getTime() - afterMs) } })
    .sort({ createdAt: 1 })
    .limit(batchSize)
    .toArray();
  if (due.length === 0) return 0;
  const events = due.flatMap((d) => (d.events as OutboxEvent[] | undefined) ?? legacyEvents(d));
  await enqueue(queues, events);
  await markDispatched(due.map((d) => String(d._id)));
  return due.length;
}

export const OUTBOX_RELAY_SCHEDULER_ID = 'outbox-relay';

/** The relay runs every `everyMs` in whichever worker takes the job. */
export async function scheduleOutboxRelay(queues: Queues, everyMs: number): Promise<void> {
  await queues['outbox-relay'].upsertJobScheduler(
    OUTBOX_RELAY_SCHEDULER_ID,
    { every: everyMs },
    { name: 'relay', data: {} },
  );
}
