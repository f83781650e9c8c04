/**
 * The typed wrapper of `record-outcomes.lua`: the only module that knows its KEYS, ARGV
 * and reply. Used by the outcome reader (src/dispatch/outcome-reader.ts).
 */
import type { Redis } from 'ioredis';
import { isFinal, type ObservedOutcome } from '../../rq/job-outcome.js';
import type { Keys } from '../keys.js';
import { runScript } from '../scripts.js';

/** One observed job: its outcome, and for one not final yet when to look again. */
export interface OutcomeUpdate {
  observed: ObservedOutcome;
  /** Epoch ms; used only while the outcome is not final. */
  nextLookAt: number;
}

/** Records a batch; resolves to the number of final outcomes applied (each exactly once). */
export async function recordOutcomes(
  redis: Redis,
  keys: Keys,
  updates: readonly OutcomeUpdate[],
  now: number,
): Promise<number> {
  if (updates.length === 0) return 0;
  const k: string[] = [keys.outcomesPending];
  const a: string[] = [String(now), String(updates.length)];
  for (const { observed: o, nextLookAt } of updates) {
    const final = isFinal(o.outcome);
    k.push(keys.schedule(o.scheduleId), keys.runs(o.scheduleId));
    a.push(
      o.jobId,
      final ? o.outcome : '',
      String(o.runAt),
      final ? '' : String(nextLookAt),
      o.endedAt === null ? '' : String(o.endedAt),
      o.durationMs === null ? '' : String(o.durationMs),
      o.failure ?? '',
    );
  }
  return runScript<number>(redis, 'record-outcomes', k, a);
}
