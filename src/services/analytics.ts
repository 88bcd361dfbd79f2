/**
 * Marketing reports (docs/api.md#analytics). They read the rollups the worker keeps (src/services/rollups.ts):
 * per kind of fact and UTC day, a day document listing its cells (dimension values) and a small document per
 * cell with its counters per day and quarter hour, so a report reads the cells of the days of its range however
 * many signups there are, and never the users collection nor the raw facts.
 *
 * Days are calendar days of the report's time zone (`tz`): a quarter hour counts on the local day it starts
 * in (src/lib/tz.ts). Counting is by signup cohort: `signups` are users who signed up on the days in range;
 * `registrationsCompleted` and the retention returns are those of them who completed registration (whenever)
 * or came back, so a rate never passes 100 %.
 */
import { analyticsDaySummaries, analyticsRollupDays, analyticsRollups, analyticsSpend } from '../models/collections.js';
import { localDays, SLOT_MS, utcDaysBetween } from '../lib/tz.js';
import { SPEND_FIELDS, SPEND_ROW } from '../schemas/analytics.js';
import { regex } from '../schemas/pattern.js';
import {
  byIds,
  DIMENSIONS_OF,
  grainFor,
  MARKETING_DIMENSIONS,
  parseCell,
  rollupCellIdOf,
  rollupDayIdOf,
  type RollupKind,
} from './rollups.js';

export const DIMENSIONS = ['day', 'source', 'campaign', 'medium', 'country', 'platform'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ReportRange {
  from: string;
  to: string;
  tz: string;
}

/** A range as callers give it: `tz` defaults to UTC. */
export type RangeInput = Omit<ReportRange, 'tz'> & { tz?: string };
const withZone = (r: RangeInput): ReportRange => ({ from: r.from, to: r.to, tz: r.tz ?? 'UTC' });

export type AttributionFilter = Partial<Record<'source' | 'campaign' | 'medium', string>>;

/** Spend of a group in one currency, and what a signup and a completed registration cost in it. */
export interface SpendLine {
  currency: string;
  amount: number;
  costPerSignup: number | null;
  costPerCompletedRegistration: number | null;
}

export interface Counts {
  signups: number;
  registrationsCompleted: number;
  /** Present when the grouping and filters are within day, source and campaign (spend is by those only). */
  spend?: SpendLine[];
}

export type ReportRow = Partial<Record<Dimension, string | null>> & Counts;

export interface SignupsReport extends ReportRange {
  groupBy: Dimension[];
  rows: ReportRow[];
  totals: Counts;
}

type Dims = Record<string, string | null>;

/** One counted cell of the range: its local day, dimension values and counters. */
interface Cell {
  day: string;
  dims: Dims;
  counters: Record<string, number>;
}

const SLOTS = 96;

/**
 * How the quarter hours of a UTC day split over the local days of the range: parts `[from, to)` of slots,
 * each on one local day (`null`: outside the range). A day's local midnights are on quarter hours.
 */
function partsOf(utc: string, window: { days: string[]; starts: number[]; end: number }) {
  const u0 = Date.parse(`${utc}T00:00:00Z`);
  const cuts = [...window.starts, window.end]
    .filter((b) => b > u0 && b < u0 + SLOTS * SLOT_MS)
    .map((b) => Math.round((b - u0) / SLOT_MS));
  const edges = [0, ...cuts, SLOTS];
  return edges.slice(0, -1).map((from, i) => {
    const at = u0 + from * SLOT_MS;
    let day: string | null = null;
    if (at >= window.starts[0]! && at < window.end) day = window.days[window.starts.findLastIndex((b) => b <= at)]!;
    return { from, to: edges[i + 1]!, day };
  });
}

function addCounters(into: Record<string, number>, from: Record<string, number>, sign = 1): void {
  for (const k in from) into[k] = (into[k] ?? 0) + sign * from[k]!;
}

function anyNonZero(n: Record<string, number>): boolean {
  for (const k in n) if (n[k] !== 0) return true;
  return false;
}

/** The hour and quarter-hour fields that cover quarter hours `[from, to)` of a UTC day, hours where whole. */
function fieldsOf(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to;) {
    if (i % 4 === 0 && i + 4 <= to) {
      out.push(`h.${i / 4}`);
      i += 4;
    } else out.push(`q.${i++}`);
  }
  return out;
}

