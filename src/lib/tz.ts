/**
 * Calendar days in an IANA time zone, DST included, on Node's own Intl data (no dependency). The reports
 * bucket UTC quarter-hour slots into the local days of the report's zone: every offset in use today is a
 * whole number of quarter hours (Asia/Kolkata +05:30, Asia/Kathmandu +05:45, Australia/Eucla +08:45), so a
 * quarter hour never straddles a local midnight and the days are exact. For the rare historical offsets that
 * are not (local mean time before a zone adopted a standard one), a quarter hour counts on the local day of
 * its start.
 */

export const SLOT_MS = 15 * 60_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    // en-CA formats a date as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

/** Whether Node knows `tz` as a time zone (`UTC`, `Europe/Istanbul`, …). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The calendar day (`YYYY-MM-DD`) of instant `ms` in `tz`. */
export function localDay(ms: number, tz: string): string {
  return formatter(tz).format(ms);
}

/** `day` plus `n` calendar days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC day of instant `ms`. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The first quarter-hour instant of local `day` in `tz` (its midnight, or the first instant after a DST gap
 * that swallowed midnight). A binary search over the quarter hours of the ±15 h around the UTC midnight:
 * the local day of an instant never decreases as time goes on.
 */
export function startOfLocalDay(day: string, tz: string): number {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  let lo = utcMidnight - 15 * 3_600_000; // local day < day here for every zone (offsets are within ±14 h)
  let hi = utcMidnight + 15 * 3_600_000; // local day ≥ day here
  while (hi - lo > SLOT_MS) {
    const mid = lo + Math.floor((hi - lo) / SLOT_MS / 2) * SLOT_MS;
    if (localDay(mid, tz) >= day) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local days `from`…`to` (inclusive) with their start instants, and the end of the last one. */
export function localDays(from: string, to: string, tz: string): { days: string[]; starts: number[]; end: number } {
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  const starts = days.map((d) => startOfLocalDay(d, tz));
  return { days, starts, end: startOfLocalDay(addDays(to, 1), tz) };
}

/** The UTC days that the instants [start, end) touch. */
export function utcDaysBetween(start: number, end: number): string[] {
  const out: string[] = [];
  for (let d = utcDay(start); d <= utcDay(end - 1); d = addDays(d, 1)) out.push(d);
  return out;
}
