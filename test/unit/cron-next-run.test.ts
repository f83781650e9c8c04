/**
 * `cronNextRun` (src/model/cron.ts) answers from a zoneless wall clock when no DST change
 * is near, and defers to croner's search in the zone otherwise. Its answers must be
 * croner's, exactly: this compares the two at instants swept through a year and packed
 * around every offset change of zones with DST (both hemispheres, 30-minute and 2-hour
 * shifts, odd offsets), for expressions whose occurrences fall in the gaps and repeated
 * hours (fixed times, which croner moves or runs once) and around them (steps, wildcards).
 */
import { describe, expect, it } from 'vitest';
import { Cron } from 'croner';
import { cronNextRun, cronOptions } from '../../src/model/cron.js';
import { tzOffsetMs } from '../../src/model/timezone.js';

const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'Australia/Lord_Howe', // a 30-minute shift
  'America/St_Johns', // -3:30 / -2:30
  'Antarctica/Troll', // a 2-hour shift
  'Africa/Casablanca', // DST suspended for Ramadan
  'Asia/Kathmandu', // +5:45, no DST
  'UTC',
];

const EXPRESSIONS = [
  '30 2 * * *', // in Europe's spring gap and autumn repeat
  '0 2 * * *',
  '59 1 * * *',
  '30 1 * * *', // in North America's and Lord Howe's
  '*/15 * * * *',
  '*/7 * * * *',
  '45 */2 * * *',
  '*/20 * * * * *',
  '15 9 * * 1-5',
  '0 3 * * 0',
  '30 2 31 10 *', // once a year, on the night Europe's clocks go back
  '30 1 L * *', // more than a day away: always croner's own search
  '@hourly',
];

const HOUR = 3_600_000;
const YEAR_START = Date.UTC(2027, 0, 1);
const YEAR_END = Date.UTC(2028, 0, 1);

/** The instants at which `tz`'s offset changes in 2027 (to the minute). */
function changes(tz: string): number[] {
  const out: number[] = [];
  for (let t = YEAR_START; t < YEAR_END; t += HOUR) {
    if (tzOffsetMs(tz, t) === tzOffsetMs(tz, t + HOUR)) continue;
    let lo = t;
    let hi = t + HOUR;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (tzOffsetMs(tz, mid) === tzOffsetMs(tz, t)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}

describe('cronNextRun: croner’s answer, faster where no DST change is near', () => {
  it('agrees with croner in the zone at every instant swept and around every offset change', () => {
    let compared = 0;
    const changed = new Map<string, number>();
    for (const tz of ZONES) {
      const instants: number[] = [];
      // Every 2 days 7 h 13 min: the step drifts across the hours of the day and the weekdays.
      for (let t = YEAR_START; t < YEAR_END; t += 199_980_000) instants.push(t);
      for (const c of changes(tz)) {
        changed.set(tz, (changed.get(tz) ?? 0) + 1);
        // Every 10 min for 4 h either side (each second of the minute before and after),
        // then hourly out to 27 h either side (the fast path's span).
        for (let t = c - 4 * HOUR; t <= c + 4 * HOUR; t += 600_000) instants.push(t, t + 59_999);
        for (let t = c - 27 * HOUR; t <= c + 27 * HOUR; t += HOUR) instants.push(t - 1);
        instants.push(c - 1000, c - 1, c, c + 1, c + 1000);
      }
      for (const expr of EXPRESSIONS) {
        // A fresh croner in the zone: not cronFor's copy of the shared parse.
        const croner = new Cron(expr, cronOptions(tz));
        for (const t of instants) {
          const ours = cronNextRun(expr, tz, t);
          const theirs = croner.nextRun(new Date(t))?.getTime() ?? null;
          if (ours !== theirs)
            expect({ expr, tz, after: new Date(t).toISOString(), next: ours }).toEqual({
              expr,
              tz,
              after: new Date(t).toISOString(),
              next: theirs,
            });
          compared++;
        }
      }
    }
    // Each zone with DST changes twice in 2027, so the packed windows were built for it
    // (Casablanca's changes depend on the runtime's tzdata: Node 20 and 24 differ); and
    // every comparison ran.
    for (const tz of [
      'Europe/Berlin',
      'America/New_York',
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'America/St_Johns',
      'Antarctica/Troll',
    ])
      expect(changed.get(tz), tz).toBe(2);
    expect(compared).toBeGreaterThan(40_000);
  });

  it('answers across a repeated hour as croner does: a fixed time runs once, a step runs in both passes', () => {
    // Berlin, 2027-10-31: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
    const firstPass = Date.UTC(2027, 9, 31, 0, 30); // 02:30 CEST
    const secondPass = Date.UTC(2027, 9, 31, 1, 30); // 02:30 CET
    expect(cronNextRun('30 2 * * *', 'Europe/Berlin', firstPass - 60_000)).toBe(firstPass);
    // After the first pass, the next 02:30 is the next night's, not the second pass.
    expect(cronNextRun('30 2 * * *', 'Europe/Berlin', Date.UTC(2027, 9, 31, 1, 10))).toBe(Date.UTC(2027, 10, 1, 1, 30));
    // Found from February (the span is long, so croner's search answers): the first pass.
    expect(cronNextRun('30 2 31 10 *', 'Europe/Berlin', Date.UTC(2027, 1, 1))).toBe(firstPass);
    // A step fires in the second pass too.
    expect(cronNextRun('*/30 * * * *', 'Europe/Berlin', secondPass - 60_000)).toBe(secondPass);
  });
});
