/**
 * BTU's `cron_string` as BTU's scheduler fires it, in pyrq's cron syntax.
 *
 * BTU accepts 5, 6 or 7 fields (btu_scheduler `btu_cron.cron_str_to_cron_str7`: 5 fields
 * are standard cron, 6 are the 5 **plus a year at the end**, 7 are seconds, the 5 and a
 * year), then hands croniter only minute..day-of-week (`CronStruct.to_string`, called by
 * `tz_cron_to_utc_datetimes`): the seconds and the year are dropped. So does pyrq for BTU
 * rows: `*\/15 * * * * * *` fires once a minute, and `0 0 8 * * * 2027` every day at 08:00
 * (every year), as with BTU. `dropped` says which fields went, for `status`.
 *
 * `@hourly`-style nicknames pass unchanged (pyrq's own cron reads them).
 */

export type BtuCronResult = { ok: true; cron: string; dropped?: string } | { ok: false; message: string };

export function btuCronToPyrq(text: string | null | undefined): BtuCronResult {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { ok: false, message: 'is empty: a BTU schedule needs a cron string' };
  if (trimmed.startsWith('@')) return { ok: true, cron: trimmed };
  const f = trimmed.split(/\s+/);
  const wild = (v: string) => v === '*' || v === '?';
  switch (f.length) {
    case 5:
      return { ok: true, cron: f.join(' ') };
    case 6:
      return { ok: true, cron: f.slice(0, 5).join(' '), ...(wild(f[5]!) ? {} : { dropped: `year ${f[5]}` }) };
    case 7: {
      const dropped = [...(f[0] === '0' ? [] : [`seconds ${f[0]}`]), ...(wild(f[6]!) ? [] : [`year ${f[6]}`])];
      return { ok: true, cron: f.slice(1, 6).join(' '), ...(dropped.length ? { dropped: dropped.join(', ') } : {}) };
    }
    default:
      return {
        ok: false,
        message: `${JSON.stringify(trimmed)}: expected 5 fields (minute hour day-of-month month day-of-week), 6 (the same plus a year) or 7 (seconds first, year last), got ${f.length}`,
      };
  }
}
