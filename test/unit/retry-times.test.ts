import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { issueText } from '../../src/model/issues.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { describeRetry } from '../../src/model/retry.js';
import { specHash } from '../../src/model/spec-hash.js';
import { encodeSchedule, jobHashFields } from '../../src/rq/job-encoding.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers/tmp-dir.js';
import { changeLines } from '../../cli/render/plan.js';
import { statusRow } from '../../src/status/status-view.js';

const base = { id: 'r', function: 'pyrq_fixtures.tasks.echo', cron: '0 * * * *' };
function ok(fields: Record<string, unknown>, ctx = DEFAULT_CONTEXT) {
  const r = normalizeSchedule({ ...base, ...fields }, ctx);
  if (!r.ok) throw new Error(r.issues.map(issueText).join('; '));
  return r.schedule;
}
function bad(fields: Record<string, unknown>): string[] {
  const r = normalizeSchedule({ ...base, ...fields });
  if (r.ok) throw new Error('expected issues');
  return r.issues.map(issueText);
}

describe('retry', () => {
  it('is stored as exactly max whole-second intervals (what RQ picks the n-th retry by)', () => {
    expect(ok({ retry: 2 }).retry).toEqual({ max: 2, intervals: [0, 0] });
    expect(ok({ retry: { max: 3, intervals: [10, '1m', '5m'] } }).retry).toEqual({ max: 3, intervals: [10, 60, 300] });
    // A shorter list repeats its last wait; one duration is every wait.
    expect(ok({ retry: { max: 4, intervals: [10, 60] } }).retry).toEqual({ max: 4, intervals: [10, 60, 60, 60] });
    expect(ok({ retry: { max: 2, intervals: '30s' } }).retry).toEqual({ max: 2, intervals: [30, 30] });
    expect(ok({ retry: { max: 5, exponential: { base: '10s', cap: '1m' } } }).retry).toEqual({
      max: 5,
      intervals: [10, 20, 40, 60, 60],
    });
    expect(describeRetry(ok({ retry: { max: 2, intervals: [10, 90] } }).retry!)).toBe('2 retries, after 10s, 1m30s');
    expect(describeRetry(ok({ retry: 1 }).retry!)).toBe('1 retry, at once');
  });

  it('refuses what RQ cannot express', () => {
    expect(bad({ retry: { max: 2, intervals: [-1] } })).toEqual([
      'retry.intervals.0: -1 is negative (RQ refuses negative intervals)',
    ]);
    expect(bad({ retry: { max: 2, intervals: ['1.5s'] } })[0]).toMatch(
      /^retry\.intervals\.0: "1\.5s": must be a whole number of seconds/,
    );
    expect(bad({ retry: { max: 2, intervals: [1.5] } })[0]).toMatch(/^retry\.intervals\.0/);
    expect(bad({ retry: 0.5 })[0]).toMatch(/^retry/);
    expect(bad({ retry: -1 })).toEqual(['retry: must be a whole number of retries from 1 to 100 (got -1)']);
    expect(bad({ retry: { max: 0 } })).toEqual(['retry.max: must be a whole number of retries from 1 to 100 (got 0)']);
    expect(bad({ retry: { max: 2, intervals: [] } })).toEqual(['retry.intervals: is empty: give at least one wait']);
    expect(bad({ retry: { max: 2, intervals: [1], exponential: { base: 1 } } })).toEqual([
      'retry: give intervals or exponential, not both',
    ]);
    expect(bad({ retry: { max: 2, exponential: { base: 60, cap: 10 } } })).toEqual([
      'retry.exponential.cap: must be at least base (60 s)',
    ]);
    expect(bad({ retry: { max: 2, wait: 3 } })[0]).toMatch(/^retry/);
  });

  it('is written into the job hash as RQ writes a Retry (retries_left, json.dumps of the ints)', () => {
    const s = ok({ retry: { max: 3, intervals: [1, 2, 3] } });
    const f = jobHashFields(encodeSchedule(s, specHash(s)), 0, 0, 'schedule');
    const at = (k: string) => f[f.indexOf(k) + 1];
    expect(at('retries_left')).toBe('3');
    expect(at('retry_intervals')).toBe('[1, 2, 3]');
    const plain = ok({});
    expect(jobHashFields(encodeSchedule(plain, specHash(plain)), 0, 0, 'schedule')).not.toContain('retries_left');
  });

  it('a schedule without retry keeps its hash (the field is left out)', () => {
    expect(Object.keys(ok({}))).not.toContain('retry');
    expect(Object.keys(ok({}))).not.toContain('jitter');
    expect(Object.keys(ok({}))).not.toContain('times');
  });
});

