/**
 * Calendar days of a time zone (src/lib/tz.ts) and the rollup cells (src/services/rollups.ts): DST changes,
 * half- and quarter-hour offsets, and cells that round-trip.
 */
import { expect } from 'chai';
import { addDays, isTimeZone, localDay, localDays, startOfLocalDay, utcDaysBetween } from '../../src/lib/tz.js';
import { cellOf, parseCell, slotOf } from '../../src/services/rollups.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('time zones (src/lib/tz.ts)', () => {
  it('knows IANA zones and refuses the rest', () => {
    for (const tz of ['UTC', 'Europe/Istanbul', 'America/New_York', 'Asia/Kolkata'])
      expect(isTimeZone(tz), tz).to.equal(true);
    for (const tz of ['Mars/Olympus', 'UTC+3', '']) expect(isTimeZone(tz), tz).to.equal(false);
  });

  it('starts each day at its local midnight, across the DST changes of 2026', () => {
    expect(iso(startOfLocalDay('2026-01-10', 'UTC'))).to.equal('2026-01-10T00:00:00.000Z');
    expect(iso(startOfLocalDay('2026-01-10', 'Europe/Istanbul'))).to.equal('2026-01-09T21:00:00.000Z');
    // Berlin: CET (+1) until 2026-03-29 01:00 UTC, CEST (+2) after; back on 2026-10-25.
    expect(iso(startOfLocalDay('2026-03-29', 'Europe/Berlin'))).to.equal('2026-03-28T23:00:00.000Z');
    expect(iso(startOfLocalDay('2026-03-30', 'Europe/Berlin'))).to.equal('2026-03-29T22:00:00.000Z');
    expect(iso(startOfLocalDay('2026-10-26', 'Europe/Berlin'))).to.equal('2026-10-25T23:00:00.000Z');
    // New York: EST (-5) → EDT (-4) on 2026-03-08.
    expect(iso(startOfLocalDay('2026-03-08', 'America/New_York'))).to.equal('2026-03-08T05:00:00.000Z');
    expect(iso(startOfLocalDay('2026-03-09', 'America/New_York'))).to.equal('2026-03-09T04:00:00.000Z');
    // Offsets that are not whole hours.
    expect(iso(startOfLocalDay('2026-03-01', 'Asia/Kolkata'))).to.equal('2026-02-28T18:30:00.000Z');
    expect(iso(startOfLocalDay('2026-03-01', 'Asia/Kathmandu'))).to.equal('2026-02-28T18:15:00.000Z');
  });

  it('gives a DST day its 23 or 25 hours', () => {
    const spring = localDays('2026-03-29', '2026-03-29', 'Europe/Berlin');
    expect((spring.end - spring.starts[0]!) / 3_600_000).to.equal(23);
    const autumn = localDays('2026-10-25', '2026-10-25', 'Europe/Berlin');
    expect((autumn.end - autumn.starts[0]!) / 3_600_000).to.equal(25);
  });

  it('names local days and the UTC days an interval touches', () => {
    expect(localDay(Date.parse('2026-03-28T23:30:00Z'), 'Europe/Berlin')).to.equal('2026-03-29');
    expect(localDay(Date.parse('2026-03-28T23:30:00Z'), 'UTC')).to.equal('2026-03-28');
    expect(addDays('2026-12-31', 1)).to.equal('2027-01-01');
    expect(utcDaysBetween(Date.parse('2026-03-28T23:00:00Z'), Date.parse('2026-03-29T22:00:00Z'))).to.deep.equal([
      '2026-03-28',
      '2026-03-29',
    ]);
  });

  it('rollup cells name their dimension values, dots included, and facts their quarter hour', () => {
    const cell = cellOf(['ig.ads', 'spring', '(none)', null, 'web']);
    expect(cell).to.equal('ig%2Eads|spring|(none)||web');
    expect(parseCell(cell)).to.deep.equal(['ig.ads', 'spring', '(none)', null, 'web']);
    expect(slotOf(new Date('2026-03-29T18:47:10Z'))).to.equal(75);
    expect(slotOf(new Date('2026-03-29T00:00:00Z'))).to.equal(0);
    expect(slotOf(new Date('2026-03-29T23:59:59Z'))).to.equal(95);
  });
});
