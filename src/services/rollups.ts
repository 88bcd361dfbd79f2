/**
 * The reports' rollups (docs/architecture.md#what-the-reports-read). A fact counts in one small **cell document**
 * per grain: `<kind>|<grain>|<UTC day>|<cell>` (`signup|m|2026-03-29|google|spring|cpc`), holding the cell's
 * counters for the day (`c`), per hour of the UTC day (`h.<0-23>`) and per quarter hour (`q.<0-95>`). A **day document**
 * (`analytics_rollup_days`, `<kind>|<grain>|<UTC day>`) lists the day's cells, so a report reads the days of its
 * range, then their cells, all by `_id`. No document is shared by all the facts of a day: a hot cell takes `$inc`s
 * side by side, with no sequence to contend for and no large document to rewrite on each fact.
 *
 * Each fact counts once, with no transaction:
 *
 * 1. the fact is inserted with `applying: true` (its `_id` is deterministic: a second delivery finds it);
 * 2. each of its cells gets `$inc` of its counters and, in the same update, the marker `p.<fact id>`;
 * 3. the fact's `applying` is unset; the markers are then removed (on the cell's next update, or within a few
 *    seconds by a flush), since only an `applying` fact's markers are ever read.
 *
 * A delivery that finds the fact already inserted counts nothing if it is no longer `applying`. If it is, the
 * attempt that inserted it stopped between 1 and 3, or is still at it: when that attempt is an earlier one of
 * the same job (so it failed), or began longer ago than twice the job lock, this one applies the fact to each
 * cell that lacks its marker, then does 3; otherwise it fails with `FactInFlightError` and BullMQ retries it
 * (two logins' jobs recording one retention return at once meet here). So a job applied twice counts once,
 * and a crash between the fact and its cells is mended by the retry. (Not covered: an attempt frozen past
 * twice its job lock between 1 and 2, then resumed; both may count the fact. `rebuildRollups`, the
 * `rebuild-rollups` command, recomputes every rollup from the facts.)
 */
import type { mongo, Types } from 'mongoose';
import {
  analyticsDaySummaries,
  analyticsRollupDays,
  analyticsRollups,
  funnelEvents,
  registrationCompletions,
  retentionReturns,
  signupAttributions,
  type AnalyticsRollupDoc,
} from '../models/collections.js';
import { insertOnce, isDuplicateKey, upsertRetried } from '../models/write-once.js';
import { Batcher, JOB_WRITES } from '../lib/batcher.js';
import { addDays, DAY_MS, SLOT_MS, utcDay } from '../lib/tz.js';

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
 * The cells come in two grains: every dimension of the kind (`f`), and the marketing ones only (`m`: source,
 * campaign, medium), a few dozen a day, which a report that groups and filters by no other reads instead (a
 * tenth of the cells for the usual signups and every retention report). Funnel facts have the first only.
 */
export const GRAINS = { full: 'f', marketing: 'm' } as const;
export type Grain = keyof typeof GRAINS;
export const MARKETING_DIMENSIONS = FUNNEL_DIMENSIONS;
/** The grain a report reads, given the dimensions it groups or filters by. */
export const grainFor = (kind: RollupKind, dims: readonly string[]): Grain =>
  kind !== 'funnel' && dims.every((d) => d === 'day' || (MARKETING_DIMENSIONS as readonly string[]).includes(d))
    ? 'marketing'
    : 'full';

/** The day document of `kind`, `grain` and UTC `day`: it lists the day's cells. */
export const rollupDayIdOf = (kind: RollupKind, grain: Grain, day: string) => `${kind}|${GRAINS[grain]}|${day}`;
/** The cell document of `cell` on that day. */
export const rollupCellIdOf = (kind: RollupKind, grain: Grain, day: string, cell: string) =>
  `${rollupDayIdOf(kind, grain, day)}|${cell}`;

/** A field name may not hold a dot: attribution values may, so `.` is written `%2E` (`%` is never in a value). */
const escape = (v: string | null | undefined) => (v ?? '').replace(/\./g, '%2E');
const unescape = (v: string) => v.replace(/%2E/g, '.');

/** The hour (0-23) of quarter hour `slot`. */
export const hourOf = (slot: number) => Math.floor(slot / 4);

/** The quarter hour (0-95) of the UTC day of `at`. */
export const slotOf = (at: Date) => Math.floor((((at.getTime() % 86_400_000) + 86_400_000) % 86_400_000) / SLOT_MS);