/**
 * The cells of `kind` in the local days of `range` that pass `filter`, summed per local day. A UTC day that
 * lies within one local day is read from its day totals; one cut by a local midnight reads the quarter hours
 * of its smaller part as well, the larger part being the totals less them. A closed day is read from its
 * summary (every cell in one document, src/services/rollups.ts) when it has a current one, else cell by cell.
 */
async function cellsOf(
  kind: RollupKind,
  range: ReportRange,
  filter: AttributionFilter,
  groupBy: readonly string[] = [],
): Promise<Cell[]> {
  const grain = grainFor(kind, [...groupBy, ...Object.keys(filter)]);
  const window = localDays(range.from, range.to, range.tz);
  const plans = new Map(
    utcDaysBetween(window.starts[0]!, window.end).map((u) => {
      const cut = partsOf(u, window);
      const largest = cut.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a));
      // The smaller parts, each with the fields it is read from (`['h', '21']`...).
      const parts = cut
        .filter((p) => p !== largest)
        .map((p) => ({ day: p.day, reads: fieldsOf(p.from, p.to).map((f) => f.split('.') as ['h' | 'q', string]) }));
      return [rollupDayIdOf(kind, grain, u), { utc: u, parts, largestDay: largest.day }] as const;
    }),
  );
  type Plan = typeof plans extends Map<string, infer P> ? P : never;
  // The fields a cut day's smaller part is read from: its whole hours (`h.<hour>`), and quarter hours
  // (`q.<slot>`) only at its ends: Istanbul's 21:00-24:00 is 3 hours, Kolkata's 18:30-24:00 2 quarters and 5 hours.
  const fields = new Set<string>();
  for (const { parts } of plans.values())
    for (const p of parts) for (const [l, at] of p.reads) fields.add(`${l}.${at}`);
  const projection = { c: 1 as const, ...Object.fromEntries([...fields].map((f) => [f, 1 as const])) };

  const names = grain === 'full' ? DIMENSIONS_OF[kind] : MARKETING_DIMENSIONS;
  const wanted = Object.entries(filter).map(([k, v]) => [names.indexOf(k), v] as const);
  const dimsOfCell = new Map<string, Dims | null>();
  /** The dimension values of a cell, or null when the filter leaves it out. */
  const dimsOf = (cell: string): Dims | null => {
    let dims = dimsOfCell.get(cell);
    if (dims === undefined) {
      const values = parseCell(cell);
      dims = wanted.some(([i, v]) => values[i] !== v)
        ? null
        : Object.fromEntries(names.map((n, i) => [n, values[i] ?? null]));
      dimsOfCell.set(cell, dims);
    }
    return dims;
  };
  const out: Cell[] = [];
  const emit = (day: string | null, dims: Dims, n: Record<string, number>) => {
    if (day && anyNonZero(n)) out.push({ day, dims, counters: n });
  };
  /** Splits a cell's day over the local days of its plan: `read` gives its counters of a field. */
  const split = (
    plan: Plan,
    dims: Dims,
    total: Record<string, number> | undefined,
    read: (l: 'h' | 'q', at: string) => Record<string, number> | undefined,
  ) => {
    const rest: Record<string, number> = {};
    for (const p of plan.parts) {
      const part: Record<string, number> = {};
      for (const [layer, at] of p.reads) {
        const n = read(layer, at);
        if (n) addCounters(part, n);
      }
      addCounters(rest, part);
      emit(p.day, dims, part);
    }
    const whole: Record<string, number> = { ...total };
    addCounters(whole, rest, -1);
    emit(plan.largestDay, dims, whole);
  };

  // Closed days with a current summary.
  const unsealed = new Set(plans.keys());
  for (const summary of await byIds(analyticsDaySummaries(), [...plans.keys()], { stale: 1, ...projection })) {
    if (summary.stale !== false) continue;
    unsealed.delete(summary._id);
    const plan = plans.get(summary._id)!;
    for (const [cell, total] of Object.entries(summary.c ?? {})) {
      const dims = dimsOf(cell);
      if (dims) split(plan, dims, total, (l, at) => summary[l]?.[at]?.[cell]);
    }
  }

  // The other days, cell by cell.
  const cellIds: string[] = [];
  const planOf = new Map<string, { plan: Plan; dims: Dims }>();
  for (const listing of await byIds(analyticsRollupDays(), [...unsealed], { cells: 1 })) {
    const plan = plans.get(listing._id)!;
    for (const cell of Object.keys(listing.cells ?? {})) {
      const dims = dimsOf(cell);
      if (!dims) continue;
      const id = rollupCellIdOf(kind, grain, plan.utc, cell);
      cellIds.push(id);
      planOf.set(id, { plan, dims });
    }
  }
  for (const doc of await byIds(analyticsRollups(), cellIds, projection)) {
    const { plan, dims } = planOf.get(doc._id)!;
    split(plan, dims, doc.c, (l, at) => doc[l]?.[at]);
  }
  return out;
}

