/**
 * A schedule's `retry`: how often a stock `rq worker` runs a failed job again, written as
 * RQ's own fields (`retries_left`, `retry_intervals`) into the job hash, so no worker
 * code is needed. Pure, and free of zod (the schemas: `retry-schema.ts`).
 *
 * RQ (>= 1.5, `Retry(max, interval)`) picks the interval of a retry as
 * `intervals[max(len(intervals) - retries_left, 0)]`: with exactly `max` intervals the
 * n-th retry waits the n-th; with fewer, the first ones repeat, with more, the first are
 * never used. pyrq therefore always stores exactly `max` intervals (a shorter list is
 * padded with its last value, `exponential` is expanded), so what `plan` and `status`
 * show is what the worker does. RQ keeps intervals as whole seconds (JSON ints).
 *
 * As written:
 *   retry: 3                                        3 retries, at once
 *   retry: { max: 3, intervals: [10, "1m", "5m"] }  after 10 s, 1 min, 5 min
 *   retry: { max: 3, intervals: "30s" }             after 30 s each
 *   retry: { max: 5, exponential: { base: "10s", cap: "2m" } }   10, 20, 40, 80, 120 s
 */
import type { Retry, RetryInput } from './retry-schema.js';
import { formatDuration, MAX_EVERY_SECONDS, parseDuration } from './duration.js';
import { quote } from './excerpt.js';
import { MAX_RETRIES } from './schedule-constants.js';

export { MAX_RETRIES };

// The zod schemas of `retry` (as written, as stored) are in retry-schema.ts: what reads
// stored schedules (`pyrq status`) needs this module and not zod.
export type { Retry, RetryInput } from './retry-schema.js';

type Issue = [path: string, message: string];

/** One wait: whole seconds, 0 allowed (RQ requeues at once), or the problem at `path`. */
function interval(v: unknown, path: string): number | Issue {
  if (v === 0 || (typeof v === 'string' && /^\s*0+\s*$/.test(v))) return 0;
  if (typeof v === 'number' && v < 0) return [path, `${v} is negative (RQ refuses negative intervals)`];
  const d = parseDuration(v);
  if (typeof d === 'number') return d;
  return [path, `${typeof v === 'string' ? `${quote(v)}: ` : ''}${d.reason} (RQ stores whole seconds)`];
}

/** The stored form of `retry`, or the problems, each with its path under `retry`. */
export function normalizeRetry(r: RetryInput): { ok: true; value: Retry } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const max = typeof r === 'number' ? r : r.max;
  const maxPath = typeof r === 'number' ? 'retry' : 'retry.max';
  if (!Number.isInteger(max) || max < 1 || max > MAX_RETRIES)
    issues.push([maxPath, `must be a whole number of retries from 1 to ${MAX_RETRIES} (got ${max})`]);
  let waits: number[] = [0];
  if (typeof r === 'object') {
    if (r.intervals !== undefined && r.exponential !== undefined)
      issues.push(['retry', 'give intervals or exponential, not both']);
    if (r.intervals !== undefined) {
      const list = Array.isArray(r.intervals) ? r.intervals : [r.intervals];
      if (list.length === 0) issues.push(['retry.intervals', 'is empty: give at least one wait']);
      waits = [];
      list.forEach((v, i) => {
        const w = interval(v, Array.isArray(r.intervals) ? `retry.intervals.${i}` : 'retry.intervals');
        if (typeof w === 'number') waits.push(w);
        else issues.push(w);
      });
    } else if (r.exponential !== undefined) {
      const base = interval(r.exponential.base, 'retry.exponential.base');
      const cap = r.exponential.cap === undefined ? Infinity : interval(r.exponential.cap, 'retry.exponential.cap');
      for (const w of [base, cap]) if (typeof w !== 'number') issues.push(w);
      if (typeof base === 'number' && typeof cap === 'number') {
        if (base < 1) issues.push(['retry.exponential.base', 'must be at least 1 second']);
        else if (cap < base) issues.push(['retry.exponential.cap', `must be at least base (${base} s)`]);
        waits = [];
        for (let i = 0, w = base; i < Math.min(Math.max(max, 1), MAX_RETRIES); i++, w *= 2)
          waits.push(Math.min(w, cap, MAX_EVERY_SECONDS)); // no cap: at most 366 days, as any duration
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  const intervals: number[] = [];
  for (let i = 0; i < max; i++) intervals.push(waits[Math.min(i, waits.length - 1)]!);
  return { ok: true, value: { max, intervals } };
}

/** "3 retries, after 10s, 1m, 5m" / "2 retries, at once": for plan and status. */
export function describeRetry(r: Retry): string {
  const n = `${r.max} ${r.max === 1 ? 'retry' : 'retries'}`;
  if (r.intervals.every((w) => w === 0)) return `${n}, at once`;
  return `${n}, after ${r.intervals.map(formatDuration).join(', ')}`;
}
