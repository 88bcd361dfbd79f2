/**
 * Marketing reports (docs/api.md#analytics): `GET /api/v1/analytics/signups` and
 * `GET /api/v1/analytics/funnel`, for roles `admin` and `marketing`.
 */
import { Router } from 'express';
import { sendData } from '../lib/envelope.js';
import { badRequest } from '../lib/errors.js';
import { authenticate, type AuthenticateDeps } from '../middleware/authenticate.js';
import { ATTRIBUTION_FILTER, MAX_RANGE_DAYS } from '../schemas/analytics.js';
import { regex } from '../schemas/pattern.js';
import {
  DIMENSIONS,
  funnelReport,
  signupsCsv,
  signupsReport,
  type DayRange,
  type Dimension,
} from '../services/analytics.js';
import { defineRoute } from './define.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ATTRIBUTION = regex(ATTRIBUTION_FILTER.pattern);

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

/** [from, to] in UTC days; default: the 30 days up to today. */
function rangeOf(query: Query, now: Date, problems: string[]): DayRange {
  const to = dayOf(oneString(query, 'to', problems), 'to', problems) ?? now.toISOString().slice(0, 10);
  const from =
    dayOf(oneString(query, 'from', problems), 'from', problems) ??
    new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days < 1) problems.push('from: must not be after to');
  else if (days > MAX_RANGE_DAYS) problems.push(`to: the range is at most ${MAX_RANGE_DAYS} days`);
  return { from, to };
}

function attributionOf(query: Query, problems: string[]) {
  const out: { source?: string; campaign?: string } = {};
  for (const key of ['source', 'campaign'] as const) {
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

export function analyticsRouter(deps: AuthenticateDeps): Router {
  const router = Router();
  const reporter = authenticate(deps, 'admin', 'marketing');

  defineRoute(router, '/api/v1/analytics/signups', {
    get: [
      reporter,
      async (req, res) => {
        const query = req.query as Query;
        const problems: string[] = [];
        refuseUnknown(query, ['from', 'to', 'groupBy', 'format', 'source', 'campaign'], problems);
        const range = rangeOf(query, deps.clock(), problems);
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
          : ['day'];
        for (const d of groupBy)
          if (!(DIMENSIONS as readonly string[]).includes(d))
            problems.push(`groupBy: "${d}" is not one of ${DIMENSIONS.join(', ')}`);
        const format = oneString(query, 'format', problems) ?? 'json';
        if (format !== 'json' && format !== 'csv') problems.push('format: must be json or csv');
        if (problems.length) throw badRequest(problems);

        const report = await signupsReport(range, groupBy as Dimension[], filter);
        if (format === 'csv') {
          res
            .status(200)
            .type('text/csv; charset=utf-8')
            .attachment(`signups_${range.from}_${range.to}.csv`)
            .send(signupsCsv(report));
          return;
        }
        sendData(res, 200, report);
      },
    ],
  });

  defineRoute(router, '/api/v1/analytics/funnel', {
    get: [
      reporter,
      async (req, res) => {
        const query = req.query as Query;
        const problems: string[] = [];
        refuseUnknown(query, ['from', 'to', 'source', 'campaign'], problems);
        const range = rangeOf(query, deps.clock(), problems);
        const filter = attributionOf(query, problems);
        if (problems.length) throw badRequest(problems);
        sendData(res, 200, await funnelReport(range, filter));
      },
    ],
  });

  return router;
}
