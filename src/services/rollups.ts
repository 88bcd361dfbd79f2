/**
 * The reports' rollups (docs/architecture.md#what-the-reports-read): one document per kind of fact and UTC
 * day, whose cells (the dimension values) hold counters, per day and per quarter hour. The worker records each fact and
 * applies it to its rollup exactly once, with no transaction, through a log:
 *
 * - a rollup's `v` is the number of its facts applied so far; the fact that comes next carries `seq: v`;
 * - a new fact is inserted with `seq` = the `v` it read; the unique `{rollupId, seq}` index hands each seq
 *   to one fact (the others read `v` again);
 * - the fact with `seq: k` is applied by the compare-and-set `{_id, v: k}` → `$inc` its counters, `v: k+1`,
 *   which succeeds once, whoever runs it;
 * - anyone who finds a seq taken applies that fact first (it may belong to a job that crashed between its
 *   two writes), so the log never stalls, and a retried job finds its own fact by `_id` and applies it only
 *   if `v` has not passed it.
 *
 * So a job applied twice counts once, and a crash between the fact and the rollup is mended by the retry or
 * by the next fact of that rollup. `rebuildRollups` recomputes every rollup from the facts.
 */
import type { mongo, Types } from 'mongoose';
import {
  analyticsRollups,
  funnelEvents,
  registrationCompletions,
  retentionReturns,
  signupAttributions,
  type AnalyticsRollupDoc,
  type RollupLogFields,
} from '../models/collections.js';
import { isDuplicateKey } from '../models/write-once.js';
import { SLOT_MS, utcDay } from '../lib/tz.js';

export const NONE = '(none)';

export const ROLLUP_KINDS = ['signup', 'completion', 'return', 'funnel'] as const;
export type RollupKind = (typeof ROLLUP_KINDS)[number];

/** The dimensions of a cell, in key order. */
export const COHORT_DIMENSIONS = ['source', 'campaign', 'medium', 'country', 'platform'] as const;
export const FUNNEL_DIMENSIONS = ['source', 'campaign', 'medium'] as const;
export const DIMENSIONS_OF: Record<RollupKind, readonly string[]> = {
  signup: COHORT_DIMENSIONS,
  completion: COHORT_DIMENSIONS,
  return: COHORT_DIMENSIONS,
  funnel: FUNNEL_DIMENSIONS,
};

/**
 * The cells of a rollup come in two grains: every dimension of the kind (`t`, `s`), and the marketing ones
 * only (`u`, `w`: source, campaign, medium), a few dozen a day, which a report that groups and filters by no
 * other reads instead (a tenth of the cells for the usual signups and every retention report).
 */
export const GRAINS = {
  full: { total: 't', slots: 's' },
  marketing: { total: 'u', slots: 'w' },
} as const;
export type Grain = keyof typeof GRAINS;
export const MARKETING_DIMENSIONS = FUNNEL_DIMENSIONS;
/** The grain a report reads, given the dimensions it groups or filters by. */
export const grainFor = (kind: RollupKind, dims: readonly string[]): Grain =>
  kind !== 'funnel' && dims.every((d) => d === 'day' || (MARKETING_DIMENSIONS as readonly string[]).includes(d))
    ? 'marketing'
    : 'full';

export const rollupIdOf = (kind: RollupKind, day: string) => `${kind}|${day}`;

/** A field name may not hold a dot: attribution values may, so `.` is written `%2E` (`%` is never in a value). */
const escape = (v: string | null | undefined) => (v ?? '').replace(/\./g, '%2E');
const unescape = (v: string) => v.replace(/%2E/g, '.');

/** The quarter hour (0-95) of the UTC day of `at`. */
export const slotOf = (at: Date) => Math.floor((((at.getTime() % 86_400_000) + 86_400_000) % 86_400_000) / SLOT_MS);

/** The cell of dimension values `dims`: the values joined by `|`, escaped. */
export const cellOf = (dims: (string | null | undefined)[]): string => dims.map(escape).join('|');

/** The dimension values of a cell. */
export const parseCell = (cell: string): (string | null)[] =>
  cell.split('|').map((d) => (d === '' ? null : unescape(d)));

