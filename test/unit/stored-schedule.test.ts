/**
 * The hand-written check of stored schedules (`storedSchedule`, what the registry reads
 * back without zod) against the schema it stands for (`scheduleSchema`): the same fields
 * in the same order, and the same verdict and value on valid specs and on every field
 * removed, mistyped or out of range.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { scheduleSchema, type Schedule } from '../../src/model/schedule-schema.js';
import { STORED_SCHEDULE_FIELDS, storedSchedule } from '../../src/model/stored-schedule.js';
import { parseStoredSpec } from '../../src/registry/registry.js';

function sched(fields: Record<string, unknown>): Schedule {
  const r = normalizeSchedule({ id: 's', function: 'app.tasks.f', ...fields }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

const VALID: Schedule[] = [
  sched({ cron: '0 3 * * *', timezone: 'Europe/Berlin' }),
  sched({ every: '90s', startAt: '2026-05-01T10:00:00Z', endAt: '2027-01-01T00:00:00Z', jitter: '10s' }),
  sched({ at: '2030-01-01T09:00:00Z', description: 'once' }),
  sched({
    cron: '*/5 * * * *',
    dst: 'btu',
    args: [1, 'two', { three: 3 }],
    kwargs: { a: [1], b: null },
    queue: 'reports',
    enabled: false,
    timeout: '10m',
    resultTtl: 3600,
    failureTtl: -1,
    ttl: 600,
    meta: { team: 'x' },
    catchup: 'all',
    startingDeadline: '5m',
    overlap: 'forbid',
    onFailure: 'app.tasks.on_fail',
    jobIdKwarg: 'job_id',
    retry: { max: 3, intervals: [10, '1m', '5m'] },
    times: 4,
    failAfter: 3,
    alertAfter: '1h',
  }),
  sched({ every: 60, target: 'frappe', site: 'site1.local', user: 'Administrator' }),
];

/** Values a field may be mistaken for. */
const ODD: unknown[] = [
  null,
  '',
  'x',
  'a.b',
  'Europe/Berlin',
  'btu',
  'forbid',
  'all',
  'frappe',
  0,
  -1,
  1,
  1.5,
  2 ** 53,
  1e300,
  true,
  false,
  [],
  [1, -1],
  {},
  { a: 1 },
  { max: 1, intervals: [0] },
  { max: 2, intervals: [1, 2] },
  { max: 0, intervals: [] },
  { max: 101, intervals: [] },
  { max: 1, intervals: [-1] },
  { max: 1, intervals: [1.5] },
  { max: 1, intervals: [0], extra: 1 },
  new Date(0),
];

function sameVerdict(v: unknown): void {
  const z = scheduleSchema.safeParse(v);
  const hand = storedSchedule(v);
  expect(hand !== undefined, JSON.stringify(v)).toBe(z.success);
  if (z.success) {
    expect(hand).toEqual(z.data);
    expect(Object.keys(hand!)).toEqual(Object.keys(z.data));
  }
}

describe('storedSchedule (the registry read without zod)', () => {
  it('checks the fields of scheduleSchema, in its order', () => {
    expect(STORED_SCHEDULE_FIELDS.map(([f]) => f)).toEqual(Object.keys(scheduleSchema.shape));
  });

  it('accepts what normalizeSchedule stores, as the schema returns it', () => {
    for (const s of VALID) {
      sameVerdict(s);
      expect(storedSchedule(JSON.parse(JSON.stringify(s)))).toEqual(s);
    }
  });

  it('gives the schema verdict on every field removed, mistyped or out of range, and on unknown fields', () => {
    let checked = 0;
    for (const s of VALID)
      for (const [field] of STORED_SCHEDULE_FIELDS) {
        const { [field]: _, ...without } = s as Record<string, unknown>;
        sameVerdict(without);
        for (const odd of ODD) sameVerdict({ ...s, [field]: odd });
        sameVerdict({ ...s, [`${field}X`]: 1 });
        checked += ODD.length + 2;
      }
    expect(checked).toBeGreaterThan(1000);
  });

  it('refuses what is not an object', () => {
    for (const v of [null, undefined, [], 'x', 1, true]) sameVerdict(v);
  });

  it('parseStoredSpec: stored JSON text, garbage refused', () => {
    expect(parseStoredSpec(JSON.stringify(VALID[0]))).toEqual(VALID[0]);
    expect(parseStoredSpec('{"id":"s"}')).toBeUndefined();
    expect(parseStoredSpec('not json')).toBeUndefined();
    expect(parseStoredSpec('')).toBeUndefined();
  });
});
