/**
 * Run records: one JSON object per handled occurrence in `pyrq:runs:<id>` (newest
 * first; the newest `dispatch.historyLength` count: the list is trimmed back to that once
 * it holds a fifth more, and readers read no more than that). The fire script writes them (it decides
 * the outcome of an enqueue: see fire-batch.lua); `history` reads them back. The field
 * names are a contract (`pyrq history --json`).
 */
import { z } from 'zod';

export const RUN_OUTCOMES = [
  'enqueued',
  'skipped:missed',
  'skipped:deadline',
  'skipped:overlap',
  'skipped:duplicate',
  'skipped:paused',
  'buffered',
  // `times` reached (fire-batch.lua): the schedule is finished.
  'skipped:limit',
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

const runRecordSchema = z.object({
  /** The occurrence (epoch ms); for a manual run, when it was triggered. */
  occurrence: z.number(),
  /** When the dispatcher handled it (epoch ms): the enqueue time of an enqueued job. */
  at: z.number(),
  /** `at - occurrence`. */
  latenessMs: z.number(),
  trigger: z.enum(['schedule', 'manual', 'backfill']),
  outcome: z.enum(RUN_OUTCOMES),
  /** The RQ job (enqueued, held for `buffered`, or found already there for `skipped:duplicate`). */
  jobId: z.string().optional(),
  /** `skipped:overlap`, `buffered`: the job that was still queued or started. */
  previousJobId: z.string().optional(),
  /** Overlap replace: the job that was stopped (started) or cancelled (queued) for this one. */
  replacedJobId: z.string().optional(),
  /** An aggregate of missed occurrences: every one from `occurrence` up to `until` (exclusive). */
  until: z.number().optional(),
  /** How many occurrences the aggregate stands for, when known. */
  count: z.number().optional(),
  /**
   * What became of the job, added by the outcome reader (record-outcomes.lua) once RQ
   * recorded a final outcome: finished, failed, stopped, canceled, unknown.
   */
  result: z.string().optional(),
  /** The job's run time (RQ's ended_at - started_at), ms. */
  durationMs: z.number().optional(),
  /** A failed or stopped job's "ExceptionType: message" (at most 200 characters). */
  error: z.string().optional(),
});

export type RunRecord = z.infer<typeof runRecordSchema>;

/** Parses one stored record; null when it is not one (written by something else). */
export function parseRunRecord(text: string): RunRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const r = runRecordSchema.safeParse(v);
  return r.success ? r.data : null;
}
