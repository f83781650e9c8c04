/**
 * The next few fire times of a trigger, for `pyrq next`: UTC and wall time in the
 * schedule's timezone. Pure.
 */
import { nextFireAfter, type TriggerSpec } from './next-fire.js';
import { type JitterSpec, nextFire } from './jitter.js';

export interface FireTime {
  /** ISO 8601 UTC. */
  utc: string;
  /** Wall time in the trigger's timezone: `2026-03-08 03:00:00 EDT` (an abbreviation where
   * the runtime's en-US data has one, else the offset: `2026-10-25 02:30:00 GMT+2`). */
  local: string;
  /** With jitter: the occurrence (ISO UTC, its job id's time) and its delay in seconds; `utc` is when it fires. */
  occurrence?: string;
  delaySeconds?: number;
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

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Up to `n` fire times after `fromMs`; with jitter, each with its occurrence and delay. */
export function fireTimes(spec: JitterSpec, fromMs: number, n: number): FireTime[] {
  if (!spec.jitter)
    return nextTimes(spec, fromMs, n).map((t) => ({ utc: iso(t), local: formatLocal(t, spec.timezone) }));
  const out: FireTime[] = [];
  for (let t = fromMs, f = nextFire(spec, t); f !== null && out.length < n; t = f.at, f = nextFire(spec, t))
    out.push({
      utc: iso(f.at),
      local: formatLocal(f.at, spec.timezone),
      occurrence: iso(f.occurrence),
      delaySeconds: (f.at - f.occurrence) / 1000,
    });
  return out;
}
