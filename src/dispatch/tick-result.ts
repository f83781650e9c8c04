/**
 * What a tick did, and how the fire script's item codes turn into it: counts per
 * schedule for the caller, and cache updates (a stale spec is dropped, an unknown
 * last job is forgotten) so the retry round re-reads exactly what changed.
 */
import { FIRE_NOT_DUE, FIRE_STALE_OVERLAP, FIRE_STALE_SPEC, type FireItem } from './fire.js';
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

/** Takes the script's codes into the tick result and the cache; true when some items must be retried. */
export function absorbCodes(items: readonly FireItem[], codes: readonly number[], result: TickResult, byId: Map<string, FiredSchedule>, cache: ScheduleCache): boolean {
  let retry = false;
  items.forEach((item, i) => {
    const code = codes[i]!;
    if (code === FIRE_STALE_SPEC) {
      cache.invalidate(item.id);
      retry = true;
      return;
    }
    if (code === FIRE_STALE_OVERLAP) {
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
    if (code === FIRE_NOT_DUE) {
      if (!byId.has(item.id)) byId.set(item.id, { id: item.id, result: 'not-due', enqueued: 0, jobIds, skipped: 0 });
      return;
    }
    // Overlap and duplicate checks happen in the script: when not every planned job
    // was enqueued, which one is now the last job is not known here.
    if (item.forbid) {
      if (code === jobIds.length && jobIds.length > 0) cache.setLastJob(item.id, jobIds[jobIds.length - 1]!);
      else if (code !== jobIds.length) cache.forgetLastJob(item.id);
    }
    skipped += jobIds.length - code;
    result.enqueued += code;
    result.skipped += skipped;
    byId.set(item.id, { id: item.id, result: 'fired', enqueued: code, jobIds, skipped });
  });
  return retry;
}