/**
 * Where a fact counts: its rollup (the kind and UTC day), its quarter hour, its cell in each grain, and
 * its counters. A rollup holds each counter per day in `t.<cell>.<counter>` and per quarter hour in
 * `s.<slot>.<cell>.<counter>` (and the same in `u`, `w` for the marketing grain), so a report whose days
 * begin at UTC midnight reads the day totals only.
 */
export interface Placement {
  rollupId: string;
  slot: number;
  cells: Partial<Record<Grain, string>>;
  inc: Record<string, number>;
}

function place(
  kind: RollupKind,
  at: Date,
  dims: (string | null | undefined)[],
  inc: Record<string, number>,
): Placement {
  const cells: Placement['cells'] = { full: cellOf(dims) };
  if (kind !== 'funnel') cells.marketing = cellOf(dims.slice(0, MARKETING_DIMENSIONS.length));
  return { rollupId: rollupIdOf(kind, utcDay(at.getTime())), slot: slotOf(at), cells, inc };
}

type AnyFact = Record<string, unknown>;
/** Counters per cell: `{ <cell>: { <counter>: n } }`. */
export type Counters = Record<string, Record<string, number>>;
/** A fact of any kind, as the log sees it. */
interface FactDoc extends RollupLogFields {
  _id: string | Types.ObjectId;
  [field: string]: unknown;
}
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const cohortDims = (f: AnyFact) => [
  str(f.source) ?? NONE,
  str(f.campaign) ?? NONE,
  str(f.medium) ?? NONE,
  str(f.country),
  str(f.platform),
];
const FUNNEL_COUNTERS: Record<string, string> = {
  'otp-sent': 'otpSent',
  'otp-verified': 'otpVerified',
  login: 'logins',
};

/** Where each kind's facts count; also the rebuild's rule, so rebuilt and incremental rollups agree. */
export const PLACE: Record<RollupKind, (fact: AnyFact) => Placement> = {
  signup: (f) => place('signup', f.signedUpAt as Date, cohortDims(f), { signups: 1 }),
  // Completions count in their signup's cohort; facts older than `signedUpAt` fall back to the signup day.
  completion: (f) =>
    place(
      'completion',
      (f.signedUpAt as Date | undefined) ?? new Date(`${String(f.signupDay)}T00:00:00Z`),
      cohortDims(f),
      { completed: 1 },
    ),
  return: (f) => place('return', f.signedUpAt as Date, cohortDims(f), { [`d${String(f.n)}`]: 1 }),
  funnel: (f) =>
    place('funnel', f.at as Date, [str(f.source) ?? NONE, str(f.campaign) ?? NONE, str(f.medium) ?? NONE], {
      [FUNNEL_COUNTERS[String(f.step)]!]: 1,
    }),
};

/** The fact collection of each kind. */
const loose = (c: { collectionName: string }) => c as unknown as mongo.Collection<FactDoc>;
export const FACTS_OF: Record<RollupKind, () => mongo.Collection<FactDoc>> = {
  signup: () => loose(signupAttributions()),
  completion: () => loose(registrationCompletions()),
  return: () => loose(retentionReturns()),
  funnel: () => loose(funnelEvents()),
};

const incOf = (p: Placement): RollupLogFields['rollupInc'] =>
  Object.entries(p.inc).flatMap(([k, n]) => [
    ...Object.entries(p.cells).flatMap(([grain, cell]) => [
      { p: `${GRAINS[grain as Grain].total}.${cell}.${k}`, n },
      { p: `${GRAINS[grain as Grain].slots}.${p.slot}.${cell}.${k}`, n },
    ]),
  ]);