/**
 * Sums counters of `cells` per group of `groupBy` (`day` included) into `groups`, keyed by the JSON of the
 * group's values. A report sums thousands of cells into a few groups: each cell's key is made once per day.
 */
function sumInto(
  groups: Map<string, { dims: Dims; n: Record<string, number> }>,
  cells: Cell[],
  groupBy: readonly string[],
  rename: Record<string, string> = {},
): void {
  const keys = new Map<Dims, Map<string, string>>();
  const valuesOf = (cell: Cell) => groupBy.map((d) => (d === 'day' ? cell.day : (cell.dims[d] ?? null)));
  for (const cell of cells) {
    let byDay = keys.get(cell.dims);
    if (!byDay) keys.set(cell.dims, (byDay = new Map()));
    let key = byDay.get(cell.day);
    if (key === undefined) byDay.set(cell.day, (key = JSON.stringify(valuesOf(cell))));
    let g = groups.get(key);
    if (!g) {
      const values = valuesOf(cell);
      groups.set(key, (g = { dims: Object.fromEntries(groupBy.map((d, i) => [d, values[i]!])), n: {} }));
    }
    for (const k in cell.counters) {
      const name = rename[k] ?? k;
      g.n[name] = (g.n[name] ?? 0) + cell.counters[k]!;
    }
  }
}

function compareRows(groupBy: readonly string[]) {
  return (a: object, b: object) => {
    for (const d of groupBy) {
      const x = String((a as Record<string, unknown>)[d] ?? '');
      const y = String((b as Record<string, unknown>)[d] ?? '');
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}

const SPEND_DIMENSIONS = new Set(['day', 'source', 'campaign']);
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

function spendLines(amounts: Map<string, number> | undefined, signups: number, completed: number): SpendLine[] {
  return [...(amounts ?? new Map<string, number>())]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, amount4]) => ({
      currency,
      amount: amount4 / 10_000,
      costPerSignup: signups > 0 ? round4(amount4 / 10_000 / signups) : null,
      costPerCompletedRegistration: completed > 0 ? round4(amount4 / 10_000 / completed) : null,
    }));
}

/** Spend per group and currency, in ten-thousandths: the spend collection is small (days × campaigns). */
async function spendOf(range: ReportRange, groupBy: readonly string[], filter: AttributionFilter) {
  const rows = await analyticsSpend()
    .find({
      day: { $gte: range.from, $lte: range.to },
      ...(filter.source ? { source: filter.source } : {}),
      ...(filter.campaign ? { campaign: filter.campaign } : {}),
    })
    .toArray();
  const groups = new Map<string, { dims: Dims; amounts: Map<string, number> }>();
  const total = new Map<string, number>();
  for (const r of rows) {
    const dims: Dims = Object.fromEntries(groupBy.map((d) => [d, r[d as 'day' | 'source' | 'campaign']]));
    const key = JSON.stringify(groupBy.map((d) => dims[d]));
    const g = groups.get(key) ?? { dims, amounts: new Map<string, number>() };
    g.amounts.set(r.currency, (g.amounts.get(r.currency) ?? 0) + r.amount4);
    total.set(r.currency, (total.get(r.currency) ?? 0) + r.amount4);
    groups.set(key, g);
  }
  return { groups, total };
}

