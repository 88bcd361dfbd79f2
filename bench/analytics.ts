/**
 * The reports at size (issue 12): a 90-day signups report and a 30-day retention report over 10,000 and then
 * 1,000,000 stored signups, read from the rollups. The facts are written in bulk (`insertMany`, the shape the
 * worker writes) and the rollups by the rebuild (`rebuildRollups`, the code the CLI runs), whose result the
 * tests check against the worker's own.
 *
 *   npx tsx bench/analytics.ts [--sizes=10000,1000000] [--no-seed: time what is stored]  (against MONGODB_URI; the stack: `node
 *   scripts/stack.mjs services` with MONGO_SERVER_HEAP=12g for a million signups)
 *
 * `benchAnalytics()` is the same for bench/run.ts, on mongoose's connection (it connects when needed).
 */
import { pathToFileURL } from 'node:url';
import mongoose from 'mongoose';
import { loadConfig } from '../config/index.js';
import { connectMongo } from '../src/lib/mongo.js';
import { ensureIndexes } from '../src/models/indexes.js';
import { registerModels } from '../src/models/index.js';
import { createLogger } from '../src/lib/logger.js';
import { RegistrationCompletion, SignupAttribution } from '../src/models/analytics.js';
import {
  analyticsDaySummaries,
  analyticsRollups,
  registrationCompletions,
  retentionReturns,
  signupAttributions,
} from '../src/models/collections.js';
import { AnalyticsDaySummary, AnalyticsRollup, AnalyticsRollupDay, RetentionReturn } from '../src/models/rollup.js';
import { retentionReport, signupsReport } from '../src/services/analytics.js';
import { rebuildRollups, sealClosedDays } from '../src/services/rollups.js';

const DAY_MS = 86_400_000;
/** The bench's own year (in its own database), closed, so its days are sealed: signups spread evenly over it. */
const YEAR_START = Date.UTC(2025, 0, 1);
const SOURCES = ['instagram_ads', 'tiktok_ads', 'google_search', 'facebook_ads', 'referral'];
const CAMPAIGNS = ['spring_launch', 'summer_promo', 'brand'];
const MEDIA = ['cpc', 'social'];
const COUNTRIES = ['90', '49', '1'];
const PLATFORMS = ['mobile_ios', 'mobile_android', 'web'];

export interface AnalyticsBenchRow {
  signups: number;
  report: string;
  tz: string;
  /** Read from the day summaries, or cell by cell. */
  source: 'summaries' | 'cells';
  rows: number;
  medianMs: number;
  maxMs: number;
}

export interface AnalyticsBenchResult {
  rows: AnalyticsBenchRow[];
  /** Seconds spent writing facts and rebuilding, per size. */
  seeding: { signups: number; insertSeconds: number; rebuildSeconds: number; rollupDocuments: number }[];
}

/** A small deterministic generator (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Writes `count` signups (with their completions and day-1/7/30 returns) in batches. */
async function seed(count: number, r: () => number): Promise<void> {
  const BATCH = 10_000;
  for (let done = 0; done < count; done += BATCH) {
    const signups = [];
    const completions = [];
    const returns = [];
    for (let i = 0; i < Math.min(BATCH, count - done); i++) {
      const _id = new mongoose.Types.ObjectId();
      const signedUpAt = new Date(YEAR_START + Math.floor(r() * 365 * DAY_MS));
      const facts = {
        source: pick(r, SOURCES),
        campaign: pick(r, CAMPAIGNS),
        medium: pick(r, MEDIA),
        country: pick(r, COUNTRIES),
        platform: pick(r, PLATFORMS),
      };
      const day = signedUpAt.toISOString().slice(0, 10);
      signups.push({ _id, ...facts, day, signedUpAt, recordedAt: signedUpAt });
      if (r() < 0.3)
        completions.push({
          _id,
          ...facts,
          signupDay: day,
          signedUpAt,
          day,
          completedAt: signedUpAt,
          recordedAt: signedUpAt,
        });
      for (const [n, share] of [
        [1, 0.3],
        [7, 0.15],
        [30, 0.08],
      ] as const) {
        if (r() < share)
          returns.push({
            _id: `${_id.toHexString()}:${n}`,
            n,
            signedUpAt,
            ...facts,
            at: new Date(signedUpAt.getTime() + (n + 0.5) * DAY_MS),
          });
      }
    }
    await Promise.all([
      signupAttributions().insertMany(signups, { ordered: false }),
      completions.length ? registrationCompletions().insertMany(completions, { ordered: false }) : undefined,
      returns.length ? retentionReturns().insertMany(returns, { ordered: false }) : undefined,
    ]);
  }
}