/** The cell of dimension values `dims`: the values joined by `|`, escaped. */
export const cellOf = (dims: (string | null | undefined)[]): string => dims.map(escape).join('|');

/** The dimension values of a cell. */
export const parseCell = (cell: string): (string | null)[] =>
  cell.split('|').map((d) => (d === '' ? null : unescape(d)));

/** Where a fact counts: its kind, UTC day and quarter hour, its cell in each grain, and its counters. */
export interface Placement {
  kind: RollupKind;
  day: string;
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
  return { kind, day: utcDay(at.getTime()), slot: slotOf(at), cells, inc };
}

type AnyFact = Record<string, unknown>;
/** Counters per cell: `{ <cell>: { <counter>: n } }`. */
export type Counters = Record<string, Record<string, number>>;
/** A fact of any kind, as the rollups see it. */
interface FactDoc {
  _id: string | Types.ObjectId;
  /** Set while the fact is being counted in its cells (see the top of this file). */
  applying?: boolean;
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

/** The cell documents of a placement, by grain. */
const cellIdsOf = (p: Placement) =>
  (Object.entries(p.cells) as [Grain, string][]).map(
    ([grain, cell]) => [grain, cell, rollupCellIdOf(p.kind, grain, p.day, cell)] as const,
  );

/** A fact's marker field in its cells (`_id`s hold no `$`; dots are escaped). */
const markerOf = (id: FactDoc['_id']) => `p.${escape(String(id))}`;

/**
 * The markers of counted facts, removed from their cells on the cells' next update, or by `flushMarkers`
 * (every few seconds in the worker, and when it stops).
 */
const doneMarkers = new Map<string, Set<string>>();
/** Day documents known to list a cell, so the listing is written once per cell and day (per process). */
const listed = new Set<string>();
const MAX_LISTED = 100_000;

/** Lists a cell in its day document (before it is counted, so no counted cell is ever unlisted). */
async function listCell(p: Placement, grain: Grain, cell: string, id: string): Promise<void> {
  await analyticsRollupDays().updateOne(
    { _id: rollupDayIdOf(p.kind, grain, p.day) },
    { $set: { [`cells.${cell}`]: 1 }, $setOnInsert: { kind: p.kind, grain: GRAINS[grain], day: p.day } },
    { upsert: true },
  );
  if (listed.size >= MAX_LISTED) listed.clear();
  listed.add(id);
}

interface CellCount {
  p: Placement;
  grain: Grain;
  cell: string;
  marker: string;
}

/**
 * `$inc`s the placements into cell `id` and sets their markers there (and clears the cell's counted markers),
 * in one update. A cell this process had listed but finds new (its documents were removed meanwhile) is
 * listed again.
 */
async function incCell(id: string, counts: CellCount[]): Promise<void> {
  const { p, grain, cell } = counts[0]!;
  const known = listed.has(id);
  if (!known) await listCell(p, grain, cell, id);
  const $inc: Record<string, number> = {};
  const $set: Record<string, 1> = {};
  for (const c of counts) {
    $set[c.marker] = 1;
    for (const [k, n] of Object.entries(c.p.inc)) {
      $inc[`c.${k}`] = ($inc[`c.${k}`] ?? 0) + n;
      $inc[`h.${hourOf(c.p.slot)}.${k}`] = ($inc[`h.${hourOf(c.p.slot)}.${k}`] ?? 0) + n;
      $inc[`q.${c.p.slot}.${k}`] = ($inc[`q.${c.p.slot}.${k}`] ?? 0) + n;
    }
  }
  const done = [...(doneMarkers.get(id) ?? [])].filter((m) => !(m in $set));
  doneMarkers.delete(id);
  const update = {
    $inc,
    $set,
    ...(done.length ? { $unset: Object.fromEntries(done.map((m) => [m, '' as const])) } : {}),
    $setOnInsert: { kind: p.kind, grain: GRAINS[grain], day: p.day },
  };
  // Only the update is run again on a duplicate key (two first facts of a cell at once), never what follows it.
  const res = await upsertRetried(() => analyticsRollups().updateOne({ _id: id }, update, { upsert: true }));
  if (known && res.upsertedCount > 0) await listCell(p, grain, cell, id);
  // Read the clock after the update: a day the sealer may have read already is marked for it to read again.
  if (Date.now() >= dayEndOf(p.day) + LATE_AFTER_MS) await markStale(p.kind, grain, p.day);
}
const cellCounts = new Batcher<CellCount>(incCell, JOB_WRITES);

/** Settles counted facts (unsets `applying`), a batch per kind. */
const settled = new Batcher<FactDoc['_id']>(async (kind, ids) => {
  await FACTS_OF[kind as RollupKind]().updateMany(
    { _id: { $in: ids } },
    { $unset: { applying: '', applyingBy: '', applyingSince: '' } },
  );
}, JOB_WRITES);

function markDone(p: Placement, marker: string): void {
  for (const [, , id] of cellIdsOf(p)) {
    const set = doneMarkers.get(id) ?? new Set<string>();
    set.add(marker);
    doneMarkers.set(id, set);
  }
}

/** Removes the markers of counted facts from their cells. */
export async function flushMarkers(): Promise<void> {
  const batch = [...doneMarkers];
  doneMarkers.clear();
  for (let i = 0; i < batch.length; i += 500) {
    const ops = batch.slice(i, i + 500).map(([id, markers]) => ({
      updateOne: {
        filter: { _id: id },
        update: { $unset: Object.fromEntries([...markers].map((m) => [m, '' as const])) },
      },
    }));
    await analyticsRollups().bulkWrite(ops, { ordered: false });
  }
}

/** Counts fact `doc` of `kind` in the cells that lack its marker (all of them unless `checkMarkers`). */
async function apply(kind: RollupKind, doc: FactDoc, checkMarkers: boolean): Promise<void> {
  const p = PLACE[kind](doc);
  const marker = markerOf(doc._id);
  let cells = cellIdsOf(p);
  if (checkMarkers) {
    const have = await analyticsRollups()
      .find({ _id: { $in: cells.map(([, , id]) => id) } }, { projection: { [marker]: 1 } })
      .toArray();
    const counted = new Set(have.filter((d) => d.p?.[marker.slice(2)] === 1).map((d) => d._id));
    cells = cells.filter(([, , id]) => !counted.has(id));
  }
  await Promise.all(cells.map(([grain, cell, id]) => cellCounts.add(id, { p, grain, cell, marker })));
  await settled.add(kind, doc._id);
  markDone(p, marker);
}

/** Who records a fact: a job's attempt (`attempt` = BullMQ's `attemptsMade`), and when. */
export interface FactWriter {
  job: string;
  attempt: number;
  now: Date;
  /** How long after an attempt began counting a fact another may take it over: longer than the job lock. */
  takeoverMs: number;
}

/** A fact another attempt is counting right now: the job fails and is retried (BullMQ's backoff). */
export class FactInFlightError extends Error {
  constructor(kind: RollupKind) {
    super(`a ${kind} fact is being counted by another attempt; retried later`);
    this.name = 'FactInFlightError';
  }
}

/**
 * May `by` finish counting a fact that `stored.applyingBy` began? Yes if that was an earlier attempt of the same
 * job (BullMQ starts the next attempt once the last one failed), or long enough ago that its writer is gone.
 * Not while another job, or a stalled run of this attempt, may still be counting it.
 */
function mayTakeOver(stored: FactDoc, by: FactWriter | undefined): boolean {
  const [job, attempt] = String(stored.applyingBy ?? '').split('#');
  if (by && job === by.job && Number(attempt) < by.attempt) return true;
  const since = stored.applyingSince instanceof Date ? stored.applyingSince.getTime() : 0;
  return !by || by.now.getTime() - since >= by.takeoverMs;
}

/**
 * Records fact `doc` (its `_id` deterministic) of `kind` and counts it in its cells, once however often it is
 * called. @returns true when this call inserted the fact.
 * @throws FactInFlightError when another attempt began counting it and may still be at it.
 */
export async function recordFact(kind: RollupKind, doc: FactDoc, by?: FactWriter): Promise<boolean> {
  const facts = FACTS_OF[kind]();
  const inserted = await insertOnce(facts, {
    ...doc,
    applying: true,
    ...(by ? { applyingBy: `${by.job}#${by.attempt}`, applyingSince: by.now } : {}),
  });
  if (!inserted) {
    // Delivered again. Counted already unless an earlier attempt stopped before unsetting `applying`.
    const stored = await facts.findOne({ _id: doc._id });
    if (!stored?.applying) return false;
    if (!mayTakeOver(stored, by)) throw new FactInFlightError(kind);
    await apply(kind, stored, true);
    return false;
  }
  await apply(kind, doc, false);
  return true;
}

/** `_id`s per query: the embedded server checks each match of an `$in` against the whole list. */
const IDS_PER_QUERY = 200;

/** Reads documents by `_id`, `IDS_PER_QUERY` at a time, in parallel. */
export async function byIds<T extends { _id: string }>(
  collection: mongo.Collection<T>,
  ids: string[],
  projection: Record<string, 1>,
): Promise<T[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) chunks.push(ids.slice(i, i + IDS_PER_QUERY));
  const read = (c: string[]) =>
    collection.find({ _id: { $in: c } } as mongo.Filter<T>, { projection }).toArray() as Promise<T[]>;
  return (await Promise.all(chunks.map(read))).flat();
}

