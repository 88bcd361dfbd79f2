/**
 * Marketing reports (docs/api.md#analytics): `GET /api/v1/analytics/signups`, `…/funnel` and `…/retention`,
 * and the spend upload `PUT /api/v1/analytics/spend`, for roles `admin` and `marketing`.
 */
import express, { Router, type Request, type Response } from 'express';
import { sendData } from '../lib/envelope.js';
import { badRequest } from '../lib/errors.js';
import { isTimeZone } from '../lib/tz.js';
import { authenticate, type AuthenticateDeps } from '../middleware/authenticate.js';
import {
  ATTRIBUTION_FILTER,
  MAX_RANGE_DAYS,
  MAX_SPEND_ROWS,
  RETENTION_GROUPS,
  TIME_ZONE,
} from '../schemas/analytics.js';
import { regex } from '../schemas/pattern.js';
import {
  checkSpendRows,
  DIMENSIONS,
  funnelReport,
  parseSpendCsv,
  putSpend,
  retentionCsv,
  retentionReport,
  signupsCsv,
  signupsReport,
  type AttributionFilter,
  type Dimension,
  type ReportRange,
} from '../services/analytics.js';
import { defineRoute } from './define.js';

type DayRange = Omit<ReportRange, 'tz'>;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ATTRIBUTION = regex(ATTRIBUTION_FILTER.pattern);
const ZONE = regex(TIME_ZONE.pattern);

type Query = Record<string, unknown>;

function oneString(query: Query, key: string, problems: string[]): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    problems.push(`${key}: must be given once`);
    return undefined;
  }
  return v;
}

function dayOf(value: string | undefined, key: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const d = new Date(`${value}T00:00:00.000Z`);
  if (!DAY.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    problems.push(`${key}: must be a UTC day YYYY-MM-DD`);
    return undefined;
  }
  return value;
}

/** [from, to] in days of `tz`; default: the 30 days up to today there. */
function rangeOf(query: Query, now: Date, problems: string[], tz: string): DayRange {
  const today = isTimeZone(tz)
    ? new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(now)
    : now.toISOString().slice(0, 10);
  const to = dayOf(oneString(query, 'to', problems), 'to', problems) ?? today;
  const from =
    dayOf(oneString(query, 'from', problems), 'from', problems) ??
    new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days < 1) problems.push('from: must not be after to');
  else if (days > MAX_RANGE_DAYS) problems.push(`to: the range is at most ${MAX_RANGE_DAYS} days`);
  return { from, to };
}

/** `tz`: an IANA zone; default `ANALYTICS_DEFAULT_TZ`. */
function zoneOf(query: Query, fallback: string, problems: string[]): string {
  const tz = oneString(query, 'tz', problems);
  if (tz === undefined) return fallback;
  if (!ZONE.test(tz) || !isTimeZone(tz)) {
    problems.push(`tz: ${TIME_ZONE.message}`);
    return fallback;
  }
  return tz;
}

/** The range and time zone of a report. */
function reportRangeOf(query: Query, deps: AuthenticateDeps, problems: string[]): ReportRange {
  const tz = zoneOf(query, deps.config.analytics.defaultTz, problems);
  return { ...rangeOf(query, deps.clock(), problems, tz), tz };
}

function formatOf(query: Query, problems: string[]): string {
  const format = oneString(query, 'format', problems) ?? 'json';
  if (format !== 'json' && format !== 'csv') problems.push('format: must be json or csv');
  return format;
}

function sendCsv(res: Response, name: string, range: DayRange, body: string): void {
  res.status(200).type('text/csv; charset=utf-8').attachment(`${name}_${range.from}_${range.to}.csv`).send(body);
}

function attributionOf(query: Query, problems: string[]): AttributionFilter {
  const out: AttributionFilter = {};
  for (const key of ['source', 'campaign', 'medium'] as const) {
    const v = oneString(query, key, problems);
    if (v === undefined) continue;
    if (!ATTRIBUTION.test(v)) problems.push(`${key}: ${ATTRIBUTION_FILTER.message}`);
    else out[key] = v;
  }
  return out;
}

function refuseUnknown(query: Query, allowed: string[], problems: string[]): void {
  for (const key of Object.keys(query)) if (!allowed.includes(key)) problems.push(`${key}: unknown query parameter`);
}