/** Applies the fact holding `seq` of `rollupId` (read unless given), if `v` is still at it. */
async function applyAt(kind: RollupKind, rollupId: string, seq: number, fact?: RollupLogFields | null): Promise<void> {
  const f = fact ?? (await FACTS_OF[kind]().findOne({ rollupId, seq }));
  if (!f?.rollupInc) return;
  const $inc = Object.fromEntries((f.rollupInc as { p: string; n: number }[]).map((x) => [x.p, x.n]));
  try {
    await analyticsRollups().updateOne(
      { _id: rollupId, v: seq },
      { $inc, $set: { v: seq + 1, kind, day: rollupId.slice(kind.length + 1) } },
      { upsert: seq === 0 },
    );
  } catch (err) {
    // The upsert of seq 0 lost to a document that exists: that fact was applied already.
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Records fact `doc` (its `_id` deterministic) of `kind` and applies it to its rollup, once however often it
 * is called. @returns true when this call inserted the fact.
 */
export async function recordFact(kind: RollupKind, doc: FactDoc): Promise<boolean> {
  const placement = PLACE[kind](doc);
  const facts = FACTS_OF[kind]();
  const rollupId = placement.rollupId;
  for (;;) {
    const v = (await analyticsRollups().findOne({ _id: rollupId }, { projection: { v: 1 } }))?.v ?? 0;
    const fact = { ...doc, rollupId, seq: v, rollupInc: incOf(placement) };
    try {
      await facts.insertOne(fact);
      await applyAt(kind, rollupId, v, fact);
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const mine = await facts.findOne({ _id: doc._id });
    if (!mine) {
      await applyAt(kind, rollupId, v); // seq v is another fact's: help it along, then try the next seq
      continue;
    }
    // Delivered again: ours is in the log. Apply it unless `v` has passed it (a fact older than the rollups
    // has no seq; the rebuild counts it).
    if (typeof mine.seq === 'number' && mine.rollupId === rollupId) await applyAt(kind, rollupId, mine.seq, mine);
    return false;
  }
}

/**
 * Recomputes every rollup from the facts: `v` becomes the number of logged facts of each rollup (so the log
 * continues after it) and `c` the counts of all its facts, those older than the rollups included. Run it
 * with the workers stopped (a fact applied while it runs may count twice or not at all); run it again to
 * mend that. @returns the number of facts and rollups per kind.
 */
export async function rebuildRollups(
  kinds: readonly RollupKind[] = ROLLUP_KINDS,
): Promise<Record<string, { facts: number; rollups: number }>> {
  const out: Record<string, { facts: number; rollups: number }> = {};
  for (const kind of kinds) {
    const docs = new Map<string, { v: number } & Record<string, Counters | Record<string, Counters> | number>>();
    let facts = 0;
    for await (const f of FACTS_OF[kind]().find({}, { batchSize: 5000 })) {
      facts++;
      const p = PLACE[kind](f);
      const doc = docs.get(p.rollupId) ?? { v: 0, t: {}, s: {}, ...(kind === 'funnel' ? {} : { u: {}, w: {} }) };
      for (const [grain, cell] of Object.entries(p.cells)) {
        const names = GRAINS[grain as Grain];
        const total = ((doc[names.total] as Counters)[cell] ??= {});
        const slot = (((doc[names.slots] as Record<string, Counters>)[String(p.slot)] ??= {})[cell] ??= {});
        for (const [k, n] of Object.entries(p.inc)) {
          total[k] = (total[k] ?? 0) + n;
          slot[k] = (slot[k] ?? 0) + n;
        }
      }
      if (f.rollupId === p.rollupId && typeof f.seq === 'number') doc.v = Math.max(doc.v, f.seq + 1);
      docs.set(p.rollupId, doc);
    }
    const ops: mongo.AnyBulkWriteOperation<AnalyticsRollupDoc>[] = [...docs].map(([_id, d]) => ({
      replaceOne: {
        filter: { _id },
        replacement: { ...d, kind, day: _id.slice(kind.length + 1) } as Omit<AnalyticsRollupDoc, '_id'>,
        upsert: true,
      },
    }));
    const rollups = analyticsRollups();
    for (let i = 0; i < ops.length; i += 200) await rollups.bulkWrite(ops.slice(i, i + 200), { ordered: false });
    await rollups.deleteMany({ kind, _id: { $nin: [...docs.keys()] } });
    out[kind] = { facts, rollups: docs.size };
  }
  return out;
}
