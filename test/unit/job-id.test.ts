import { describe, expect, it } from 'vitest';
import {
  escapeScheduleId,
  JOB_ID_RE,
  manualJobId,
  parseJobId,
  scheduledJobId,
  unescapeScheduleId,
} from '../../src/rq/job-id.js';

const T = Date.parse('2026-03-01T02:00:00Z');

describe('job ids', () => {
  it('are deterministic per (schedule, occurrence) and readable', () => {
    expect(scheduledJobId('nightly-invoices', T)).toBe('pyrq_nightly-invoices_20260301T020000Z');
    expect(scheduledJobId('nightly-invoices', T)).toBe(scheduledJobId('nightly-invoices', T));
    expect(scheduledJobId('nightly-invoices', T + 1000)).not.toBe(scheduledJobId('nightly-invoices', T));
  });

  it('use only [A-Za-z0-9_-] whatever the schedule id', () => {
    for (const id of ['a.b', 'a_b', 'a-b', '_', '.', '..__..', 'A9.z_-']) {
      expect(scheduledJobId(id, T)).toMatch(JOB_ID_RE);
      expect(manualJobId(id, T, 'deadbeef')).toMatch(JOB_ID_RE);
    }
  });

  it('escape ids injectively (no two schedule ids share a job id)', () => {
    // Pairs that a naive replacement (. -> _) would merge.
    const ids = [
      'a.b',
      'a_b',
      'a__b',
      'a_ob',
      'a._b',
      'a_.b',
      'a-b',
      'a..b',
      'a_o',
      'a.',
      'a_',
      '_o',
      '.o',
      'o_',
      'x_o_y',
      'x.o.y',
    ];
    const jobIds = ids.map((id) => scheduledJobId(id, T));
    expect(new Set(jobIds).size).toBe(ids.length);
    for (const id of ids) expect(unescapeScheduleId(escapeScheduleId(id))).toBe(id);
  });

  it('parse back to schedule id, kind and time', () => {
    for (const id of ['a.b_c', 'x', 'a_', '_o.']) {
      expect(parseJobId(scheduledJobId(id, T))).toEqual({ scheduleId: id, kind: 'scheduled', time: T });
      expect(parseJobId(manualJobId(id, T + 123, '0123abcd'))).toEqual({
        scheduleId: id,
        kind: 'manual',
        time: T + 123,
      });
    }
    expect(parseJobId('3f2a-uuid-from-rq')).toBeNull();
    expect(parseJobId('pyrq_x_notatime')).toBeNull();
  });

  it('keep manual runs apart from scheduled occurrences, and from each other', () => {
    const scheduled = scheduledJobId('report', T);
    const a = manualJobId('report', T, '00000001');
    const b = manualJobId('report', T, '00000002');
    expect(new Set([scheduled, a, b]).size).toBe(3);
    expect(a).toBe('pyrq_report_manual-20260301T020000000Z-00000001');
    expect(() => manualJobId('report', T, 'xyz')).toThrow(/8 hex digits/);
  });
});
