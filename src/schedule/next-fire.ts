/**
 * When does a schedule fire next? Pure: the caller passes the reference time, so time
 * tests are exact. Occurrences are whole seconds.
 *
 * What a trigger's occurrences are is its kind's business (`triggers/`: cron, every,
 * at); this module applies what every kind shares: disabled schedules never fire,
 * `startAt` is inclusive, `endAt` exclusive, and times are whole seconds.
 */
import { type TriggerSpec, triggerKindOf } from './triggers/index.js';

export type { TriggerSpec } from './triggers/index.js';

const parseMs = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

/**
 * The first occurrence strictly after `afterMs`, or null when there is none (disabled,
 * past its `endAt`, a one-shot already passed, or a cron that never matches again).
 */
export function nextFireAfter(s: TriggerSpec, afterMs: number): number | null {
  if (!s.enabled) return null;
  const kind = triggerKindOf(s);
  if (kind === undefined) return null;
  // Whole seconds: an occurrence at T is "after" T - 0.5 s but not after T itself.
  const after = Math.floor(afterMs / 1000) * 1000;
  const t = kind.nextAfter(s, after, parseMs(s.startAt));
  if (t !== null && s.endAt !== undefined && t >= Date.parse(s.endAt)) return null;
  return t;
}

/**
 * Occurrences in `(fromMs, toMs]`, oldest first; when there are more than `limit`, the
 * newest `limit`. Used by the catch-up policy after downtime, which is why each kind's
 * `between` must not walk every missed occurrence of a per-second schedule after a day
 * offline.
 */
export function occurrencesBetween(s: TriggerSpec, fromMs: number, toMs: number, limit: number): number[] {
  if (!s.enabled || limit <= 0 || toMs <= fromMs) return [];
  const kind = triggerKindOf(s);
  if (kind === undefined) return [];
  const startAt = parseMs(s.startAt);
  const endAt = parseMs(s.endAt);
  const lo = Math.max(Math.floor(fromMs / 1000) * 1000, startAt === undefined ? -Infinity : startAt - 1); // exclusive
  const hi = Math.min(Math.floor(toMs / 1000) * 1000, endAt === undefined ? Infinity : endAt - 1); // inclusive
  if (hi <= lo) return [];
  return kind.between(s, lo, hi, limit, startAt);
}