export async function signupsReport(
  input: RangeInput,
  groupBy: Dimension[],
  filter: AttributionFilter = {},
): Promise<SignupsReport> {
  const range = withZone(input);
  const withSpend = groupBy.every((d) => SPEND_DIMENSIONS.has(d)) && !filter.medium;
  const [signups, completions, spend] = await Promise.all([
    cellsOf('signup', range, filter, groupBy),
    cellsOf('completion', range, filter, groupBy),
    withSpend ? spendOf(range, groupBy, filter) : undefined,
  ]);
  const groups = new Map<string, { dims: Dims; n: Record<string, number> }>();
  sumInto(groups, signups, groupBy);
  // A completion always has its signup, unless the signup fact is still in flight: shown anyway.
  sumInto(groups, completions, groupBy, { completed: 'registrationsCompleted' });
  for (const [key, g] of spend?.groups ?? []) if (!groups.has(key)) groups.set(key, { dims: g.dims, n: {} });
  const rows: ReportRow[] = [...groups].map(([key, g]) => {
    const counts = { signups: g.n.signups ?? 0, registrationsCompleted: g.n.registrationsCompleted ?? 0 };
    return {
      ...g.dims,
      ...counts,
      ...(spend
        ? { spend: spendLines(spend.groups.get(key)?.amounts, counts.signups, counts.registrationsCompleted) }
        : {}),
    };
  });
  rows.sort(compareRows(groupBy));
  const sums = rows.reduce(
    (t, r) => ({
      signups: t.signups + r.signups,
      registrationsCompleted: t.registrationsCompleted + r.registrationsCompleted,
    }),
    { signups: 0, registrationsCompleted: 0 },
  );
  const totals: Counts = {
    ...sums,
    ...(spend ? { spend: spendLines(spend.total, sums.signups, sums.registrationsCompleted) } : {}),
  };
  return { ...range, groupBy, rows, totals };
}

export interface FunnelReport extends ReportRange {
  source: string | null;
  campaign: string | null;
  medium: string | null;
  /** Not attributable to a source or campaign (send-otp carries none): `null` when a filter is given. */
  otpSent: number | null;
  otpVerified: number;
  signups: number;
  registrationsCompleted: number;
  logins: number;
}

export async function funnelReport(input: RangeInput, filter: AttributionFilter): Promise<FunnelReport> {
  const range = withZone(input);
  const attributed = Object.keys(filter).length > 0;
  const [steps, signups, completions] = await Promise.all([
    cellsOf('funnel', range, filter),
    cellsOf('signup', range, filter),
    cellsOf('completion', range, filter),
  ]);
  const sum = (cells: Cell[], counter: string) => cells.reduce((t, c) => t + (c.counters[counter] ?? 0), 0);
  return {
    ...range,
    source: filter.source ?? null,
    campaign: filter.campaign ?? null,
    medium: filter.medium ?? null,
    // send-otp carries no attribution, and a login none of its own: with a filter they are not attributable.
    otpSent: attributed ? null : sum(steps, 'otpSent'),
    otpVerified: sum(steps, 'otpVerified'),
    signups: sum(signups, 'signups'),
    registrationsCompleted: sum(completions, 'completed'),
    logins: attributed ? 0 : sum(steps, 'logins'),
  };
}

export const RETENTION_DAYS = [1, 7, 30] as const;
const DAY_MS = 86_400_000;

export type RetentionRow = Partial<Record<'day' | 'source' | 'campaign' | 'medium', string | null>> & {
  signups: number;
  returnedDay1: number;
  returnedDay7: number;
  returnedDay30: number;
  retentionDay1: number | null;
  retentionDay7: number | null;
  retentionDay30: number | null;
};

