/**
 * Marketing reports (docs/api.md#analytics). They read the fact collections the worker
 * writes, one small document per signup / completion / funnel step, through
 * their `{day, source, campaign}` indexes; never the users collection.
 *
 * Counting is by signup cohort: `signups` are users who signed up on the
 * UTC days in [from, to]; `registrationsCompleted` are those of them who have
 * completed registration (whenever they did), so a completion rate is never
 * above 100 %. Signups and completions live in two collections, so a report
 * is two aggregations; the funnel is one, a `$sum` per step.
 */
import type { mongo } from 'mongoose';
import { funnelEvents, registrationCompletions, signupAttributions } from '../models/collections.js';

export const DIMENSIONS = ['day', 'source', 'campaign', 'country', 'platform'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface DayRange {
  from: string;
  to: string;
}

export type ReportRow = Partial<Record<Dimension, string | null>> & { signups: number; registrationsCompleted: number };

export interface SignupsReport extends DayRange {
  groupBy: Dimension[];
  rows: ReportRow[];
  totals: { signups: number; registrationsCompleted: number };
}

type Match = Record<string, unknown>;

/** `{ key: count }` per group, the group key being the JSON of the dimension values. */
async function countBy<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  match: Match,
  fields: Record<Dimension, string>,
  groupBy: Dimension[],
): Promise<Map<string, { dims: Record<string, unknown>; n: number }>> {
  const id = groupBy.length === 0 ? null : Object.fromEntries(groupBy.map((d) => [d, `$${fields[d]}`]));
  const rows = await collection
    .aggregate<{ _id: Record<string, unknown> | null; n: number }>([
      { $match: match },
      { $group: { _id: id, n: { $sum: 1 } } },
    ])
    .toArray();
  const out = new Map<string, { dims: Record<string, unknown>; n: number }>();
  for (const r of rows) {
    const dims = Object.fromEntries(groupBy.map((d) => [d, r._id?.[d] ?? null]));
    out.set(JSON.stringify(groupBy.map((d) => dims[d])), { dims, n: r.n });
  }
  return out;
}

const SIGNUP_FIELDS: Record<Dimension, string> = {
  day: 'day',
  source: 'source',
  campaign: 'campaign',
  country: 'country',
  platform: 'platform',
};
const COMPLETION_FIELDS: Record<Dimension, string> = { ...SIGNUP_FIELDS, day: 'signupDay' };

function compareRows(groupBy: Dimension[]) {
  return (a: ReportRow, b: ReportRow) => {
    for (const d of groupBy) {
      const x = String(a[d] ?? '');
      const y = String(b[d] ?? '');
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}

export async function signupsReport(
  range: DayRange,
  groupBy: Dimension[],
  filter: { source?: string; campaign?: string } = {},
): Promise<SignupsReport> {
  const extra: Match = {
    ...(filter.source ? { source: filter.source } : {}),
    ...(filter.campaign ? { campaign: filter.campaign } : {}),
  };
  const [signups, completions] = await Promise.all([
    countBy(signupAttributions(), { day: { $gte: range.from, $lte: range.to }, ...extra }, SIGNUP_FIELDS, groupBy),
    countBy(
      registrationCompletions(),
      { signupDay: { $gte: range.from, $lte: range.to }, ...extra },
      COMPLETION_FIELDS,
      groupBy,
    ),
  ]);
  const rows: ReportRow[] = [];
  for (const [key, s] of signups) {
    rows.push({
      ...(s.dims as Record<Dimension, string | null>),
      signups: s.n,
      registrationsCompleted: completions.get(key)?.n ?? 0,
    });
  }
  // A completion always has its signup, unless the signup fact is still in flight: show it anyway.
  for (const [key, c] of completions) {
    if (!signups.has(key))
      rows.push({ ...(c.dims as Record<Dimension, string | null>), signups: 0, registrationsCompleted: c.n });
  }
  rows.sort(compareRows(groupBy));
  const totals = rows.reduce(
    (t, r) => ({
      signups: t.signups + r.signups,
      registrationsCompleted: t.registrationsCompleted + r.registrationsCompleted,
    }),
    { signups: 0, registrationsCompleted: 0 },
  );
  return { ...range, groupBy, rows, totals };
}

export interface FunnelReport extends DayRange {
  source: string | null;
  campaign: string | null;
  /** Not attributable to a source or campaign (send-otp carries none): `null` when either filter is given. */
  otpSent: number | null;
  otpVerified: number;
  signups: number;
  registrationsCompleted: number;
  logins: number;
}

export async function funnelReport(
  range: DayRange,
  filter: { source?: string; campaign?: string },
): Promise<FunnelReport> {
  const days = { $gte: range.from, $lte: range.to };
  const attribution: { source?: string; campaign?: string } = {
    ...(filter.source ? { source: filter.source } : {}),
    ...(filter.campaign ? { campaign: filter.campaign } : {}),
  };
  const attributed = Object.keys(attribution).length > 0;
  // The funnel steps in one pass over the days' funnel events: one `$sum` per step.
  const perStep = (step: string) => ({ $sum: { $cond: [{ $eq: ['$step', step] }, 1, 0] } });
  const [[steps], signups, registrationsCompleted] = await Promise.all([
    funnelEvents()
      .aggregate<{ otpSent: number; otpVerified: number; logins: number }>([
        // `step` first: the `{step, day, source, campaign}` index serves either match on MongoDB.
        {
          $match: attributed
            ? { step: 'otp-verified', day: days, ...attribution }
            : { step: { $in: ['otp-sent', 'otp-verified', 'login'] }, day: days },
        },
        {
          $group: {
            _id: null,
            otpSent: perStep('otp-sent'),
            otpVerified: perStep('otp-verified'),
            logins: perStep('login'),
          },
        },
      ])
      .toArray(),
    signupAttributions().countDocuments({ day: days, ...attribution }),
    registrationCompletions().countDocuments({ signupDay: days, ...attribution }),
  ]);
  // send-otp carries no attribution, and a login none of its own: with a filter they are not attributable.
  const otpSent = attributed ? null : (steps?.otpSent ?? 0);
  const logins = attributed ? 0 : (steps?.logins ?? 0);
  const otpVerified = steps?.otpVerified ?? 0;
  return {
    ...range,
    source: filter.source ?? null,
    campaign: filter.campaign ?? null,
    otpSent,
    otpVerified,
    signups,
    registrationsCompleted,
    logins,
  };
}

/** One CSV field: quoted when needed; a leading = + - @ is neutralized so spreadsheets never run it. */
function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function signupsCsv(report: SignupsReport): string {
  const header = [...report.groupBy, 'signups', 'registrationsCompleted'];
  const lines = [header.join(',')];
  for (const r of report.rows) lines.push(header.map((h) => csvField(r[h as keyof ReportRow])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
