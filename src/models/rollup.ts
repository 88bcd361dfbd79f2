/**
 * What the reports read (docs/architecture.md#what-the-reports-read): rollup documents the worker keeps up to
 * date, the retention facts behind one of them, and the marketers' spend uploads. None holds personal data.
 */
import { model, Schema } from 'mongoose';
import { rollupLogFields, ROLLUP_LOG_INDEX } from './analytics.js';

/**
 * One document per kind of fact and UTC day (`signup|2026-03-29`): `t` maps a cell (the dimension values
 * joined by `|`) to its counters for the day, and `s` does the same per quarter hour of the day (`0`-`95`);
 * `u` and `w` are the same with cells of source, campaign and medium only.
 * `v` counts the facts applied: the fact with `seq: v` of the rollup's log is the next one
 * (src/services/rollups.ts).
 */
const analyticsRollupSchema = new Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    day: { type: String, required: true },
    v: { type: Number, required: true },
    t: { type: Schema.Types.Mixed, default: {} },
    s: { type: Schema.Types.Mixed, default: {} },
    u: { type: Schema.Types.Mixed },
    w: { type: Schema.Types.Mixed },
  },
  { collection: 'analytics_rollups', versionKey: false, minimize: false },
);
// Trivially unique (`_id` is): it makes the compare-and-set `{_id, v}` an index lookup on the embedded server.
analyticsRollupSchema.index({ _id: 1, v: 1 }, { unique: true });
export const AnalyticsRollup = model('AnalyticsRollup', analyticsRollupSchema);

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
    ...rollupLogFields,
  },
  { collection: 'retention_returns', versionKey: false },
);
retentionReturnSchema.index(...ROLLUP_LOG_INDEX);
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
