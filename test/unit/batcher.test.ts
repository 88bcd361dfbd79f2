import { expect } from 'chai';
import { Batcher, ItemFailure } from '../../src/lib/batcher.js';

/** A batcher over a write that records each batch and answers when told to. */
function recording(options?: ConstructorParameters<typeof Batcher>[1]) {
  const writes: string[][] = [];
  const release: (() => void)[] = [];
  const batcher = new Batcher<string, string>(async (key, items) => {
    writes.push(items);
    await new Promise<void>((r) => release.push(r));
    return items.map((i) => (i === 'bad' ? new ItemFailure(new Error('bad item')) : `${key}:${i}`));
  }, options);
  /** Resolves once the write count reaches n (each write is started from a timer or a resolved promise). */
  const writesReach = async (n: number) => {
    while (writes.length < n) await new Promise((r) => setImmediate(r));
  };
  return { batcher, writes, release, writesReach };
}

describe('Batcher (the jobs’ batched writes)', () => {
  it('without a linger writes an idle key’s item at once, and batches what comes while a write is in flight', async () => {
    const { batcher, writes, release, writesReach } = recording();
    const a = batcher.add('k', 'a');
    expect(writes).to.deep.equal([['a']]); // started in the same tick
    const rest = [batcher.add('k', 'b'), batcher.add('k', 'c')];
    release.shift()!();
    expect(await a).to.equal('k:a');
    await writesReach(2);
    expect(writes[1]).to.deep.equal(['b', 'c']);
    release.shift()!();
    expect(await Promise.all(rest)).to.deep.equal(['k:b', 'k:c']);
  });

  it('with a linger, the items of an idle key that come within it share one write, which starts after it', async () => {
    const { batcher, writes, release, writesReach } = recording({ lingerMs: 5, maxItems: 100 });
    const all = ['a', 'b', 'c'].map((i) => batcher.add('k', i));
    const other = batcher.add('other', 'x'); // each key has its own batch
    expect(writes, 'nothing written before the linger').to.deep.equal([]);
    await writesReach(2);
    expect(writes).to.deep.equal([['a', 'b', 'c'], ['x']]);
    release.forEach((r) => r());
    expect(await Promise.all(all)).to.deep.equal(['k:a', 'k:b', 'k:c']);
    expect(await other).to.equal('other:x');
  });

  it('with a linger, a batch that reaches maxItems is written at once, without waiting for the linger', async () => {
    const { batcher, writes, release } = recording({ lingerMs: 60_000, maxItems: 3 });
    const all = ['a', 'b', 'c'].map((i) => batcher.add('k', i));
    expect(writes).to.deep.equal([['a', 'b', 'c']]);
    release.shift()!();
    expect(await Promise.all(all)).to.deep.equal(['k:a', 'k:b', 'k:c']);
  });

  it('fails only the items that failed, and a failed write fails its whole batch and not the next', async () => {
    const { batcher, release, writesReach } = recording({ lingerMs: 1, maxItems: 100 });
    const good = batcher.add('k', 'good');
    const bad = batcher.add('k', 'bad');
    await writesReach(1);
    release.shift()!();
    expect(await good).to.equal('k:good');
    const err = await bad.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.equal('bad item');

    let calls = 0;
    const flaky = new Batcher<string>(
      async () => {
        if (++calls === 1) throw new Error('write failed');
      },
      { lingerMs: 1 },
    );
    const first = await Promise.allSettled([flaky.add('k', 'a'), flaky.add('k', 'b')]);
    expect(first.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    expect(await flaky.add('k', 'c')).to.equal(undefined);
    expect(calls).to.equal(2);
  });
});
