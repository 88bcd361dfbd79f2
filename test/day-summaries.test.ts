import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { Types } from 'mongoose';
import { analyticsDaySummaries, analyticsRollups } from '../src/models/collections.js';
import { funnelReport, retentionReport, signupsReport, type SignupsReport } from '../src/services/analytics.js';
import { recordFact, rollupCellIdOf, rollupDayIdOf, sealClosedDays, sealDay } from '../src/services/rollups.js';

/**
 * Day summaries (docs/architecture.md#what-the-reports-read): a closed UTC day's cells in one document, which the
 * reports read instead of the cells, and which a fact counted in the day later makes stale.
 */
describe('rollup day summaries', function () {
  this.timeout(120_000);
  // Closed days of their own, long past, far from every other test's data.
  const D = Date.UTC(1990 + randomInt(0, 30), randomInt(0, 11), 5);
  const day = (n: number) => new Date(D + n * 86_400_000).toISOString().slice(0, 10);
  const at = (n: number, hhmm: string) => new Date(`${day(n)}T${hhmm}:00Z`);
  const source = `sum_${randomInt(1e9)}`;
  const ranges = ['UTC', 'Europe/Istanbul', 'Asia/Kolkata', 'America/St_Johns'].map((tz) => ({
    from: day(0),
    to: day(2),
    tz,
  }));

  const signup = (when: Date, campaign: string, extra: Record<string, unknown> = {}) =>
    recordFact('signup', {
      _id: new Types.ObjectId(),
      signedUpAt: when,
      source,
      campaign,
      medium: 'cpc',
      country: 'TR',
      platform: 'ios',
      ...extra,
    });
  /** Every report over the fixture's days, in every zone: what the summaries must not change. */
  const reports = async () =>
    Promise.all(
      ranges.flatMap((r) => [
        signupsReport(r, ['day', 'source', 'campaign'], { source }),
        signupsReport(r, ['day', 'country', 'platform'], { source }),
        retentionReport(r, ['campaign'], { source }, new Date()),
        funnelReport(r, { source }),
      ]),
    );
  const ids = [0, 1, 2].flatMap((n) => [
    rollupDayIdOf('signup', 'marketing', day(n)),
    rollupDayIdOf('signup', 'full', day(n)),
  ]);

  before(async () => {
    // Signups around every local midnight of the zones above (Kolkata 18:30 UTC, St John's 02:30/03:30 UTC).
    const times = ['00:10', '02:29', '02:45', '03:30', '09:00', '18:14', '18:30', '18:44', '20:59', '21:00', '23:59'];
    const facts = [0, 1, 2].flatMap((n) => times.map((t, i) => signup(at(n, t), i % 3 ? 'a' : 'b')));
    await Promise.all(facts);
    for (const n of [0, 1, 2]) {
      await recordFact('return', {
        _id: `${new Types.ObjectId().toHexString()}:1`,
        n: 1,
        signedUpAt: at(n, '18:40'),
        source,
        campaign: 'a',
        medium: 'cpc',
        country: 'TR',
        platform: 'ios',
        at: at(n + 1, '10:00'),
      });
      await recordFact('funnel', {
        _id: new Types.ObjectId(),
        step: 'login',
        at: at(n, '19:00'),
        source,
        campaign: 'a',
        medium: 'cpc',
      });
    }
  });

  it('seals closed days into summaries whose reports equal the cells’ in every zone, and reads them', async () => {
    await analyticsDaySummaries().deleteMany({ _id: { $in: ids } });
    const fromCells = await reports();
    expect((fromCells[0] as SignupsReport).totals.signups).to.equal(33);
    expect((fromCells[8] as SignupsReport).totals.signups).to.equal(28); // Kolkata's 3 days end at 18:30 UTC of the third

    const outcome = await sealClosedDays(Date.now(), true);
    expect(outcome.sealed ?? 0, JSON.stringify(outcome)).to.be.at.least(ids.length);
    const summaries = await analyticsDaySummaries()
      .find({ _id: { $in: ids } })
      .toArray();
    expect(summaries.map((s) => [s._id, s.stale]).sort()).to.deep.equal(ids.map((id) => [id, false]).sort());
    const first = summaries.find((s) => s._id === rollupDayIdOf('signup', 'marketing', day(0)))!;
    expect(first.c).to.deep.equal({ [`${source}|a|cpc`]: { signups: 7 }, [`${source}|b|cpc`]: { signups: 4 } });
    expect(first.q?.['74']).to.deep.equal({ [`${source}|a|cpc`]: { signups: 1 }, [`${source}|b|cpc`]: { signups: 1 } }); // 18:30-18:45
    expect(await sealDay(ids[0]!)).to.equal('current');

    expect(await reports()).to.deep.equal(fromCells);
    // The reports read the summaries: a cell changed under a sealed day does not show.
    const cell = rollupCellIdOf('signup', 'marketing', day(0), `${source}|a|cpc`);
    await analyticsRollups().updateOne({ _id: cell }, { $inc: { 'c.signups': 100 } });
    try {
      expect(await reports()).to.deep.equal(fromCells);
    } finally {
      await analyticsRollups().updateOne({ _id: cell }, { $inc: { 'c.signups': -100 } });
    }
  });

  it('counts a late fact at once (the day goes stale) and again once sealed, also while the sealer reads the cells', async () => {
    await sealClosedDays(Date.now(), true);
    const before = await signupsReport(ranges[2]!, ['day', 'campaign'], { source });
    const gen = (await analyticsDaySummaries().findOne({ _id: ids[0]! }))!.gen;

    await signup(at(0, '12:00'), 'late');
    const stale = await analyticsDaySummaries().findOne({ _id: ids[0]! });
    expect(stale).to.include({ stale: true, gen: gen + 1 });
    const after = await signupsReport(ranges[2]!, ['day', 'campaign'], { source });
    expect(after.totals.signups).to.equal(before.totals.signups + 1);
    expect(after.rows.find((r) => r.campaign === 'late')).to.include({ day: day(0), signups: 1 });

    // A late fact counted while the sealer is between reading the cells and writing the summary: the sealer's
    // write does not land, the day stays stale and the report counts the fact.
    expect(await sealDay(ids[0]!, () => signup(at(0, '13:00'), 'late'))).to.equal('raced');
    expect(await analyticsDaySummaries().findOne({ _id: ids[0]! })).to.include({ stale: true });
    expect((await signupsReport(ranges[2]!, ['day', 'campaign'], { source })).totals.signups).to.equal(
      before.totals.signups + 2,
    );

    // Thirty more late facts, in cells of their own, while two sealers seal the day again and again.
    let landing = true;
    const sealer = async () => {
      while (landing) await sealDay(ids[0]!);
    };
    const sealers = [sealer(), sealer()];
    await Promise.all(
      [0, 1, 2].map(async (stream) => {
        for (let i = 0; i < 10; i++) await signup(at(0, `1${i}:${10 + stream}`), `late${stream}`);
      }),
    );
    landing = false;
    await Promise.all(sealers);
    await sealClosedDays(Date.now(), true);
    const settled = await analyticsDaySummaries()
      .find({ _id: { $in: ids } })
      .toArray();
    expect(settled.every((s) => s.stale === false)).to.equal(true);
    const c = settled.find((s) => s._id === ids[0])!.c!;
    expect([0, 1, 2].map((n) => c[`${source}|late${n}|cpc`])).to.deep.equal(Array(3).fill({ signups: 10 }));
    expect(c[`${source}|late|cpc`]).to.deep.equal({ signups: 2 });
    const sealed = await signupsReport(ranges[2]!, ['day', 'campaign'], { source });
    expect(sealed.totals.signups).to.equal(before.totals.signups + 32);
    await analyticsDaySummaries().deleteMany({ _id: { $in: ids } });
    expect(await signupsReport(ranges[2]!, ['day', 'campaign'], { source })).to.deep.equal(sealed);
  });
});
