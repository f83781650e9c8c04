/**
 * What the cron memo shares must not change what a cron means: croner instances share
 * one read-only year table (pyrq patterns have no year field), and a cron's verdict is
 * computed once per (expression, timezone).
 */
import { describe, expect, it } from 'vitest';
import { cronFor, cronProblem } from '../../src/model/cron.js';
import { yearTableOf as yearTable } from '../../src/model/croner-internals.js';

describe('croner instances share one year table', () => {
  it('shares it across expressions and timezones, and still evaluates every year', () => {
    const a = cronFor('0 9 * * 1-5', 'Europe/Berlin');
    const b = cronFor('*/15 * * * * *', 'Asia/Kolkata');
    expect(yearTable(a)).toBe(yearTable(b));
    expect(Object.isFrozen(yearTable(a))).toBe(true);
    expect(a.nextRun(new Date('2026-12-31T23:00:00Z'))?.toISOString()).toBe('2027-01-01T08:00:00.000Z');
    expect(a.nextRun(new Date('2099-06-05T12:00:00Z'))?.toISOString()).toBe('2099-06-08T07:00:00.000Z');
    expect(b.previousRuns(1, new Date('2026-03-01T00:00:07Z'))[0]?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('leaves leap-day patterns working across years', () => {
    const c = cronFor('0 0 29 2 *', 'UTC');
    expect(c.nextRun(new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});

describe('cronProblem', () => {
  it('gives the same verdict every time it is asked', () => {
    expect(cronProblem('0 0 31 2 *')).toMatch(/never matches/);
    expect(cronProblem('0 0 31 2 *')).toMatch(/never matches/);
    expect(cronProblem('0 0 * * *')).toBeNull();
    expect(cronProblem('0 0 * * *')).toBeNull();
  });

  it('is right for every timezone: a fixed time in a DST gap still fires there', () => {
    // Berlin skips 02:00-03:00 on the last Sunday of March; Vixie-cron semantics (and
    // pyrq's) run a fixed-time job after the gap, so the pattern is valid everywhere.
    expect(cronProblem('30 2 * 3 SUN#L')).toBeNull();
    expect(cronFor('30 2 * 3 SUN#L', 'Europe/Berlin').nextRun(new Date('2026-03-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });
});
