/**
 * When does a schedule fire next? Pure: the caller passes the reference time, so time
 * tests are exact. Occurrences are whole seconds.
 *
 * - cron: croner, in the schedule's timezone, Vixie-cron DST rules (see `model/cron.ts`).
 * - every: `anchor + k * period`, anchored at `startAt`, else the Unix epoch. A fixed
 *   anchor makes occurrences the same on every daemon and across restarts, which is what
 *   makes deterministic job ids (and so exactly-once firing) possible.
 * - at: the instant itself, once.
 * `startAt` is inclusive, `endAt` exclusive; disabled schedules never fire.
 */
import { cronFor } from '../model/cron.js';
import type { Schedule } from '../model/schedule-schema.js';

/** The fields of a schedule that decide when it fires. */
export type TriggerSpec = Pick<Schedule, 'cron' | 'every' | 'at' | 'timezone' | 'startAt' | 'endAt' | 'enabled'>;

// Many schedules share an expression and come due together; one croner evaluation per
// (expression, timezone, instant) serves them all. Cleared wholesale when full.
const memo = new Map<string, number | null>();
const MEMO_MAX = 50_000;

function cronNextAfter(expr: string, timezone: string, afterMs: number): number | null {
  const key = `${afterMs}\u0000${timezone}\u0000${expr}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const d = cronFor(expr, timezone).nextRun(new Date(afterMs));
  const v = d === null ? null : d.getTime();
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, v);
  return v;
}

const parseMs = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

/**
 * The first occurrence strictly after `afterMs`, or null when there is none (disabled,
 * past its `endAt`, a one-shot already passed, or a cron that never matches again).
 */
export function nextFireAfter(s: TriggerSpec, afterMs: number): number | null {
  if (!s.enabled) return null;
  const startAt = parseMs(s.startAt);
  const endAt = parseMs(s.endAt);
  // Whole seconds: an occurrence at T is "after" T - 0.5 s but not after T itself.
  const after = Math.floor(afterMs / 1000) * 1000;
  let t: number | null;
  if (s.at !== undefined) {
    const at = Date.parse(s.at);
    t = at > after ? at : null;
  } else if (s.every !== undefined) {
    const period = s.every * 1000;
    const anchor = startAt ?? 0;
    t = after < anchor ? anchor : anchor + (Math.floor((after - anchor) / period) + 1) * period;
  } else if (s.cron !== undefined) {
    // startAt is inclusive: search from one second before it.
    const from = startAt !== undefined && startAt - 1000 > after ? startAt - 1000 : after;
    t = cronNextAfter(s.cron, s.timezone, from);
  } else {
    t = null;
  }
  if (t !== null && endAt !== undefined && t >= endAt) return null;
  return t;
}

/**
 * Occurrences in `(fromMs, toMs]`, oldest first; when there are more than `limit`, the
 * newest `limit`. Used by the catch-up policy after downtime, so it must not walk every
 * missed occurrence of a per-second schedule after a day offline: `every` is arithmetic,
 * and cron walks forward at most `limit + 1` steps before it walks back from `toMs`.
 */
export function occurrencesBetween(s: TriggerSpec, fromMs: number, toMs: number, limit: number): number[] {
  if (!s.enabled || limit <= 0 || toMs <= fromMs) return [];
  const startAt = parseMs(s.startAt);
  const endAt = parseMs(s.endAt);
  const lo = Math.max(Math.floor(fromMs / 1000) * 1000, startAt === undefined ? -Infinity : startAt - 1); // exclusive
  const hi = Math.min(Math.floor(toMs / 1000) * 1000, endAt === undefined ? Infinity : endAt - 1); // inclusive
  if (hi <= lo) return [];
  if (s.at !== undefined) {
    const at = Date.parse(s.at);
    return at > lo && at <= hi ? [at] : [];
  }
  if (s.every !== undefined) {
    const period = s.every * 1000;
    const anchor = startAt ?? 0;
    if (hi < anchor) return [];
    const last = anchor + Math.floor((hi - anchor) / period) * period;
    const out: number[] = [];
    for (let t = last; t > lo && t >= anchor && out.length < limit; t -= period) out.push(t);
    return out.reverse();
  }
  if (s.cron !== undefined) {
    // Forward from `lo`, one memoised next-run at a time: after a short stall this is a
    // few steps shared by every schedule with the same expression. Only when there are
    // more than `limit` (long downtime) does it walk back from `hi` with croner's
    // previousRuns, which costs ~50 µs a step: asking it for `limit` runs on every
    // catch-up made a daemon that fell 3 s behind with 1,000 per-second schedules take
    // 3 s per tick from then on, and never catch up (found by the punctuality bench).
    const out: number[] = [];
    for (let t = cronNextAfter(s.cron, s.timezone, lo); t !== null && t <= hi; t = cronNextAfter(s.cron, s.timezone, t)) {
      out.push(t);
      if (out.length > limit) {
        const runs = cronFor(s.cron, s.timezone).previousRuns(limit, new Date(hi + 1000));
        return runs.map((d) => d.getTime()).filter((x) => x > lo && x <= hi).reverse();
      }
    }
    return out;
  }
  return [];
}