async function timed(
  fn: () => Promise<{ rows: unknown[] }>,
  runs = 7,
): Promise<{ medianMs: number; maxMs: number; rows: number }> {
  await fn(); // warm-up
  await fn();
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = (await fn()).rows.length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return {
    medianMs: Math.round(times[Math.floor(runs / 2)]! * 10) / 10,
    maxMs: Math.round(times[runs - 1]! * 10) / 10,
    rows,
  };
}

/** Seeds up to each of `sizes` signups in turn and times the reports at each. */
export async function benchAnalytics(
  opts: { sizes?: number[]; log?: (line: string) => void; seed?: boolean } = {},
): Promise<AnalyticsBenchResult> {
  const seeding = opts.seed ?? true;
  const sizes = opts.sizes ?? [10_000, 1_000_000];
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  registerModels();
  const r = random(12);
  const result: AnalyticsBenchResult = { rows: [], seeding: [] };
  // A clean slate for the bench's collections (dropped: deleting a million documents one by one takes minutes).
  const models = [
    SignupAttribution,
    RegistrationCompletion,
    RetentionReturn,
    AnalyticsRollup,
    AnalyticsRollupDay,
    AnalyticsDaySummary,
  ];
  if (seeding) {
    await Promise.all(models.map((m) => m.collection.drop().catch(() => undefined)));
    await Promise.all(models.map((m) => m.createIndexes()));
  }
  let stored = 0;
  /** Stores signups up to `size` and rebuilds the rollups, timed. */
  const seedTo = async (size: number) => {
    let t = performance.now();
    await seed(size - stored, r);
    stored = size;
    const insertSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    await rebuildRollups(['signup', 'completion', 'return']);
    const rebuildSeconds = (performance.now() - t) / 1000;
    const rollupDocuments = await analyticsRollups().countDocuments();
    result.seeding.push({
      signups: size,
      insertSeconds: Math.round(insertSeconds * 10) / 10,
      rebuildSeconds: Math.round(rebuildSeconds * 10) / 10,
      rollupDocuments,
    });
    log(
      `analytics: ${size} signups stored (insert ${insertSeconds.toFixed(1)} s, rebuild ${rebuildSeconds.toFixed(1)} s, ${rollupDocuments} rollup documents)`,
    );
  };
  for (const size of seeding ? sizes : [await signupAttributions().estimatedDocumentCount()]) {
    if (seeding) await seedTo(size);
    else log(`analytics: measuring the ${size} signups stored (no seeding)`);

    const now = new Date(Date.UTC(2026, 2, 1));
    const cases: [string, string, () => Promise<{ rows: unknown[] }>][] = [];
    for (const tz of ['UTC', 'Europe/Istanbul', 'Asia/Kolkata']) {
      cases.push([
        'signups 90 days by day, source, campaign',
        tz,
        () => signupsReport({ from: '2025-10-03', to: '2025-12-31', tz }, ['day', 'source', 'campaign']),
      ]);
      cases.push([
        'retention 30 days by source',
        tz,
        () => retentionReport({ from: '2025-11-01', to: '2025-11-30', tz }, ['source'], {}, now),
      ]);
    }
    // First from the day summaries (the year is closed: the rebuild sealed it), then cell by cell, as the days
    // still open and the stale ones are read (the summaries removed, then written again by the sealer).
    for (const source of ['summaries', 'cells'] as const) {
      if (source === 'cells') await analyticsDaySummaries().deleteMany({});
      for (const [report, tz, fn] of cases) {
        const m = await timed(fn);
        result.rows.push({ signups: size, report, tz, source, ...m });
        log(
          `analytics: ${size} signups | ${report} | ${tz} | from ${source} | ${m.rows} rows | median ${m.medianMs} ms | max ${m.maxMs} ms`,
        );
      }
    }
    await sealClosedDays(Date.now(), true);
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
  const config = loadConfig();
  await connectMongo(config);
  await ensureIndexes(mongoose.connection, createLogger({ level: 'silent' }));
  try {
    const sizes = sizesArg ? { sizes: sizesArg.slice('--sizes='.length).split(',').map(Number) } : {};
    const result = await benchAnalytics({ ...sizes, seed: !process.argv.includes('--no-seed') });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await mongoose.disconnect();
  }
}
