/**
 * How many fires fall in each slot of the next hours (the status page's chart, so that a
 * thundering herd at midnight is visible). Pure: the caller passes the schedules, their
 * stored next fire time and the time.
 *
 * Cost is bounded whatever the registry holds: each schedule's occurrences are walked
 * with `nextFireAfter` (memoised per cron expression, arithmetic for `every`) up to a
 * cap, and the cap shrinks as schedules grow so the walk takes at most about
 * `budget` steps in all (never fewer than `MIN_PER_SCHEDULE` per schedule). A schedule
 * that fires more often than its cap allows (a per-minute cron) has its remaining fires
 * spread at the average rate of the ones walked: exact for `every`, an estimate for a
 * cron whose rhythm changes within the day; the result says how many were estimated.
 */
import { nextFireAfter, type TriggerSpec } from './next-fire.js';

export interface SlotSchedule {
  /** The stored spec (undefined: unreadable, skipped). */
  spec: TriggerSpec | undefined;
  /** The stored next fire time (epoch ms; null: none). */
  next: number | null;
  /** A paused schedule fires nothing until resumed: not counted. */
  paused?: boolean;
}

export interface SlotOptions {
  /** Default 24 h. */
  horizonMs?: number;
  /** Default 15 min. */
  slotMs?: number;
  /** Occurrences walked in all, at most about (default 500,000). */
  budget?: number;
  /** Occurrences walked per schedule at most (default 100: every 15 min over a day is exact). */
  maxPerSchedule?: number;
}

export interface FireSlots {
  /** Start of the first slot: `now` rounded down to a whole slot. */
  start: number;
  slotMs: number;
  /**
   * Fires per slot; slot i is `[start + i * slotMs, start + (i + 1) * slotMs)`, cut to the
   * window `[now, now + horizon)` (a fire already due counts in slot 0).
   */
  counts: number[];
  /** All fires counted (estimated ones included). */
  total: number;
  /** Schedules whose fires past the cap were estimated at their average rate. */
  estimated: number;
  /** The cap each schedule was walked to. */
  perSchedule: number;
}

export const MIN_PER_SCHEDULE = 4;

export function fireSlots(schedules: readonly SlotSchedule[], now: number, o: SlotOptions = {}): FireSlots {
  const horizon = o.horizonMs ?? 24 * 3600_000;
  const slotMs = o.slotMs ?? 15 * 60_000;
  // Slots aligned to whole slots (UTC), so labels read 00:00, 00:15…: the current one holds what is due already.
  const start = Math.floor(now / slotMs) * slotMs;
  // The window is exactly [now, now + horizon) (a fire already due counts too): at 00:10 a
  // fire at 00:00 tomorrow is in the next 24 hours, so the slots reach past the first
  // slot's start + 24 h (one slot more, the last one partly in the window).
  const end = now + horizon;
  const n = Math.ceil((end - start) / slotMs);
  const counts = new Array<number>(n).fill(0);
  const cap = Math.max(
    MIN_PER_SCHEDULE,
    Math.min(o.maxPerSchedule ?? 100, Math.floor((o.budget ?? 500_000) / Math.max(1, schedules.length))),
  );
  let total = 0;
  let estimated = 0;
  const slotOf = (t: number) => Math.min(n - 1, Math.max(0, Math.floor((t - start) / slotMs)));
  for (const s of schedules) {
    if (!s.spec || s.paused || s.next === null || s.next >= end) continue;
    let t: number | null = s.next;
    const first = t;
    let last = t;
    let walked = 0;
    while (t !== null && t < end && walked < cap) {
      counts[slotOf(t)]!++;
      walked++;
      last = t;
      t = nextFireAfter(s.spec, t);
    }
    total += walked;
    if (t === null || t >= end || walked < 2) continue;
    // Past the cap: the rest at the average interval of the walked ones, up to the end.
    const interval = (last - first) / (walked - 1);
    if (interval <= 0) continue;
    estimated++;
    for (let from = t; from < end;) {
      const slotEnd = Math.min(end, start + (slotOf(from) + 1) * slotMs);
      const k = (slotEnd - from) / interval;
      counts[slotOf(from)]! += k;
      total += k;
      from = slotEnd;
    }
  }
  return {
    start,
    slotMs,
    counts: counts.map((c) => Math.round(c)),
    total: Math.round(total),
    estimated,
    perSchedule: cap,
  };
}
