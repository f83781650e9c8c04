/**
 * Cron expressions, evaluated by croner. Validation turns croner's messages into ones
 * that say which field is wrong; construction is memoised because a registry of
 * 100,000 schedules shares a few hundred distinct expressions.
 */
import { Cron } from 'croner';
import { cronInTimezone, shareYearTable } from './croner-internals.js';
import { tzOffsetMs } from './timezone.js';

/** Options every cron in pyrq is built with. Vixie-cron DST semantics: see docs/schedule-files.md, "Timezones and DST". */
export function cronOptions(timezone: string) {
  return {
    timezone,
    paused: true,
    // Schedules are 5 fields (minute-level) or 6 (with seconds first); a year field is not allowed.
    mode: '5-or-6-parts' as const,
    // Like Vixie cron: a job without a wildcard or step in its time fields is a fixed-time
    // job (it runs once on a repeated hour, and after the gap on a skipped one).
    fixedTimeRule: 'no-wildcard' as const,
  };
}

const FIELD_NAMES_6 = ['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'];

const CACHE_MAX = 10_000;

// Each expression is parsed once, into a Cron on a wall clock without a zone: croner with
// a UTC offset of 0 evaluates with Date's UTC fields, where a `timezone` (even 'UTC') costs
// an Intl.DateTimeFormat.formatToParts per step of its search (~70-150 µs a next-run, most
// of a parse thread's croner time). Its Cron for a zone is a copy sharing that parse
// (croner-internals.ts): parsing is ~250 µs and an 80 KB year table, and a registry of
// 100,000 schedules has ~2,000 expression/zone pairs, which each parse thread built.
const wallClocks = new Map<string, Cron>();

function wallClockCron(expr: string): Cron {
  let c = wallClocks.get(expr);
  if (c === undefined) {
    const { timezone: _zone, ...options } = cronOptions('UTC');
    c = new Cron(expr, { ...options, utcOffset: 0 });
    // One shared year table instead of 80 KB per instance (see croner-internals.ts).
    shareYearTable(c);
    if (wallClocks.size >= CACHE_MAX) wallClocks.clear();
    wallClocks.set(expr, c);
  }
  return c;
}

const cache = new Map<string, Cron>();

/** A (memoised) paused croner instance for `expr` in `timezone`. Throws on an invalid expression. */
export function cronFor(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let c = cache.get(key);
  if (c === undefined) {
    c = cronInTimezone(wallClockCron(expr), timezone) ?? new Cron(expr, cronOptions(timezone));
    shareYearTable(c);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, c);
  }
  return c;
}

const HOUR_MS = 3_600_000;
/**
 * The widest span the fast path answers. Within it no zone changes its offset twice
 * (tzdata's closest pairs are weeks apart), so the same offset at both ends means none.
 */
const FAST_SPAN_MS = 26 * HOUR_MS;
/** More than any zone's DST shift (2 h, Antarctica/Troll): an occurrence with no change this long before it is no second pass. */
const SHIFT_MARGIN_MS = 3 * HOUR_MS;

/**
 * The first occurrence of `expr` in `timezone` strictly after `afterMs` (epoch ms), or
 * null: exactly `cronFor(expr, timezone).nextRun(afterMs)`, for less. The expression is
 * evaluated on the wall clock (the offset at `afterMs` added, the zoneless cron, the
 * offset taken off again). That is croner's answer whenever the offset is the same from
 * `afterMs`, and from three hours before the occurrence, up to it: the wall clock then
 * runs evenly over the whole span, with no gap (where croner moves fixed-time jobs to the
 * end of the gap) and no repeated hour (where it runs them once). Anything else (a DST
 * change near, an occurrence more than a day away) is croner's own search in the zone.
 * test/unit/cron-next-run.test.ts compares the two around every DST change of a year.
 */
