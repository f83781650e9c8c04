/**
 * The one duration grammar, for schedules (`every`, `timeout`, `startingDeadline`) and
 * the config file (`resyncInterval`, `grace`, `pollInterval`, ...). Pure; no I/O.
 *
 *   duration := number                 seconds: "90", "0.5"
 *             | term term...           largest unit first, each unit at most once
 *   term     := number unit            "1h30m", "90s", "500ms", "1.5h", "2w"
 *   unit     := w | d | h | m | s | ms
 *   number   := digits [ "." digits ]
 *
 * Case and surrounding spaces are ignored. Each user applies its own bounds on top: a
 * schedule takes whole seconds from 1 s to 366 d (`parseDuration`), the config file any
 * positive time (`load-config.ts`).
 */

/** The shortest allowed period. Sub-second schedules are not what RQ is for. */
export const MIN_EVERY_SECONDS = 1;
/** The longest allowed period (366 days): anything longer is almost certainly a typo. */
export const MAX_EVERY_SECONDS = 366 * 24 * 3600;

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const TERM_UNITS = ['w', 'd', 'h', 'm', 's', 'ms'] as const;
const NUM = '(\\d+(?:\\.\\d+)?)';
// `m(?!s)`: "5ms" is five milliseconds, not five minutes followed by a stray "s".
const TERMS_RE = new RegExp(`^(?:${NUM}w)?(?:${NUM}d)?(?:${NUM}h)?(?:${NUM}m(?!s))?(?:${NUM}s)?(?:${NUM}ms)?$`);
const SECONDS_RE = /^-?\d+(?:\.\d+)?$/;

/**
 * Milliseconds of a duration written in the grammar above (rounded to whole ms), or
 * undefined when the text does not follow it. Bounds are the caller's.
 */
export function durationTextMs(input: string): number | undefined {
  const text = input.trim().toLowerCase();
  if (text === '') return undefined;
  if (SECONDS_RE.test(text)) return Math.round(Number(text) * 1000);
  const m = TERMS_RE.exec(text);
  if (!m) return undefined;
  let ms = 0;
  TERM_UNITS.forEach((unit, i) => {
    const v = m[i + 1];
    if (v !== undefined) ms += Number(v) * UNIT_MS[unit]!;
  });
  return Math.round(ms);
}

/** Parses a schedule's duration: whole seconds within bounds, or a reason string when it is not valid. */
export function parseDuration(input: unknown): number | { reason: string } {
  let seconds: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || !Number.isInteger(input)) return { reason: 'must be a whole number of seconds' };
    seconds = input;
  } else if (typeof input === 'bigint') {
    return { reason: `${input} seconds is longer than the maximum of ${MAX_EVERY_SECONDS} (366d)` };
  } else if (typeof input === 'string') {
    const ms = durationTextMs(input);
    if (ms === undefined)
      return { reason: 'expected a duration such as "90s", "15m", "1h30m", "2d" or a number of seconds' };
    seconds = ms / 1000;
    // Past the maximum, say that rather than quibble about a fraction of it.
    if (!Number.isInteger(seconds) && seconds <= MAX_EVERY_SECONDS)
      return { reason: 'must be a whole number of seconds' };
  } else {
    return { reason: `expected a duration string or a number of seconds, got ${describeType(input)}` };
  }
  if (seconds < MIN_EVERY_SECONDS) return { reason: `must be at least ${MIN_EVERY_SECONDS} second` };
  if (seconds > MAX_EVERY_SECONDS)
    return { reason: `${seconds} seconds is longer than the maximum of ${MAX_EVERY_SECONDS} (366d)` };
  return seconds;
}

/** Formats seconds the way a person would write them: 5400 -> "1h30m". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]! / 1000;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
    case 'bigint':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}