/*
 * Day summaries (`analytics_day_summaries`): once a UTC day has been over for `SEAL_AFTER_MS`, the sealer
 * copies its cells into one document, which the reports read instead of the cells. A fact counted in a day
 * that ended `LATE_AFTER_MS` or more before its cell update returned (a late delivery, a retry) then marks the
 * summary stale and bumps its `gen`; the sealer writes a summary only over the `gen` it read before reading the
 * cells. So a summary that is not stale holds every fact counted in its day: a fact whose update returned
 * before the day's end + `LATE_AFTER_MS` was applied before the sealer read the cells (which it does no
 * earlier than the day's end + `SEAL_AFTER_MS`; the gap covers clocks up to 50 minutes apart), and any later
 * one bumped `gen` after it was applied.
 */
export const LATE_AFTER_MS = 10 * 60_000;
export const SEAL_AFTER_MS = 60 * 60_000;
/** A day with more cells than this keeps being read cell by cell (its summary could pass the 16 MB limit). */
export const MAX_SUMMARY_CELLS = 5_000;

const dayEndOf = (day: string) => Date.parse(`${day}T00:00:00Z`) + DAY_MS;

/** Marks the summary of a day stale (a fact was counted in it after it closed). */
async function markStale(kind: RollupKind, grain: Grain, day: string): Promise<void> {
  const update = { $set: { stale: true }, $inc: { gen: 1 }, $setOnInsert: { kind, grain: GRAINS[grain], day } };
  await upsertRetried(() =>
    analyticsDaySummaries().updateOne({ _id: rollupDayIdOf(kind, grain, day) }, update, { upsert: true }),
  );
}