describe('config defaults dispatch.retry and dispatch.jitter', () => {
  it('apply to schedules without their own, and 0 turns them off', () => {
    const dir = tmpDir();
    try {
      const file = join(dir.path, 'pyrq.toml');
      writeFileSync(file, '[dispatch]\njitter = "2m"\nretry = { max = 2, intervals = [5] }\n');
      const ctx = normalizeContext(loadConfig({ config: file }, {}));
      expect(ok({}, ctx)).toMatchObject({ jitter: 120, retry: { max: 2, intervals: [5, 5] } });
      const off = ok({ jitter: 0, retry: 0 }, ctx);
      expect(off.jitter).toBeUndefined();
      expect(off.retry).toBeUndefined();
      writeFileSync(file, '[dispatch]\nretry = { max = 2, intervals = [-5] }\n');
      expect(() => loadConfig({ config: file }, {})).toThrow(/dispatch\.retry\.intervals\.0: -5 is negative/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('jitter and times', () => {
  it('jitter is a duration in whole seconds; times at least 1', () => {
    expect(ok({ jitter: '5m', times: 3 })).toMatchObject({ jitter: 300, times: 3 });
    expect(bad({ jitter: '0.5s' })[0]).toMatch(/^jitter: "0\.5s": must be a whole number of seconds/);
    expect(bad({ times: 0 })).toEqual(['times: must be at least 1 (got 0)']);
    expect(bad({ times: 1.5 })[0]).toMatch(/^times/);
  });
});

describe('plan and status show them', () => {
  it('a create names jitter, times and retry; an update of retry reads as words', () => {
    const after = ok({ jitter: '5m', times: 3, retry: { max: 2, intervals: [10, 60] } });
    const create = changeLines({
      action: 'create',
      id: 'r',
      source: 'files',
      origin: 'a.yaml',
      beforeHash: '',
      after,
      fields: [],
      triggerChanged: true,
    });
    expect(create[1]).toContain('cron "0 * * * *" (UTC), jitter 5m, 3 times, 2 retries, after 10s, 1m ->');
    const update = changeLines({
      action: 'update',
      id: 'r',
      source: 'files',
      origin: 'a.yaml',
      beforeHash: 'x',
      fields: [{ field: 'retry', before: undefined, after: after.retry }],
      triggerChanged: false,
    });
    expect(update[1]).toBe('      retry: (none) -> 2 retries, after 10s, 1m');
  });

  it('status: the retry in words, times with its count, done when reached', () => {
    const r = normalizeSchedule({ id: 'r', function: 'pyrq_fixtures.tasks.echo', every: 60, times: 3, retry: 1 });
    if (!r.ok) throw new Error('invalid');
    const spec = r.schedule;
    const entry = {
      id: 'r',
      spec,
      hash: specHash(spec),
      source: 'files',
      origin: 'a.yaml',
      next: null,
      state: { done: '1', fired: '3' },
    };
    expect(statusRow(entry, 0)).toMatchObject({
      nextRelative: 'done (3 of 3 runs)',
      retry: '1 retry, at once',
      times: { limit: 3, fired: 3 },
    });
  });
});
