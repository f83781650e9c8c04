/**
 * Timestamps in schedule files (`at`, `startAt`, `endAt`). Accepted: ISO 8601 strings
 * with or without an offset, TOML datetimes, JS Dates. A timestamp without an offset is
 * wall-clock time in the schedule's timezone. Pure.
 */
import { quote } from './excerpt.js';
import { zonedTimeToUtc } from './timezone.js';

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses a timestamp into epoch milliseconds, or returns a reason. */
export function parseTimestamp(input: unknown, timezone: string): number | { reason: string } {
  if (input instanceof Date) {
    if (Number.isNaN(input.getTime())) return { reason: 'invalid date' };
    const floating =
      (input as { isFloating?: boolean }).isFloating === true || (input as { isDate?: boolean }).isDate === true;
    if (!floating) return input.getTime();
    // TOML local datetime / local date: the Date holds the wall time in its UTC fields.
    return zonedTimeToUtc(
      timezone,
      input.getUTCFullYear(),
      input.getUTCMonth() + 1,
      input.getUTCDate(),
      input.getUTCHours(),
      input.getUTCMinutes(),
      input.getUTCSeconds(),
      input.getUTCMilliseconds(),
    );
  }
  if (typeof input !== 'string') return { reason: 'expected an ISO 8601 timestamp such as "2026-12-01T09:00:00Z"' };
  const m = ISO_RE.exec(input.trim());
  if (!m)
    return {
      reason: `${quote(input)} is not an ISO 8601 timestamp (e.g. "2026-12-01T09:00:00Z" or "2026-12-01 09:00")`,
    };
  const [, ys, mos, ds, hs = '0', mis = '0', ss = '0', frac = '0', zone] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  const ms = Math.floor(Number(`0.${frac}`) * 1000);
  if (mo < 1 || mo > 12) return { reason: `${quote(input)}: month out of range` };
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > daysInMonth) return { reason: `${quote(input)}: day out of range` };
  if (h > 23 || mi > 59 || s > 59) return { reason: `${quote(input)}: time out of range` };
  if (zone === undefined) return zonedTimeToUtc(timezone, y, mo, d, h, mi, s, ms);
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (zone.toUpperCase() === 'Z') return wall;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  if (offsetMin > 18 * 60) return { reason: `${quote(input)}: offset out of range` };
  return wall - sign * offsetMin * 60_000;
}

/** Canonical form stored in the registry: UTC, whole seconds, `2026-12-01T09:00:00Z`. */
export function formatTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
