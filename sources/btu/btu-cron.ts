/**
 * BTU's `cron_string` in pyrq's cron syntax.
 *
 * BTU (btu_scheduler `btu_cron.cron_str_to_cron_str7`) reads 5 fields as standard cron,
 * 6 fields as standard cron **plus a year at the end**, and 7 fields as seconds, the 5
 * standard fields and a year. pyrq reads 6 fields as *seconds first*, so a 6-field BTU
 * string passed through unchanged would be misread. We translate:
 * - 5 fields, and `@hourly`-style nicknames: unchanged;
 * - 6 fields with a `*` year: the first 5;
 * - 7 fields with a `*` year: seconds + the 5 fields (just the 5 when seconds is `0`).
 * A year other than `*` cannot be expressed in pyrq: that row is an error rather than a
 * schedule that would silently fire every year. (BTU's Python scheduler drops the year
 * and the seconds; its older Rust daemon honoured both.)
 */

export type BtuCronResult = { ok: true; cron: string } | { ok: false; message: string };

export function btuCronToPyrq(text: string | null | undefined): BtuCronResult {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { ok: false, message: 'is empty: a BTU schedule needs a cron string' };
  if (trimmed.startsWith('@')) return { ok: true, cron: trimmed };
  const f = trimmed.split(/\s+/);
  const anyYear = (y: string) => y === '*' || y === '?';
  switch (f.length) {
    case 5:
      return { ok: true, cron: f.join(' ') };
    case 6:
      if (!anyYear(f[5]!)) return yearError(trimmed, f[5]!);
      return { ok: true, cron: f.slice(0, 5).join(' ') };
    case 7:
      if (!anyYear(f[6]!)) return yearError(trimmed, f[6]!);
      return { ok: true, cron: (f[0] === '0' ? f.slice(1, 6) : f.slice(0, 6)).join(' ') };
    default:
      return {
        ok: false,
        message: `${JSON.stringify(trimmed)}: expected 5 fields (minute hour day-of-month month day-of-week), 6 (the same plus a year) or 7 (seconds first, year last), got ${f.length}`,
      };
  }
}

function yearError(text: string, year: string): BtuCronResult {
  return {
    ok: false,
    message: `${JSON.stringify(text)}: a year field (${JSON.stringify(year)}) is not supported by pyrq; use "*" there or drop the field`,
  };
}
