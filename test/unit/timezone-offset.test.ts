/**
 * tzOffsetMs reads the formatter's text with a regex (its fast path) and falls back to
 * formatToParts for any other shape. The reference here is the part-by-part reading
 * alone, of the same format: the two must give the same offset at every instant, in
 * zones with half- and quarter-hour offsets, southern DST, and the odd-second local
 * mean times of the 19th century, and in years outside 1000-9999 (the fallback).
 */
import { describe, expect, it } from 'vitest';
import { WALL_CLOCK_FORMAT, tzOffsetMs } from '../../src/model/timezone.js';
import { rng } from '../../scripts/rng.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function referenceOffset(tz: string, ms: number): number {
  let f = formatters.get(tz);
  if (!f) formatters.set(tz, (f = new Intl.DateTimeFormat('en-US', { ...WALL_CLOCK_FORMAT, timeZone: tz })));
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) - (ms - (ms % 1000));
}

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns', // -3:30, DST
  'Asia/Kolkata', // +5:30
  'Asia/Kathmandu', // +5:45
  'Australia/Lord_Howe', // +10:30, a half-hour DST shift
  'Australia/Sydney', // southern DST
  'Pacific/Chatham', // +12:45 / +13:45
  'Europe/Amsterdam', // +0:19:32 local mean time before 1937
  'Africa/Monrovia', // -0:44:30 until 1972
];

describe('tzOffsetMs', () => {
  it('gives the part-by-part offset at 20,000 random instants from 1850 to 2100, whole and fractional seconds', () => {
    const r = rng(3);
    const lo = Date.UTC(1850, 0, 1);
    const hi = Date.UTC(2100, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      const tz = ZONES[i % ZONES.length]!;
      const ms = Math.floor(lo + r() * (hi - lo));
      expect([tz, ms, tzOffsetMs(tz, ms)]).toEqual([tz, ms, referenceOffset(tz, ms)]);
    }
  });

  it('agrees on both sides of every offset change of 2025-2027, to the second', () => {
    let changes = 0;
    for (const tz of ZONES) {
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2028, 0, 1); t += 86_400_000) {
        const before = referenceOffset(tz, t);
        if (before === referenceOffset(tz, t + 86_400_000)) continue;
        changes++;
        // The change's first second, found with the reference; then the seconds around it.
        let [a, b] = [t, t + 86_400_000];
        while (b - a > 1000) {
          const mid = a + Math.floor((b - a) / 2000) * 1000;
          if (referenceOffset(tz, mid) === before) a = mid;
          else b = mid;
        }
        for (let ms = b - 3000; ms <= b + 3000; ms += 500)
          expect([tz, ms, tzOffsetMs(tz, ms)]).toEqual([tz, ms, referenceOffset(tz, ms)]);
      }
    }
    // Berlin, Amsterdam, New York, St John's, Lord Howe, Sydney, Chatham: two a year each.
    expect(changes).toBe(42);
  });

  it('outside the years 1000-9999 (read part by part) as well', () => {
    for (const tz of ZONES)
      for (const y of [1, 99, 500, 999, 10_000, 20_000]) {
        const ms = Date.UTC(2000, 5, 15, 12, 30, 15) + (y - 2000) * 365.2425 * 86_400_000;
        expect(tzOffsetMs(tz, ms)).toBe(referenceOffset(tz, ms));
      }
  });
});
