/**
 * `cron`: a cron expression in the schedule's timezone, evaluated by croner with
 * Vixie-cron DST rules (`model/cron.ts`). `startAt` is a lower bound (inclusive).
 * Its zod shapes: `schemas.ts`.
 */
import { cronFor, cronNextRun, cronProblem, normalizeCron } from '../../model/cron.js';
import { defineTrigger } from './kind.js';
import { isSecondPass } from '../dst-rule.js';

// Many schedules share an expression and come due together; one croner evaluation per
// (expression, timezone, instant) serves them all. Cleared wholesale when full. Keyed
// by level (expression, then timezone, then instant), not by one joined string: building
// and hashing that string on every call was most of the cost of a memo hit, where a
// schedule's own expression and timezone strings keep their hash once computed.
const memo = new Map<string, Map<string, Map<number, number | null>>>();
let memoSize = 0;
const MEMO_MAX = 50_000;

function instantsFor(expr: string, timezone: string): Map<number, number | null> {
  let byZone = memo.get(expr);
  if (byZone === undefined) memo.set(expr, (byZone = new Map()));
  let byInstant = byZone.get(timezone);
  if (byInstant === undefined) byZone.set(timezone, (byInstant = new Map()));
  return byInstant;
}

function cronNextAfter(expr: string, timezone: string, afterMs: number): number | null {
  let instants = instantsFor(expr, timezone);
  const hit = instants.get(afterMs);
  if (hit !== undefined) return hit;
  const v = cronNextRun(expr, timezone, afterMs);
  if (memoSize >= MEMO_MAX) {
    memo.clear();
    memoSize = 0;
    instants = instantsFor(expr, timezone);
  }
  instants.set(afterMs, v);
  memoSize++;
  return v;
}

export const cronTrigger = defineTrigger<'cron', string, string>({
  field: 'cron',

  normalize(value) {
    const cron = normalizeCron(value);
    const problem = cronProblem(cron);
    return problem ? { ok: false, message: `${JSON.stringify(value)}: ${problem}` } : { ok: true, value: cron };
  },

  nextAfter(s, after, startAt) {
    // startAt is inclusive: search from one second before it.
    const from = startAt !== undefined && startAt - 1000 > after ? startAt - 1000 : after;
    let t = cronNextAfter(s.cron, s.timezone, from);
    // BTU's rule: the second pass of a repeated local time never runs (src/schedule/dst-rule.ts).
    for (let i = 0; s.dst === 'btu' && t !== null && i < MAX_SECOND_PASS_SKIPS && isSecondPass(s.timezone, t); i++)
      t = cronNextAfter(s.cron, s.timezone, t);
    return t;
  },

  between(s, lo, hi, limit) {
    if (s.dst === 'btu') return cronBetween(s, lo, hi, limit).filter((t) => !isSecondPass(s.timezone, t));
    return cronBetween(s, lo, hi, limit);
  },

  describe: (s) => `cron "${s.cron}" (${s.timezone}${s.dst === 'btu' ? ', BTU DST rule' : ''})`,
});

/** Most second-pass occurrences skipped in a row (an hour of per-second runs). */
const MAX_SECOND_PASS_SKIPS = 3600;

function cronBetween(s: { cron: string; timezone: string }, lo: number, hi: number, limit: number): number[] {
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
      return runs
        .map((d) => d.getTime())
        .filter((x) => x > lo && x <= hi)
        .reverse();
    }
  }
  return out;
}
