import { describe, expect, it } from 'vitest';
import { parseRunRecord } from '../../src/dispatch/run-record.js';

const enqueued = {
  occurrence: 1_780_315_200_000,
  at: 1_780_315_200_004,
  latenessMs: 4,
  trigger: 'schedule',
  outcome: 'enqueued',
  jobId: 'pyrq_a_1',
};

describe('run records', () => {
  it('reads what the fire script writes, whatever the order of the fields', () => {
    expect(parseRunRecord(JSON.stringify(enqueued))).toEqual(enqueued);
    const agg = {
      outcome: 'skipped:missed',
      count: 49,
      until: 1_780_318_000_000,
      trigger: 'schedule',
      latenessMs: 60_000,
      at: 1_780_315_260_000,
      occurrence: 1_780_315_200_000,
    };
    expect(parseRunRecord(JSON.stringify(agg))).toEqual(agg);
    const overlap = {
      ...enqueued,
      outcome: 'skipped:overlap',
      jobId: undefined,
      previousJobId: 'pyrq_a_0',
      trigger: 'manual',
    };
    expect(parseRunRecord(JSON.stringify(overlap))).toEqual({ ...overlap, jobId: undefined });
  });

  it('refuses what is not a run record', () => {
    expect(parseRunRecord('not json')).toBeNull();
    expect(parseRunRecord('null')).toBeNull();
    expect(parseRunRecord('[1,2]')).toBeNull();
    expect(parseRunRecord('{"occurrence":1}')).toBeNull();
    expect(parseRunRecord(JSON.stringify({ ...enqueued, outcome: 'exploded' }))).toBeNull();
    expect(parseRunRecord(JSON.stringify({ ...enqueued, occurrence: '1780315200000' }))).toBeNull();
    expect(parseRunRecord(JSON.stringify({ ...enqueued, trigger: 'cron' }))).toBeNull();
    expect(parseRunRecord(JSON.stringify({ ...enqueued, jobId: 7 }))).toBeNull();
  });
});
