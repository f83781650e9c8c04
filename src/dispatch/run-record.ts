/**
 * Run records: one JSON object per handled occurrence in `pyrq:runs:<id>` (newest
 * first, trimmed to `dispatch.historyLength`). The fire script writes them (it decides
 * the outcome of an enqueue: see fire-batch.lua); `history` reads them back. The field names are a contract (`pyrq history --json`).
 */

export const RUN_OUTCOMES = ['enqueued', 'skipped:missed', 'skipped:deadline', 'skipped:overlap', 'skipped:duplicate'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export interface RunRecord {
  /** The occurrence (epoch ms); for a manual run, when it was triggered. */
  occurrence: number;
  /** When the dispatcher handled it (epoch ms): the enqueue time of an enqueued job. */
  at: number;
  /** `at - occurrence`. */
  latenessMs: number;
  trigger: 'schedule' | 'manual';
  outcome: RunOutcome;
  /** The RQ job (enqueued, or found already there for `skipped:duplicate`). */
  jobId?: string;
  /** `skipped:overlap`: the job that was still queued or started. */
  previousJobId?: string;
  /** An aggregate of missed occurrences: every one from `occurrence` up to `until` (exclusive). */
  until?: number;
  /** How many occurrences the aggregate stands for, when known. */
  count?: number;
}

/** Parses one stored record; null when it is not one (written by something else). */
export function parseRunRecord(text: string): RunRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const r = v as Partial<RunRecord>;
  if (typeof r.occurrence !== 'number' || typeof r.at !== 'number' || typeof r.outcome !== 'string') return null;
  if (!(RUN_OUTCOMES as readonly string[]).includes(r.outcome)) return null;
  return r as RunRecord;
}
