/**
 * Run records are read back by hand (`runRecordOf`), not with zod: held here to the zod
 * schema they were read with before (kept in this test as the reference), on valid
 * records and on every field removed or mistyped.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseRunRecord, RUN_OUTCOMES, runRecordOf } from '../../src/dispatch/run-record.js';

/** The schema run records were parsed with until pyrq status stopped loading zod. */
const reference = z.object({
  occurrence: z.number(),
  at: z.number(),
  latenessMs: z.number(),
  trigger: z.enum(['schedule', 'manual', 'backfill']),
  outcome: z.enum(RUN_OUTCOMES),
  jobId: z.string().optional(),
  previousJobId: z.string().optional(),
  replacedJobId: z.string().optional(),
  until: z.number().optional(),
  count: z.number().optional(),
  result: z.string().optional(),
  durationMs: z.number().optional(),
  error: z.string().optional(),
});

const VALID: Record<string, unknown>[] = [
  { occurrence: 1000, at: 1012, latenessMs: 12, trigger: 'schedule', outcome: 'enqueued', jobId: 'j1' },
  {
    occurrence: 1000,
    at: 1012,
    latenessMs: 12,
    trigger: 'manual',
    outcome: 'skipped:overlap',
    jobId: 'j1',
    previousJobId: 'j0',
    replacedJobId: 'jr',
    until: 5000,
    count: 4,
    result: 'failed',
    durationMs: 1.5,
    error: 'ValueError: x',
  },
  { occurrence: 0, at: -1, latenessMs: -1, trigger: 'backfill', outcome: 'skipped:limit', extra: 'dropped' },
];
const ODD: unknown[] = [null, '', 'x', 'enqueued', 'manual', 0, -1, 1.5, true, [], {}, Infinity, NaN];

function sameVerdict(v: unknown): void {
  const r = reference.safeParse(v);
  const hand = runRecordOf(v);
  expect(hand !== null, JSON.stringify(v)).toBe(r.success);
  if (r.success) {
    expect(hand).toEqual(r.data);
    expect(Object.keys(hand!)).toEqual(Object.keys(r.data));
  }
}

describe('run records read without zod', () => {
  it('give the verdict and value of the zod schema they replaced', () => {
    for (const rec of VALID) {
      sameVerdict(rec);
      for (const f of Object.keys(reference.shape)) {
        const { [f]: _, ...without } = rec;
        sameVerdict(without);
        for (const odd of ODD) sameVerdict({ ...rec, [f]: odd });
      }
    }
    for (const v of [null, [], 'x', 1]) sameVerdict(v);
  });

  it('parseRunRecord: JSON text; not JSON or not a record is null', () => {
    expect(parseRunRecord(JSON.stringify(VALID[0]))).toEqual(VALID[0]);
    expect(parseRunRecord('{')).toBeNull();
    expect(parseRunRecord('{"at":1}')).toBeNull();
  });
});
