/**
 * The misfire (catch-up) policy: given the first unfired occurrence of a schedule and
 * the time now, which occurrences fire, which are recorded as skipped, and when does the
 * schedule fire next. Pure, so every policy is tested exactly with plain numbers.
 *
 * An occurrence is *on time* while it is at most `graceMs` late (`dispatch.grace`, Quartz's
 * "misfire threshold" idea): a dispatcher that was busy for a moment, or a leader that
 * took over a few seconds late, still fires it whatever the policy. Older occurrences
 * are *missed* (the dispatcher was down) and the policy decides:
 *
 * | policy   | missed occurrences                                                   |
 * |----------|----------------------------------------------------------------------|
 * | skip     | none fire; each is recorded `skipped:missed`                          |
 * | latest   | the newest fires once, unless an on-time one fires anyway (default)  |
 * | all      | each fires, the newest 100 at most (like Kubernetes CronJob)          |
 *
 * `startingDeadline` (seconds) applies on top of every policy: an occurrence later than
 * that is never started; it is recorded `skipped:deadline`.
 */
import { SETTINGS } from '../config/settings.js';
import { durationTextMs } from '../model/duration.js';
import type { CatchupPolicy } from '../model/schedule-schema.js';
import { nextFireAfter, occurrencesBetween, type TriggerSpec } from '../schedule/next-fire.js';
import { countOccurrences } from '../schedule/triggers/index.js';

/** At most this many missed occurrences are fired (policy `all`) or listed one by one. */
export const CATCHUP_LIMIT = 100;
/** `dispatch.grace`'s default in ms (the table of settings holds it, in the duration grammar). */
export const DEFAULT_GRACE_MS = durationTextMs(SETTINGS['dispatch.grace'].default)!;

export type SkipReason = 'skipped:missed' | 'skipped:deadline';

export interface SkippedOccurrence {
  occurrence: number;
  reason: SkipReason;
  /**
   * Set on one aggregate record when more occurrences were missed than are listed one by
   * one: it stands for every occurrence from `occurrence` up to (not including) `until`.
   */
  until?: number;
  /** How many occurrences the aggregate stands for, when the trigger kind knows it cheaply (`every`). */
  count?: number;
}

export interface DuePlan {
  /** Occurrences to enqueue, oldest first. */
  fire: number[];
  /** Occurrences recorded as skipped, oldest first. */
  skipped: SkippedOccurrence[];
  /** The next fire time after `now` (null: none; a one-shot is done, or the schedule ended). */
  next: number | null;
}

export interface CatchupOptions {
  catchup: CatchupPolicy;
  /** Seconds. */
  startingDeadline?: number;
  graceMs?: number;
  /**
   * When an occurrence fires (jitter: its time plus its delay); default: at its time.
   * Lateness is counted from it, and an occurrence whose fire time is after `now` is not due.
   */
  fireTime?: (occurrence: number) => number;
}

/**
 * Plans a due schedule. `first` is the stored next fire time (the oldest occurrence not
 * yet handled, `first <= now`); `next` is the first occurrence strictly after `now`,
 * which the caller computes (it is memoised per expression there).
 */
export function planDue(
  spec: TriggerSpec,
  first: number,
  now: number,
  next: number | null,
  opts: CatchupOptions,
): DuePlan {
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  const deadlineMs = opts.startingDeadline === undefined ? Infinity : opts.startingDeadline * 1000;
  // The newest occurrences in (first, now], plus `first` itself: at most LIMIT + 1 listed.
  // The usual case is that only `first` is due; nextFireAfter answers that from its memo
  // (shared by every schedule with the same expression), where walking back from `now`
  // would cost a croner search per schedule.
  const second = nextFireAfter(spec, first);
  const later = second === null || second > now ? [] : occurrencesBetween(spec, first, now, CATCHUP_LIMIT + 1);
  const truncated = later.length === CATCHUP_LIMIT + 1;
  let listed = truncated ? later : [first, ...later];
  const fireAt = opts.fireTime ?? ((t: number) => t);
  // Jitter: only the newest occurrence can still wait for its delay (delays never reach the next one).
  if (opts.fireTime && listed.length > 0 && fireAt(listed[listed.length - 1]!) > now) listed = listed.slice(0, -1);
  const skipped: SkippedOccurrence[] = [];
  if (truncated) {
    // `first` and everything up to the listed window: too many to fire or list singly.
    const agg: SkippedOccurrence = { occurrence: first, reason: 'skipped:missed', until: later[0]! };
    const count = countOccurrences(spec, first, later[0]!);
    if (count !== undefined) agg.count = count;
    skipped.push(agg);
  }
  const late = (t: number) => now - fireAt(t);
  const onTime = listed.filter((t) => late(t) <= grace);
  const missed = listed.filter((t) => late(t) > grace);
  let candidates: number[];
  if (opts.catchup === 'skip') candidates = onTime;
  else if (opts.catchup === 'latest') candidates = onTime.length > 0 ? onTime : missed.slice(-1);
  else candidates = listed.slice(-CATCHUP_LIMIT);
  const chosen = new Set(candidates);
  const fire: number[] = [];
  for (const t of listed) {
    if (!chosen.has(t)) skipped.push({ occurrence: t, reason: 'skipped:missed' });
    else if (late(t) > deadlineMs) skipped.push({ occurrence: t, reason: 'skipped:deadline' });
    else fire.push(t);
  }
  return { fire, skipped, next };
}