/** What sealing a day did. */
export type SealOutcome = 'sealed' | 'current' | 'raced' | 'large';

/**
 * Writes the summary of the day whose day document is `dayId`, unless it is current. `afterRead` runs between
 * reading the cells and writing the summary (tests count a fact there).
 */
export async function sealDay(dayId: string, afterRead?: () => Promise<unknown>): Promise<SealOutcome> {
  const summaries = analyticsDaySummaries();
  const [kind, g, day] = dayId.split('|') as [RollupKind, string, string];
  try {
    await summaries.insertOne({ _id: dayId, kind, grain: g, day, gen: 0, stale: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const read = await summaries.findOne({ _id: dayId }, { projection: { gen: 1, stale: 1, large: 1 } });
  if (!read?.stale) return 'current';
  if (read.large) return 'large';
  const listing = await analyticsRollupDays().findOne({ _id: dayId }, { projection: { cells: 1 } });
  const names = Object.keys(listing?.cells ?? {});
  if (names.length > MAX_SUMMARY_CELLS) {
    await summaries.updateOne({ _id: dayId }, { $set: { large: true } });
    return 'large';
  }
  const c: Record<string, Record<string, number>> = {};
  const h: Record<string, Record<string, Record<string, number>>> = {};
  const q: Record<string, Record<string, Record<string, number>>> = {};
  const cellIds = names.map((name) => `${dayId}|${name}`);
  for (const doc of await byIds(analyticsRollups(), cellIds, { c: 1, h: 1, q: 1 })) {
    const name = doc._id.slice(dayId.length + 1);
    c[name] = doc.c ?? {};
    for (const [hour, n] of Object.entries(doc.h ?? {})) (h[hour] ??= {})[name] = n;
    for (const [slot, n] of Object.entries(doc.q ?? {})) (q[slot] ??= {})[name] = n;
  }
  await afterRead?.();
  const res = await summaries.updateOne(
    { _id: dayId, gen: read.gen },
    { $set: { stale: false, c, h, q, cells: names.length, sealedAt: new Date() } },
  );
  return res.matchedCount === 1 ? 'sealed' : 'raced';
}

/** Whether this process has looked at every day once: its later passes look at recent days and stale summaries. */
let swept = false;

/**
 * Seals every closed day that has no current summary (the worker's expiry sweep runs it every minute). The
 * first pass of a process looks at every day; later ones at the last three days and at the stale summaries.
 * @returns how many days each outcome had.
 */
export async function sealClosedDays(now = Date.now(), all = !swept): Promise<Partial<Record<SealOutcome, number>>> {
  const last = utcDay(now - SEAL_AFTER_MS - DAY_MS); // the last UTC day over for SEAL_AFTER_MS
  const first = all ? '' : addDays(last, -2);
  const [listed, summaries] = await Promise.all([
    analyticsRollupDays()
      .find({ day: { $gte: first, $lte: last } }, { projection: { _id: 1 } })
      .toArray(),
    analyticsDaySummaries()
      .find(all ? { day: { $lte: last } } : { day: { $lte: last }, stale: true }, {
        projection: { stale: 1, large: 1 },
      })
      .toArray(),
  ]);
  const current = new Set(summaries.filter((x) => !x.stale || x.large).map((x) => x._id));
  const toSeal = new Set(
    [...listed.map((x) => x._id), ...summaries.map((x) => x._id)].filter((id) => !current.has(id)),
  );
  const out: Partial<Record<SealOutcome, number>> = {};
  for (const id of toSeal) {
    const outcome = await sealDay(id);
    out[outcome] = (out[outcome] ?? 0) + 1;
  }
  if (all) swept = true;
  return out;
}

type CellDoc = Omit<AnalyticsRollupDoc, '_id'> & { _id: string };

/**
 * Recomputes every rollup of `kinds` from the facts: the cells and the day documents are rewritten (markers
 * dropped, `applying` facts counted and settled), and cells no fact counts in are removed; the kinds' day
 * summaries are removed first and the closed days sealed again last. Run it with the workers stopped (a fact
 * counted while it runs may count twice or not at all); run it again to mend that.
 * @returns the number of facts and cell documents per kind.
 */
export async function rebuildRollups(
  kinds: readonly RollupKind[] = ROLLUP_KINDS,
): Promise<Record<string, { facts: number; rollups: number }>> {
  const out: Record<string, { facts: number; rollups: number }> = {};
  const generation = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  for (const kind of kinds) {
    await analyticsDaySummaries().deleteMany({ kind });
    const cells = new Map<string, CellDoc>();
    const days = new Map<string, { kind: string; grain: string; day: string; cells: Record<string, 1>; g: string }>();
    let facts = 0;
    for await (const f of FACTS_OF[kind]().find({}, { batchSize: 5000 })) {
      facts++;
      const p = PLACE[kind](f);
      for (const [grain, cell, id] of cellIdsOf(p)) {
        const doc = cells.get(id) ?? {
          _id: id,
          kind,
          grain: GRAINS[grain],
          day: p.day,
          c: {},
          h: {},
          q: {},
          g: generation,
        };
        const hour = (doc.h[String(hourOf(p.slot))] ??= {});
        const slot = (doc.q[String(p.slot)] ??= {});
        for (const [k, n] of Object.entries(p.inc)) {
          doc.c[k] = (doc.c[k] ?? 0) + n;
          hour[k] = (hour[k] ?? 0) + n;
          slot[k] = (slot[k] ?? 0) + n;
        }
        cells.set(id, doc);
        const dayId = rollupDayIdOf(kind, grain, p.day);
        const listing = days.get(dayId) ?? { kind, grain: GRAINS[grain], day: p.day, cells: {}, g: generation };
        listing.cells[cell] = 1;
        days.set(dayId, listing);
      }
    }
    const write = async <T extends { _id: string }>(c: mongo.Collection<T>, docs: T[]) => {
      for (let i = 0; i < docs.length; i += 1000) {
        const ops = docs.slice(i, i + 1000).map((d) => ({
          replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true },
        })) as unknown as mongo.AnyBulkWriteOperation<T>[];
        await c.bulkWrite(ops, { ordered: false });
      }
      await c.deleteMany({ kind, g: { $ne: generation } } as unknown as mongo.Filter<T>);
    };
    await write(analyticsRollups() as unknown as mongo.Collection<CellDoc>, [...cells.values()]);
    await write(
      analyticsRollupDays() as unknown as mongo.Collection<{ _id: string }>,
      [...days].map(([_id, d]) => ({ _id, ...d })),
    );
    await FACTS_OF[kind]().updateMany(
      { applying: true },
      { $unset: { applying: '', applyingBy: '', applyingSince: '' } },
    );
    out[kind] = { facts, rollups: cells.size };
  }
  await sealClosedDays(Date.now(), true);
  return out;
}
