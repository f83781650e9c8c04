/**
 * What a tick did, and how the fire script's item outcomes turn into it: counts per
 * schedule for the caller, and cache updates (a stale spec is dropped, an unknown
 * last job is forgotten) so the retry round re-reads exactly what changed.
 */
import type { FireItem, FireOutcome } from '../redis/commands/fire-batch.js';
import type { LoadProblem, ScheduleCache } from './schedule-cache.js';

/** What one tick did for one schedule. */
export interface FiredSchedule {
  id: string;
  /** `fired`: applied (jobs enqueued and/or skips recorded); `not-due`: another dispatcher or an apply got there first. */
  result: 'fired' | 'not-due';
  enqueued: number;
  /** Job ids of the occurrences that were to be enqueued (overlap/duplicate checks may have skipped some). */
  jobIds: string[];
  /** Occurrences recorded as skipped (an aggregate of missed cron occurrences, whose number is not counted, as one). */
  skipped: number;
}

export interface TickResult {
  now: number;
  enqueued: number;
  skipped: number;
  schedules: FiredSchedule[];
  problems: LoadProblem[];
  durationMs: number;
}

/** Takes the script's outcomes into the tick result and the cache; true when some items must be retried. */
export function absorbOutcomes(
  items: readonly FireItem[],
  outcomes: readonly FireOutcome[],
  result: TickResult,
  byId: Map<string, FiredSchedule>,
  cache: ScheduleCache,
): boolean {
  let retry = false;
  items.forEach((item, i) => {
    const outcome = outcomes[i]!;
    if (outcome === 'stale-spec') {
      cache.invalidate(item.id);
      retry = true;
      return;
    }
    if (outcome === 'paused') {
      retry = true; // paused since the item was built: the next round builds it as paused
      return;
    }
    // Not yet due by Redis's clock (ours runs ahead): nothing written; the tick goes on by Redis time.
    if (outcome === 'early') return;
    if (outcome === 'stale-overlap') {
      cache.forgetLastJob(item.id);
      retry = true;
      return;
    }
    const jobIds: string[] = [];
    let skipped = 0;
    for (const op of item.ops) {
      if (op.kind === 'enqueue') jobIds.push(op.jobId);
      else skipped += op.count ?? 1; // an aggregate of missed cron occurrences counts once
    }
    if (outcome === 'not-due') {
      if (!byId.has(item.id)) byId.set(item.id, { id: item.id, result: 'not-due', enqueued: 0, jobIds, skipped: 0 });
      return;
    }
    const enqueued = outcome;
    // Overlap and duplicate checks happen in the script: when not every planned job
    // was enqueued, which one is now the last job is not known here.
    if (item.overlap !== 'allow') {
      if (enqueued === jobIds.length && jobIds.length > 0) cache.setLastJob(item.id, jobIds[jobIds.length - 1]!);
      else if (enqueued !== jobIds.length) cache.forgetLastJob(item.id);
    }
    skipped += jobIds.length - enqueued;
    result.enqueued += enqueued;
    result.skipped += skipped;
    byId.set(item.id, { id: item.id, result: 'fired', enqueued, jobIds, skipped });
  });
  return retry;
}
