/**
 * Per key, one write at a time: what arrives while a write is in flight goes into the next one, as a batch.
 * At low load a write starts at once (no added latency); under load the callers of a key share one write,
 * which saves the worker a database round trip per job and item (src/services/rollups.ts,
 * src/models/write-once.ts).
 */

/** An item of a batch that failed on its own (the write's other items did not). */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

export class Batcher<T, R = void> {
  private readonly pending = new Map<
    string,
    { items: T[]; settle: { ok: (r: R) => void; fail: (e: unknown) => void }[] }
  >();
  private readonly busy = new Set<string>();

  /** `write` returns a result per item (or an `ItemFailure`), or nothing when the items need none. */
  constructor(private readonly write: (key: string, items: T[]) => Promise<(R | ItemFailure)[] | void>) {}

  add(key: string, item: T): Promise<R> {
    return new Promise((ok, fail) => {
      const batch = this.pending.get(key) ?? { items: [], settle: [] };
      batch.items.push(item);
      batch.settle.push({ ok, fail });
      this.pending.set(key, batch);
      if (!this.busy.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.busy.add(key);
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