export interface RetentionReport extends ReportRange {
  groupBy: string[];
  rows: RetentionRow[];
  totals: Omit<RetentionRow, 'day' | 'source' | 'campaign' | 'medium'>;
}

/**
 * Per signup day (and group): the signups, and how many of them logged in again on day 1, 7 and 30 after
 * signing up, where day n is the 24 hours from n days after the signup instant. A share is `null` until day
 * n has ended for the whole cohort (the end of its local day + n + 1 days), or when there are no signups.
 */
export async function retentionReport(
  input: RangeInput,
  groupBy: string[],
  filter: AttributionFilter,
  now: Date,
): Promise<RetentionReport> {
  const range = withZone(input);
  const dims = ['day', ...groupBy];
  const [signups, returns] = await Promise.all([
    cellsOf('signup', range, filter, groupBy),
    cellsOf('return', range, filter, groupBy),
  ]);
  const groups = new Map<string, { dims: Dims; n: Record<string, number> }>();
  sumInto(groups, signups, dims);
  sumInto(groups, returns, dims);
  const { days, starts, end } = localDays(range.from, range.to, range.tz);
  const dayEnd = new Map(days.map((d, i) => [d, starts[i + 1] ?? end]));
  const shares = (n: Record<string, number>, cohortEnd: number) => {
    const s = n.signups ?? 0;
    const out: Record<string, number | null> = {};
    for (const k of RETENTION_DAYS) {
      out[`returnedDay${k}`] = n[`d${k}`] ?? 0;
      out[`retentionDay${k}`] =
        s > 0 && now.getTime() >= cohortEnd + (k + 1) * DAY_MS ? round4((n[`d${k}`] ?? 0) / s) : null;
    }
    return out;
  };
  const rows = [...groups.values()].map(
    (g) => ({ ...g.dims, signups: g.n.signups ?? 0, ...shares(g.n, dayEnd.get(g.dims.day!)!) }) as RetentionRow,
  );
  rows.sort(compareRows(dims));
  const all: Record<string, number> = {};
  for (const g of groups.values()) for (const [k, v] of Object.entries(g.n)) all[k] = (all[k] ?? 0) + v;
  const totals = { signups: all.signups ?? 0, ...shares(all, end) } as RetentionReport['totals'];
  return { ...range, groupBy, rows, totals };
}

// ---------------------------------------------------------------------------------------------
// Spend uploads.

export interface SpendRow {
  day: string;
  source: string;
  campaign: string;
  currency: string;
  amount4: number;
}

const SPEND_RULES = Object.fromEntries(SPEND_FIELDS.map((f) => [f, regex(SPEND_ROW[f].pattern)])) as Record<
  (typeof SPEND_FIELDS)[number],
  RegExp
>;

/**
 * Checks the rows of an upload; `where(i)` names row i in messages (`line 3`, `rows[1]`). @returns the rows,
 * or every problem (`line 3: amount: must be …`), a repeated day/source/campaign/currency included.
 */
/** `YYYY-MM-DD` naming a real day (not 2026-02-30, not 0000-00-00). */
function isCalendarDay(s: string): boolean {
  const ms = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === s;
}

export function checkSpendRows(
  raw: Record<string, unknown>[],
  where: (i: number) => string,
): { rows: SpendRow[]; problems: string[] } {
  const problems: string[] = [];
  const rows: SpendRow[] = [];
  const seen = new Map<string, string>();
  raw.forEach((r, i) => {
    const bad: string[] = [];
    for (const key of Object.keys(r))
      if (!(SPEND_FIELDS as readonly string[]).includes(key)) bad.push(`${key}: unknown field`);
    const value: Record<string, string> = {};
    for (const f of SPEND_FIELDS) {
      const v = r[f];
      const s = typeof v === 'number' && f === 'amount' && Number.isFinite(v) ? String(v) : v;
      if (typeof s !== 'string') bad.push(`${f}: is required`);
      else if (!SPEND_RULES[f].test(s) || (f === 'day' && !isCalendarDay(s))) bad.push(`${f}: ${SPEND_ROW[f].message}`);
      else value[f] = s;
    }
    if (bad.length) {
      problems.push(...bad.map((b) => `${where(i)}: ${b}`));
      return;
    }
    const key = [value.day, value.source, value.campaign, value.currency].join('|');
    if (seen.has(key))
      problems.push(`${where(i)}: repeats ${seen.get(key)} (the same day, source, campaign and currency)`);
    seen.set(key, where(i));
    const [units, decimals = ''] = value.amount!.split('.');
    rows.push({
      day: value.day!,
      source: value.source!,
      campaign: value.campaign!,
      currency: value.currency!,
      amount4: Number(units) * 10_000 + Number(decimals.padEnd(4, '0')),
    });
  });
  return { rows, problems };
}