export function cronNextRun(expr: string, timezone: string, afterMs: number): number | null {
  if (timezone === 'UTC') return wallClockCron(expr).nextRun(new Date(afterMs))?.getTime() ?? null;
  const off = tzOffsetMs(timezone, afterMs);
  const wall = wallClockCron(expr).nextRun(new Date(afterMs + off));
  if (wall !== null) {
    const at = wall.getTime() - off;
    if (
      at - afterMs <= FAST_SPAN_MS &&
      tzOffsetMs(timezone, at) === off &&
      tzOffsetMs(timezone, Math.min(afterMs, at - SHIFT_MARGIN_MS)) === off &&
      tzOffsetMs(timezone, afterMs + Math.floor((at - afterMs) / 2)) === off
    )
      return at;
  }
  return cronFor(expr, timezone).nextRun(new Date(afterMs))?.getTime() ?? null;
}

/** Normalises whitespace so `0  3 * * *` and `0 3 * * *` hash the same. */
export function normalizeCron(expr: string): string {
  return expr.trim().split(/\s+/).join(' ');
}

// Validating an expression costs a croner search (~150 µs), and a registry repeats a few
// hundred expressions, so each is judged once. The verdict does not depend on the
// timezone (which is validated on its own): the fields' syntax is the same everywhere,
// and a pattern without a year field that matches some date in UTC matches one in every
// zone (with Vixie-cron DST semantics a fixed time in a DST gap still fires); so it is
// judged on the zoneless wall clock, the parse every zone's Cron shares. Judging per
// (expression, timezone) pair cost a 100,000-schedule read ~0.5 s of CPU per thread.
const problems = new Map<string, string | null>();

/** Validates a cron expression; returns a reason (without the expression) or null. */
export function cronProblem(expr: string): string | null {
  let p = problems.get(expr);
  if (p === undefined) {
    p = judgeCron(expr);
    if (problems.size >= CACHE_MAX) problems.clear();
    problems.set(expr, p);
  }
  return p;
}

function judgeCron(expr: string): string | null {
  const parts = expr.split(' ');
  if (expr.startsWith('@')) {
    if (!/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/i.test(expr)) {
      return expr.toLowerCase() === '@reboot'
        ? '@reboot is not supported (pyrq is not tied to a machine boot)'
        : 'unknown nickname (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)';
    }
  } else if (parts.length !== 5 && parts.length !== 6) {
    return `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got ${parts.length}`;
  }
  let c: Cron;
  try {
    c = wallClockCron(expr);
  } catch (e) {
    return explainCronError(String((e as Error).message), expr);
  }
  // A pattern that can never match (e.g. "0 0 31 2 *") would silently never fire. The
  // answer does not depend on the reference time for 5/6-field patterns (no year field).
  if (c.nextRun(new Date(Date.UTC(2000, 0, 1))) === null)
    return 'never matches any date (impossible day/month combination)';
  return null;
}

function explainCronError(message: string, expr = ''): string {
  const msg = message.replace(/^CronPattern:\s*/, '');
  // croner reports values as internal indexes (a day-of-month of 32 says "31"), so
  // name the field and leave the value to the expression quoted beside the message.
  let m = /Invalid value for (\w+)/i.exec(msg);
  if (m) return `${humanField(m[1]!)} out of range`;
  // croner numbers fields as if a seconds field were always present.
  m = /configuration entry (\d+) \((.*)\) contains illegal characters/i.exec(msg);
  if (m) {
    // croner quotes the field after converting names (MON-FRY -> 1-FRY): quote the user's own text.
    const fields = expr.split(' ');
    const own = fields.length === 5 || fields.length === 6 ? fields[Number(m[1]) - (6 - fields.length)] : undefined;
    return `${FIELD_NAMES_6[Number(m[1])] ?? `field ${m[1]}`}: illegal characters in "${own ?? m[2]}"`;
  }
  return msg.replace(/\.$/, '');
}

function humanField(f: string): string {
  const map: Record<string, string> = {
    day: 'day-of-month',
    dayOfMonth: 'day-of-month',
    days: 'day-of-month',
    dayOfWeek: 'day-of-week',
    daysOfWeek: 'day-of-week',
    months: 'month',
    hours: 'hour',
    minutes: 'minute',
    seconds: 'second',
  };
  return map[f] ?? f.toLowerCase();
}