/**
 * The query of a grouped report (signups, retention): range and zone, attribution filters, `groupBy` (a
 * comma-separated subset of `dimensions`, duplicates ignored) and `format`; a 400 listing every problem.
 */
function groupedQuery(query: Query, deps: AuthenticateDeps, dimensions: readonly string[], defaultGroupBy: string[]) {
  const problems: string[] = [];
  refuseUnknown(query, ['from', 'to', 'tz', 'groupBy', 'format', 'source', 'campaign', 'medium'], problems);
  const range = reportRangeOf(query, deps, problems);
  const filter = attributionOf(query, problems);
  const rawGroupBy = oneString(query, 'groupBy', problems);
  const groupBy = rawGroupBy
    ? [
        ...new Set(
          rawGroupBy
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ]
    : defaultGroupBy;
  for (const d of groupBy)
    if (!dimensions.includes(d)) problems.push(`groupBy: "${d}" is not one of ${dimensions.join(', ')}`);
  const format = formatOf(query, problems);
  if (problems.length) throw badRequest(problems);
  return { range, filter, groupBy, format };
}

export function analyticsRouter(deps: AuthenticateDeps): Router {
  const router = Router();
  const reporter = authenticate(deps, 'admin', 'marketing');

  defineRoute(router, '/api/v1/analytics/signups', {
    get: [
      reporter,
      async (req, res) => {
        const { range, filter, groupBy, format } = groupedQuery(req.query as Query, deps, DIMENSIONS, ['day']);
        const report = await signupsReport(range, groupBy as Dimension[], filter);
        if (format === 'csv') sendCsv(res, 'signups', range, signupsCsv(report));
        else sendData(res, 200, report);
      },
    ],
  });

  defineRoute(router, '/api/v1/analytics/funnel', {
    get: [
      reporter,
      async (req, res) => {
        const query = req.query as Query;
        const problems: string[] = [];
        refuseUnknown(query, ['from', 'to', 'tz', 'source', 'campaign', 'medium'], problems);
        const range = reportRangeOf(query, deps, problems);
        const filter = attributionOf(query, problems);
        if (problems.length) throw badRequest(problems);
        sendData(res, 200, await funnelReport(range, filter));
      },
    ],
  });

  defineRoute(router, '/api/v1/analytics/retention', {
    get: [
      reporter,
      async (req, res) => {
        const { range, filter, groupBy, format } = groupedQuery(req.query as Query, deps, RETENTION_GROUPS, []);
        const report = await retentionReport(range, groupBy, filter, deps.clock());
        if (format === 'csv') sendCsv(res, 'retention', range, retentionCsv(report));
        else sendData(res, 200, report);
      },
    ],
  });

  // A CSV upload is read here (the app's JSON parser has read a JSON one already, up to BODY_LIMIT_BYTES).
  const csvBody = express.text({ type: 'text/csv', limit: deps.config.analytics.spendMaxBytes });
  defineRoute(router, '/api/v1/analytics/spend', {
    put: [
      reporter,
      csvBody,
      async (req: Request, res: Response) => {
        const body: unknown = req.body;
        let raw: Record<string, unknown>[];
        let where: (i: number) => string;
        const problems: string[] = [];
        if (req.is('text/csv') && typeof body === 'string') {
          const parsed = parseSpendCsv(body);
          raw = parsed.raw;
          where = (i) => `line ${parsed.lines[i]}`;
          problems.push(...parsed.problems);
        } else if (req.is('application/json') && body && typeof body === 'object' && !Array.isArray(body)) {
          const rows = (body as Record<string, unknown>).rows;
          for (const key of Object.keys(body)) if (key !== 'rows') problems.push(`${key}: unknown field`);
          if (!Array.isArray(rows) || rows.some((r) => !r || typeof r !== 'object' || Array.isArray(r)))
            problems.push('rows: must be an array of objects');
          raw = Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
          where = (i) => `rows[${i}] (line ${i + 1})`;
        } else {
          throw badRequest(['body: must be JSON { "rows": [...] } or text/csv']);
        }
        if (raw.length > MAX_SPEND_ROWS) problems.push(`rows: at most ${MAX_SPEND_ROWS} per upload`);
        if (problems.length) throw badRequest(problems);
        const checked = checkSpendRows(raw, where);
        if (checked.problems.length) throw badRequest(checked.problems);
        sendData(res, 200, await putSpend(checked.rows, deps.clock()));
      },
    ],
  });

  return router;
}
