/**
 * `every` durations: a whole number of seconds, or a string such as `90s`, `15m`,
 * `1h30m`, `2d`. Pure; no I/O.
 */

/** The shortest allowed period. Sub-second schedules are not what RQ is for. */
export const MIN_EVERY_SECONDS = 1;
/** The longest allowed period (366 days): anything longer is almost certainly a typo. */
export const MAX_EVERY_SECONDS = 366 * 24 * 3600;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses a duration. Returns whole seconds, or a reason string when it is not valid. */
export function parseDuration(input: unknown): number | { reason: string } {
  let seconds: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || !Number.isInteger(input)) return { reason: 'must be a whole number of seconds' };
    seconds = input;
  } else if (typeof input === 'bigint') {
    return { reason: `${input} seconds is longer than the maximum of ${MAX_EVERY_SECONDS} (366d)` };
  } else if (typeof input === 'string') {
    const text = input.trim().toLowerCase();
    if (/^-?\d+$/.test(text)) {
      seconds = Number(text);
    } else {
      const m = DURATION_RE.exec(text);
      if (!m || text === '') return { reason: 'expected a duration such as "90s", "15m", "1h30m", "2d" or a number of seconds' };
      const [, w, d, h, mi, s] = m;
      seconds = 0;
      for (const [v, unit] of [[w, 'w'], [d, 'd'], [h, 'h'], [mi, 'm'], [s, 's']] as const) {
        if (v !== undefined) seconds += Number(v) * UNIT_SECONDS[unit]!;
      }
    }
  } else {
    return { reason: `expected a duration string or a number of seconds, got ${describeType(input)}` };
  }
  if (seconds < MIN_EVERY_SECONDS) return { reason: `must be at least ${MIN_EVERY_SECONDS} second` };
  if (seconds > MAX_EVERY_SECONDS) return { reason: `${seconds} seconds is longer than the maximum of ${MAX_EVERY_SECONDS} (366d)` };
  return seconds;
}

/** Formats seconds the way a person would write them: 5400 -> "1h30m". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_SECONDS[unit]!;
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
