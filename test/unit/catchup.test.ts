import { describe, expect, it } from 'vitest';
import { CATCHUP_LIMIT, planDue } from '../../src/dispatch/catchup.js';
import type { TriggerSpec } from '../../src/schedule/next-fire.js';
import { nextFireAfter } from '../../src/schedule/next-fire.js';

// Policies on plain numbers: an hourly `every` schedule anchored at the epoch.
const H = 3_600_000;
const hourly: TriggerSpec = { every: 3600, timezone: 'UTC', enabled: true };
const T0 = Date.parse('2026-05-01T10:00:00Z');

function plan(
  catchup: 'skip' | 'latest' | 'all',
  first: number,
  now: number,
  extra: { startingDeadline?: number; spec?: TriggerSpec } = {},
) {
  const s = extra.spec ?? hourly;
  return planDue(s, first, now, nextFireAfter(s, now), { catchup, startingDeadline: extra.startingDeadline });
}

const skipped = (...ts: number[]) => ts.map((occurrence) => ({ occurrence, reason: 'skipped:missed' }));

describe('catch-up policy', () => {
  it('an on-time occurrence fires under every policy', () => {
    for (const p of ['skip', 'latest', 'all'] as const) {
      expect(plan(p, T0, T0 + 20)).toEqual({ fire: [T0], skipped: [], next: T0 + H });
    }
  });

  it('a few seconds late is still on time (grace), not missed', () => {
    expect(plan('skip', T0, T0 + 4_000)).toEqual({ fire: [T0], skipped: [], next: T0 + H });
  });

  it('skip: after downtime nothing missed fires; each missed occurrence is recorded', () => {
    expect(plan('skip', T0, T0 + 3 * H - 60_000)).toEqual({
      fire: [],
      skipped: skipped(T0, T0 + H, T0 + 2 * H),
      next: T0 + 3 * H,
    });
  });

  it('skip: a missed run is skipped but the on-time one at the same tick fires', () => {
    expect(plan('skip', T0, T0 + 2 * H + 1000)).toEqual({
      fire: [T0 + 2 * H],
      skipped: skipped(T0, T0 + H),
      next: T0 + 3 * H,
    });
  });

  it('latest: fires only the most recent missed occurrence, once', () => {
    expect(plan('latest', T0, T0 + 3 * H - 60_000)).toEqual({
      fire: [T0 + 2 * H],
      skipped: skipped(T0, T0 + H),
      next: T0 + 3 * H,
    });
  });

  it('latest: when an on-time occurrence fires anyway, the missed ones are all skipped', () => {
    expect(plan('latest', T0, T0 + 2 * H + 1000)).toEqual({
      fire: [T0 + 2 * H],
      skipped: skipped(T0, T0 + H),
      next: T0 + 3 * H,
    });
  });

  it('all: fires every missed occurrence, oldest first', () => {
    expect(plan('all', T0, T0 + 3 * H - 60_000)).toEqual({
      fire: [T0, T0 + H, T0 + 2 * H],
      skipped: [],
      next: T0 + 3 * H,
    });
  });

  it(`all: at most ${CATCHUP_LIMIT}, the newest; older ones are aggregated as missed with a count`, () => {
    const now = T0 + 500 * H + 10;
    const p = plan('all', T0, now);
    expect(p.fire).toHaveLength(CATCHUP_LIMIT);
    expect(p.fire[0]).toBe(T0 + 401 * H);
    expect(p.fire.at(-1)).toBe(T0 + 500 * H);
    // T0 .. T0+399h in one aggregate (400 occurrences), T0+400h listed singly.
    expect(p.skipped).toEqual([
      { occurrence: T0, reason: 'skipped:missed', until: T0 + 400 * H, count: 400 },
      { occurrence: T0 + 400 * H, reason: 'skipped:missed' },
    ]);
  });

  it('a day of a per-second schedule offline is planned without walking every second', () => {
    const perSecond: TriggerSpec = { every: 1, timezone: 'UTC', enabled: true };
    const now = T0 + 86_400_000;
    const p = plan('latest', T0, now, { spec: perSecond });
    // The last 5 s are within the grace period: on time, they fire; the rest is missed.
    expect(p.fire).toEqual([now - 5000, now - 4000, now - 3000, now - 2000, now - 1000, now]);
    expect(p.skipped[0]).toEqual({ occurrence: T0, reason: 'skipped:missed', until: now - 100_000, count: 86_300 });
    expect(p.skipped).toHaveLength(1 + 95);
    expect(p.next).toBe(now + 1000);
  });

  it('startingDeadline: an occurrence later than the deadline is never started, whatever the policy', () => {
    // 30 minutes late, deadline 10 minutes.
    for (const p of ['latest', 'all'] as const) {
      expect(plan(p, T0, T0 + 30 * 60_000, { startingDeadline: 600 })).toEqual({
        fire: [],
        skipped: [{ occurrence: T0, reason: 'skipped:deadline' }],
        next: T0 + H,
      });
    }
    // Within the deadline it fires.
    expect(plan('latest', T0, T0 + 5 * 60_000, { startingDeadline: 600 }).fire).toEqual([T0]);
    // A deadline shorter than the grace period still applies.
    expect(plan('skip', T0, T0 + 3_000, { startingDeadline: 2 }).skipped).toEqual([
      { occurrence: T0, reason: 'skipped:deadline' },
    ]);
  });

  it('all + startingDeadline: only the missed occurrences within the deadline fire', () => {
    const p = plan('all', T0, T0 + 2 * H + 30 * 60_000, { startingDeadline: 2 * 3600 });
    expect(p.fire).toEqual([T0 + H, T0 + 2 * H]);
    expect(p.skipped).toEqual([{ occurrence: T0, reason: 'skipped:deadline' }]);
  });

  it('a one-shot "at" missed during downtime: skip drops it, latest fires it; either way it is done', () => {
    const at: TriggerSpec = { at: '2026-05-01T10:00:00Z', timezone: 'UTC', enabled: true };
    expect(plan('skip', T0, T0 + H, { spec: at })).toEqual({ fire: [], skipped: skipped(T0), next: null });
    expect(plan('latest', T0, T0 + H, { spec: at })).toEqual({ fire: [T0], skipped: [], next: null });
  });

  it('endAt: occurrences at or after endAt are neither fired nor recorded; the schedule ends', () => {
    const ending: TriggerSpec = { ...hourly, endAt: '2026-05-01T12:00:00Z' };
    expect(plan('all', T0, T0 + 5 * H, { spec: ending })).toEqual({ fire: [T0, T0 + H], skipped: [], next: null });
  });
});
