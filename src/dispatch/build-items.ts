/**
 * From "schedule X is due, its stored next fire time is T" to a fire item: which
 * occurrences to enqueue or record as skipped (the catch-up policy), their job ids and
 * meta, and the next fire time. Pure.
 */
import { jobMeta } from '../rq/job-encoding.js';
import { scheduledJobId } from '../rq/job-id.js';
import { fireTimeOf, nextFire, occurrenceAt } from '../schedule/jitter.js';
import { isOneShot } from '../schedule/triggers/index.js';
import { planDue } from './catchup.js';
import type { FireItem, FireOp } from '../redis/commands/fire-batch.js';
import type { CachedSchedule } from './schedule-cache.js';

/**
 * The fire item for one due schedule: `expected` is the stored next fire time (the
 * compare-and-set value), `now` decides what is due.
 */
export function buildDueItem(id: string, c: CachedSchedule, expected: number, now: number, graceMs?: number): FireItem {
  const { spec, enc } = c;
  const base = { id, expected, hash: c.hash, overlap: enc.overlap, prevJobId: c.lastJobId ?? '', job: enc };
  // A disabled schedule should not be in the fire set at all (apply removes it); if it
  // is, take it out without firing.
  if (!spec.enabled) return { ...base, next: 'ended', ops: [] };
  // With jitter the stored time is the fire time of the first unfired occurrence: the
  // occurrence (job id, history) is recovered from it, and the next stored time is a fire time.
  const next = nextFire(spec, now);
  const plan = planDue(spec, occurrenceAt(spec, expected), now, next?.occurrence ?? null, {
    catchup: spec.catchup,
    startingDeadline: spec.startingDeadline,
    graceMs,
    fireTime: spec.jitter ? (t) => fireTimeOf(spec, t) : undefined,
  });
  const ops: FireOp[] = [];
  for (const s of plan.skipped)
    ops.push({ kind: 'skip', occurrence: s.occurrence, outcome: s.reason, until: s.until, count: s.count });
  for (const t of plan.fire) {
    const jobId = scheduledJobId(id, t);
    ops.push({ kind: 'enqueue', occurrence: t, jobId, meta: jobMeta(enc, t, 'schedule'), data: enc.dataFor?.(jobId) });
  }
  // Oldest first, so the newest occurrence ends up at the head of the history and in
  // the last-run state.
  if (plan.skipped.length > 0 && plan.fire.length > 0) ops.sort((x, y) => x.occurrence - y.occurrence);
  const nextState: FireItem['next'] = next !== null ? { set: next.at } : isOneShot(spec) ? 'done' : 'ended';
  return { ...base, next: nextState, ops };
}

/**
 * The item of a paused schedule: every occurrence it would enqueue is recorded as
 * `skipped:paused` instead (the catch-up policy's own skips stay as they are), and the
 * next fire time moves on as usual, so resuming continues from the next occurrence.
 */
export function pausedItem(item: FireItem): FireItem {
  return {
    ...item,
    ops: item.ops.map((op): FireOp =>
      op.kind === 'enqueue' ? { kind: 'skip', occurrence: op.occurrence, outcome: 'skipped:paused' } : op,
    ),
  };
}
