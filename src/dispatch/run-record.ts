/**
 * Run records: one JSON object per handled occurrence in `pyrq:runs:<id>` (newest
 * first; the newest `dispatch.historyLength` count: the list is trimmed back to that once
 * it holds a fifth more, and readers read no more than that). The fire script writes them (it decides
 * the outcome of an enqueue: see fire-batch.lua); `history` reads them back. The field
 * names are a contract (`pyrq history --json`).
 */
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

export const RUN_TRIGGERS = ['schedule', 'manual', 'backfill'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * One run record. Read back by hand, not with zod (`runRecordOf`): `pyrq status` and
 * `history` read them, and reading pyrq's own stored records needs no schema library.
 */
export interface RunRecord {
  /** The occurrence (epoch ms); for a manual run, when it was triggered. */
  occurrence: number;
  /** When the dispatcher handled it (epoch ms): the enqueue time of an enqueued job. */
  at: number;
  /** `at - occurrence`. */
  latenessMs: number;
  trigger: RunTrigger;
  outcome: RunOutcome;
  /** The RQ job (enqueued, held for `buffered`, or found already there for `skipped:duplicate`). */
  jobId?: string;
  /** `skipped:overlap`, `buffered`: the job that was still queued or started. */
  previousJobId?: string;
  /** Overlap replace: the job that was stopped (started) or cancelled (queued) for this one. */
  replacedJobId?: string;
  /** An aggregate of missed occurrences: every one from `occurrence` up to `until` (exclusive). */
  until?: number;
  /** How many occurrences the aggregate stands for, when known. */
  count?: number;
  /**
   * What became of the job, added by the outcome reader (record-outcomes.lua) once RQ
   * recorded a final outcome: finished, failed, stopped, canceled, unknown.
   */
  result?: string;
  /** The job's run time (RQ's ended_at - started_at), ms. */
  durationMs?: number;
  /** A failed or stopped job's "ExceptionType: message" (at most 200 characters). */
  error?: string;
}

/** Parses one stored record; null when it is not one (written by something else). */
export function parseRunRecord(text: string): RunRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  return runRecordOf(v);
}

type FieldKind = 'number' | 'string' | 'trigger' | 'outcome';
/** The record's fields in order, their kind, and whether required (the interface above). */
const FIELDS: readonly (readonly [keyof RunRecord, FieldKind, boolean])[] = [
  ['occurrence', 'number', true],
  ['at', 'number', true],
  ['latenessMs', 'number', true],
  ['trigger', 'trigger', true],
  ['outcome', 'outcome', true],
  ['jobId', 'string', false],
  ['previousJobId', 'string', false],
  ['replacedJobId', 'string', false],
  ['until', 'number', false],
  ['count', 'number', false],
  ['result', 'string', false],
  ['durationMs', 'number', false],
  ['error', 'string', false],
];

function fits(v: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return typeof v === 'string';
    case 'trigger':
      return (RUN_TRIGGERS as readonly unknown[]).includes(v);
    case 'outcome':
      return (RUN_OUTCOMES as readonly unknown[]).includes(v);
  }
}

/**
 * The record in `v`, or null when it is not one: the known fields, of their types (other
 * fields are dropped), in the order above.
 */
export function runRecordOf(v: unknown): RunRecord | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [f, kind, required] of FIELDS) {
    const x = o[f];
    if (x === undefined) {
      if (required) return null;
      continue;
    }
    if (!fits(x, kind)) return null;
    out[f] = x;
  }
  return out as unknown as RunRecord;
}
