/**
 * The next few fire times of a trigger, for `pyrq next`: UTC and wall time in the
 * schedule's timezone. Pure.
 */
import { nextFireAfter, type TriggerSpec } from './next-fire.js';

export interface FireTime {
  /** ISO 8601 UTC. */
  utc: string;
  /** Wall time in the trigger's timezone: `2026-03-08 03:00:00 EDT` (an abbreviation where
   * the runtime's en-US data has one, else the offset: `2026-10-25 02:30:00 GMT+2`). */
  local: string;
}

/** Up to `n` occurrences strictly after `fromMs`. */
export function nextTimes(spec: TriggerSpec, fromMs: number, n: number): number[] {
  const out: number[] = [];
  let t = fromMs;
  while (out.length < n) {
    const next = nextFireAfter(spec, t);
    if (next === null) break;
    out.push(next);
    t = next;
  }
  return out;
}

const formats = new Map<string, Intl.DateTimeFormat>();

export function formatLocal(ms: number, timezone: string): string {
  let f = formats.get(timezone);
  if (!f) {
    // en-US names North American zones (EDT); elsewhere it gives the offset (GMT+2).
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formats.set(timezone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

export function fireTimes(spec: TriggerSpec, fromMs: number, n: number): FireTime[] {
  return nextTimes(spec, fromMs, n).map((t) => ({
    utc: new Date(t).toISOString().replace('.000Z', 'Z'),
    local: formatLocal(t, spec.timezone),
  }));
}
