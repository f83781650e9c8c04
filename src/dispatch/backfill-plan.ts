/**
 * What a backfill (`pyrq backfill ID --from T1 --to T2`) would enqueue: the schedule's
 * occurrences in the range, by the same next-fire logic as the dispatcher (timezone and
 * DST included), each with its occurrence job id, the id the dispatcher would have given
 * it. Pure.
 */
import { scheduledJobId } from '../rq/job-id.js';
import { occurrencesBetween, type TriggerSpec } from '../schedule/next-fire.js';

/** The most occurrences one backfill enqueues (one script call per 500): split a longer range. */
export const BACKFILL_MAX = 10_000;
/** Over this many occurrences, a backfill asks for confirmation (`--yes` off a terminal). */
export const BACKFILL_CONFIRM_DEFAULT = 100;

export interface BackfillOccurrence {
  occurrence: number;
  jobId: string;
}

export interface BackfillPlan {
  id: string;
  /** The range asked for, epoch ms, both ends inclusive. */
  from: number;
  to: number;
  /** `to` moved back to `now`: later occurrences are the dispatcher's, not a backfill's. */
  clampedTo: number | null;
  occurrences: BackfillOccurrence[];
  /** More than BACKFILL_MAX occurrences in the range (only the newest BACKFILL_MAX + 1 are listed). */
  tooMany: boolean;
}

/**
 * The occurrences of `spec` in `[from, to]` (at most `now`), oldest first. A disabled
 * schedule is backfilled as if enabled (an explicit request, like `pyrq trigger`);
 * `startAt` and `endAt` still bound it.
 */
export function planBackfill(id: string, spec: TriggerSpec, from: number, to: number, now: number): BackfillPlan {
  const end = Math.min(to, now);
  // occurrencesBetween takes (lo, hi]: one millisecond before `from` makes `from` itself count.
  const times = from <= end ? occurrencesBetween({ ...spec, enabled: true }, from - 1, end, BACKFILL_MAX + 1) : [];
  return {
    id,
    from,
    to,
    clampedTo: to > now ? now : null,
    occurrences: times.map((t) => ({ occurrence: t, jobId: scheduledJobId(id, t) })),
    tooMany: times.length > BACKFILL_MAX,
  };
}
