/**
 * Per key, one write at a time: what arrives while a write is in flight goes into the next one, as a batch,
 * which saves the worker a database round trip per job and item (src/services/rollups.ts,
 * src/models/write-once.ts).
 *
 * With `lingerMs`, the first item of an idle key waits that long for company before its write starts (or less,
 * once `maxItems` have come). Without it, an idle key's write starts at once, and batches form only while a
 * write is in flight, that is only under load: at a moderate job rate nearly every item was a write of its own,
 * so the worker spent more per job the fewer jobs it had (docs/architecture.md, "How the guarantees hold").
 */

/** An item of a batch that failed on its own (the write's other items did not). */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

export interface BatcherOptions {
  /** How long the first item of an idle key waits for more before its write starts (0: not at all). */
  lingerMs?: number;
  /** A lingering batch that reaches this many items is written at once. */
  maxItems?: number;
}

interface Batch<T, R> {
  items: T[];
  settle: { ok: (r: R) => void; fail: (e: unknown) => void }[];
}

export class Batcher<T, R = void> {
  private readonly pending = new Map<string, Batch<T, R>>();
  /** Keys with a write in flight or a lingering batch (whose timer is here). */
  private readonly busy = new Map<string, NodeJS.Timeout | undefined>();
  private readonly lingerMs: number;
  private readonly maxItems: number;

  /** `write` returns a result per item (or an `ItemFailure`), or nothing when the items need none. */
  constructor(
    private readonly write: (key: string, items: T[]) => Promise<(R | ItemFailure)[] | void>,
    options: BatcherOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
    this.maxItems = options.maxItems ?? Infinity;
  }

  add(key: string, item: T): Promise<R> {
    return new Promise((ok, fail) => {
      const batch = this.pending.get(key) ?? { items: [], settle: [] };
      batch.items.push(item);
      batch.settle.push({ ok, fail });
      this.pending.set(key, batch);
      if (!this.busy.has(key)) {
        if (this.lingerMs > 0 && this.maxItems > 1) {
          const timer = setTimeout(() => void this.drain(key), this.lingerMs);
          this.busy.set(key, timer);
        } else void this.drain(key);
      } else {
        // A lingering batch that is full goes now (a batch waiting behind a write in flight goes after it).
        const timer = this.busy.get(key);
        if (timer && batch.items.length >= this.maxItems) {
          clearTimeout(timer);
          void this.drain(key);
        }
      }
    });
  }

  private async drain(key: string): Promise<void> {
    this.busy.set(key, undefined);
    for (let batch = this.pending.get(key); batch; batch = this.pending.get(key)) {
      this.pending.delete(key);
      try {
        const results = await this.write(key, batch.items);
        batch.settle.forEach((s, i) => {
          const r = results ? results[i] : undefined;
          if (r instanceof ItemFailure) s.fail(r.error);
          else s.ok(r as R);
        });
      } catch (err) {
        for (const s of batch.settle) s.fail(err);
      }
    }
    this.busy.delete(key);
  }
}

/**
 * The batching of the jobs' writes (rollup cells, facts settled, write-once inserts) and of their reads and
 * updates by `_id` (src/models/by-id.ts): 10 ms is nothing to a side effect nobody waits for, and 16 items is
 * about what one queue's worker has in flight at once under load, when a batch should go without waiting
 * (BENCHMARKS.md).
 */
export const JOB_WRITES: BatcherOptions = { lingerMs: 10, maxItems: 16 };
