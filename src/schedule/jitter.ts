/**
 * Jitter: a schedule's occurrences fire a deterministic delay after their nominal time,
 * so a herd of schedules on the same cron spreads over a window instead of landing on
 * Redis and the workers in one second. Pure.
 *
 * - The delay of an occurrence is a function of (schedule id, occurrence) only: an FNV-1a
 *   hash of `"<id>\n<occurrence ms>"`, mixed (murmur3's finaliser), taken modulo the
 *   window in whole seconds. Every daemon, `pyrq next` and `status` compute the same
 *   fire time; the job id stays the occurrence's (`scheduledJobId(id, occurrence)`), so
 *   exactly-once is untouched.
 * - The window is `min(jitter, gap to the next occurrence)`: a delay never reaches the
 *   next occurrence, so fire times keep the occurrences' order and each fire time
 *   belongs to exactly one occurrence (the latest one at or before it): `occurrenceAt`.
 * - Whole seconds, like occurrences: the dispatcher batches by second.
 *
 * The registry stores the *fire time* in `pyrq:next` (what the dispatcher sleeps until
 * and compare-and-sets); the occurrence is recovered from it with `occurrenceAt`.
 */
import { nextFireAfter, occurrencesBetween, type TriggerSpec } from './next-fire.js';

/** What jitter reads of a spec: the trigger, the id (the hash's seed) and the window (seconds). */
export type JitterSpec = TriggerSpec & { id?: string; jitter?: number };

/** 32-bit FNV-1a of `s` (UTF-16 code units), then murmur3's fmix32 so low bits mix well. */
export function jitterHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The delay (ms, whole seconds) of `occurrence`: in `[0, jitter)` and before `next` (the
 * following occurrence, null: none). 0 without jitter.
 */
export function jitterDelayMs(spec: JitterSpec, occurrence: number, next: number | null): number {
  const j = spec.jitter ?? 0;
  if (j <= 0) return 0;
  const gap = next === null ? Infinity : Math.floor((next - occurrence) / 1000);
  const window = Math.min(j, gap);
  if (window <= 1) return 0;
  return (jitterHash(`${spec.id ?? ''}\n${occurrence}`) % window) * 1000;
}

/** When `occurrence` fires: its nominal time plus its delay. */
export function fireTimeOf(spec: JitterSpec, occurrence: number): number {
  if (!spec.jitter) return occurrence;
  return occurrence + jitterDelayMs(spec, occurrence, nextFireAfter(spec, occurrence));
}

/** The occurrence a fire time belongs to (the latest occurrence at or before it); `fire` itself without jitter. */
export function occurrenceAt(spec: JitterSpec, fire: number): number {
  if (!spec.jitter) return fire;
  // Its delay is below `jitter`, so it lies in (fire - jitter, fire]: the newest one there.
  const [o] = occurrencesBetween(spec, fire - spec.jitter * 1000, fire, 1);
  return o ?? fire;
}

/** The next occurrence to fire after `now`: its nominal time and its fire time (null: none). */
export interface NextFire {
  occurrence: number;
  at: number;
}

/**
 * The first occurrence whose fire time is after `now` (whole seconds, as `nextFireAfter`):
 * the latest occurrence at or before `now` when its delay puts it after `now`, else the
 * first occurrence after `now`.
 */
export function nextFire(spec: JitterSpec, now: number): NextFire | null {
  if (spec.jitter) {
    const after = Math.floor(now / 1000) * 1000;
    const [o] = occurrencesBetween(spec, after - spec.jitter * 1000, after, 1);
    if (o !== undefined) {
      const at = fireTimeOf(spec, o);
      if (at > after) return { occurrence: o, at };
    }
  }
  const occurrence = nextFireAfter(spec, now);
  return occurrence === null ? null : { occurrence, at: fireTimeOf(spec, occurrence) };
}

/** `nextFire(spec, now).at`: what the registry stores in `pyrq:next`. */
export function nextFireTimeAfter(spec: JitterSpec, now: number): number | null {
  if (!spec.jitter) return nextFireAfter(spec, now);
  return nextFire(spec, now)?.at ?? null;
}
