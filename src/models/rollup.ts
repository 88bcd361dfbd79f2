/**
 * What the reports read (docs/architecture.md#what-the-reports-read): rollup documents the worker keeps up to
 * date, the retention facts behind one of them, and the marketers' spend uploads. None holds personal data.
 */
import { model, Schema } from 'mongoose';
import { rollupFields } from './analytics.js';

/** The fields every document of a kind, grain and UTC day carries, `_id` first (fresh objects per schema). */
const dayKeyFields = () => ({
  _id: { type: String, required: true },
  kind: { type: String, required: true },
  grain: { type: String, required: true },
  day: { type: String, required: true },
});

/**
 * One document per kind of fact, grain, UTC day and cell (`signup|m|2026-03-29|google|spring|cpc`: the
 * dimension values joined by `|`): `c` holds the cell's counters for the day, `h.<0-23>` per hour and `q.<0-95>` per quarter hour of the
 * UTC day, `p` the markers of facts being counted (src/services/rollups.ts). `g` is the rebuild that wrote it.
 */
const analyticsRollupSchema = new Schema(
  {
    ...dayKeyFields(),
    c: { type: Schema.Types.Mixed, default: {} },
    h: { type: Schema.Types.Mixed, default: {} },
    q: { type: Schema.Types.Mixed, default: {} },
    p: { type: Schema.Types.Mixed },
    g: { type: String },
  },
  { collection: 'analytics_rollups', versionKey: false, minimize: false },
);
export const AnalyticsRollup = model('AnalyticsRollup', analyticsRollupSchema);

/** The cells of a kind, grain and UTC day (`signup|m|2026-03-29`), listed as the keys of `cells`. */
const analyticsRollupDaySchema = new Schema(
  {
    ...dayKeyFields(),
    cells: { type: Schema.Types.Mixed, default: {} },
    g: { type: String },
  },
  { collection: 'analytics_rollup_days', versionKey: false, minimize: false },
);
export const AnalyticsRollupDay = model('AnalyticsRollupDay', analyticsRollupDaySchema);

/**
 * A closed UTC day of a kind and grain in one document (`signup|m|2026-03-29`, the id of its day document),
 * written by the worker's sealer once the day has been over for an hour, for the reports to read instead of the
 * day's cells: `c.<cell>` the day totals, `h.<hour>.<cell>` and `q.<slot>.<cell>` the hours and quarter hours,
 * so a report projects the few hours it needs of every cell at once. A fact counted in the day later marks it
 * `stale` and bumps `gen`; the reports then read the cells until the sealer writes it again.
 */
const analyticsDaySummarySchema = new Schema(
  {
    ...dayKeyFields(),
    gen: { type: Number, required: true },
    stale: { type: Boolean, required: true },
    c: { type: Schema.Types.Mixed },
    h: { type: Schema.Types.Mixed },
    q: { type: Schema.Types.Mixed },
    cells: { type: Number },
    large: { type: Boolean },
    sealedAt: { type: Date },
  },
  { collection: 'analytics_day_summaries', versionKey: false, minimize: false },
);
export const AnalyticsDaySummary = model('AnalyticsDaySummary', analyticsDaySummarySchema);

/**
 * A user who logged in again on day 1, 7 or 30 after signing up (docs/api.md#analytics), once per user and
 * day: `_id` `<userId>:<n>`. The signup's facts are copied so the rollup needs no join.
 */
const retentionReturnSchema = new Schema(
  {
    _id: { type: String, required: true },
    n: { type: Number, required: true },
    signedUpAt: { type: Date, required: true },
    source: { type: String, required: true },
    campaign: { type: String, required: true },
    medium: { type: String, required: true },
    country: { type: String, default: null },
    platform: { type: String, default: null },
    at: { type: Date, required: true },
    ...rollupFields,
  },
  { collection: 'retention_returns', versionKey: false },
);
export const RetentionReturn = model('RetentionReturn', retentionReturnSchema);

/** Marketing spend of a day, source, campaign and currency (`_id` the four joined by `|`); an upload replaces it. */
const analyticsSpendSchema = new Schema(
  {
    _id: { type: String, required: true },
    day: { type: String, required: true },
    source: { type: String, required: true },
    campaign: { type: String, required: true },
    currency: { type: String, required: true },
    /** In ten-thousandths of the currency unit: sums stay exact. */
    amount4: { type: Number, required: true },
    uploadedAt: { type: Date, required: true },
  },
  { collection: 'analytics_spend', versionKey: false },
);
export const AnalyticsSpend = model('AnalyticsSpend', analyticsSpendSchema);