/** The rows of a CSV upload (header `day,source,campaign,amount,currency` in any order), by line number. */
export function parseSpendCsv(text: string): { raw: Record<string, unknown>[]; lines: number[]; problems: string[] } {
  const all = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (all[0] ?? '').split(',').map((h) => h.trim());
  const problems: string[] = [];
  const missing = SPEND_FIELDS.filter((f) => !header.includes(f));
  if (missing.length)
    problems.push(`line 1: the header must name ${SPEND_FIELDS.join(', ')} (missing ${missing.join(', ')})`);
  const raw: Record<string, unknown>[] = [];
  const lines: number[] = [];
  all.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      problems.push(`line ${i + 2}: has ${cells.length} fields, the header ${header.length}`);
      return;
    }
    raw.push(Object.fromEntries(header.map((h, j) => [h, cells[j]])));
    lines.push(i + 2);
  });
  return { raw, lines, problems };
}

/** Stores the rows: each replaces the spend of its day, source, campaign and currency. @returns how many. */
export async function putSpend(
  rows: SpendRow[],
  now: Date,
): Promise<{ rows: number; created: number; replaced: number }> {
  if (rows.length === 0) return { rows: 0, created: 0, replaced: 0 };
  const result = await analyticsSpend().bulkWrite(
    rows.map((r) => {
      const _id = [r.day, r.source, r.campaign, r.currency].join('|');
      return { replaceOne: { filter: { _id }, replacement: { ...r, uploadedAt: now }, upsert: true } };
    }),
    { ordered: false },
  );
  return { rows: rows.length, created: result.upsertedCount, replaced: rows.length - result.upsertedCount };
}

// ---------------------------------------------------------------------------------------------
// CSV.

/** One CSV field: quoted when needed; a leading = + - @ is neutralized so spreadsheets never run it. */
function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csv = (header: string[], lines: unknown[][]) =>
  `${[header.join(','), ...lines.map((l) => l.map(csvField).join(','))].join('\r\n')}\r\n`;

/**
 * The signups report as CSV: the grouped columns, `signups`, `registrationsCompleted`, and with spend
 * `currency, spend, costPerSignup, costPerCompletedRegistration`: one line per currency (a group without
 * spend has one line with those empty).
 */
export function signupsCsv(report: SignupsReport): string {
  const withSpend = report.totals.spend !== undefined;
  const header = [
    ...report.groupBy,
    'signups',
    'registrationsCompleted',
    ...(withSpend ? ['currency', 'spend', 'costPerSignup', 'costPerCompletedRegistration'] : []),
  ];
  const lines: unknown[][] = [];
  for (const r of report.rows) {
    const base = [...report.groupBy.map((d) => r[d]), r.signups, r.registrationsCompleted];
    if (!withSpend) lines.push(base);
    else if (!r.spend?.length) lines.push([...base, '', '', '', '']);
    else
      for (const s of r.spend)
        lines.push([...base, s.currency, s.amount, s.costPerSignup, s.costPerCompletedRegistration]);
  }
  return csv(header, lines);
}

export function retentionCsv(report: RetentionReport): string {
  const header = [
    'day',
    ...report.groupBy,
    'signups',
    ...RETENTION_DAYS.flatMap((k) => [`returnedDay${k}`, `retentionDay${k}`]),
  ];
  return csv(
    header,
    report.rows.map((r) => header.map((h) => r[h as keyof RetentionRow])),
  );
}
