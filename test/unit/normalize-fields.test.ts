/**
 * normalizeSchedule writes the stored spec one named field at a time, in sorted key order
 * (canonical JSON then need not sort, and the spec hash is of that text). The list is
 * written out by hand in normalize.ts: these tests hold it to the stored schema, so a
 * field added to the schema and not to the list, or put out of order, fails here.
 */
import { describe, expect, it } from 'vitest';
import { normalizeSchedule } from '../../src/model/normalize.js';
import { scheduleSchema } from '../../src/model/schedule-schema.js';
import { TRIGGERS } from '../../src/schedule/triggers/index.js';

const TRIGGER_VALUES: Record<string, string> = { cron: '*/5 * * * *', every: '10m', at: '2031-05-04T10:00:00Z' };

/** A schedule setting every optional field to a value that is kept (not a default that is left out). */
function everyField(trigger: string): Record<string, unknown> {
  return {
    id: `all-${trigger}`,
    function: 'myapp.tasks.run',
    [trigger]: TRIGGER_VALUES[trigger],
    alertAfter: '1h',
    args: [],
    catchup: 'all',
    description: 'every field',
    dst: 'btu',
    enabled: false,
    failAfter: 3,
    failureTtl: 60,
    jitter: '5s',
    jobIdKwarg: 'job_id',
    kwargs: { a: 1 },
    meta: { team: 'x' },
    onFailure: 'myapp.tasks.failed',
    overlap: 'forbid',
    queue: 'long',
    resultTtl: 30,
    retry: 2,
    site: 'site1.local',
    startingDeadline: '2m',
    target: 'frappe',
    timeout: '20m',
    timezone: 'Europe/Paris',
    times: 4,
    ttl: 600,
    user: 'Administrator',
    // An `at` schedule may not have a window (at.ts).
    ...(trigger === 'at' ? {} : { startAt: '2030-01-01T00:00:00Z', endAt: '2032-01-01T00:00:00Z' }),
  };
}

describe('normalizeSchedule: the stored fields', () => {
  it('has a value for every trigger kind the hand-written list knows', () => {
    expect(TRIGGERS.map((k) => k.field).sort()).toEqual(Object.keys(TRIGGER_VALUES).sort());
  });

  for (const trigger of Object.keys(TRIGGER_VALUES)) {
    it(`writes every field of the stored schema, sorted (${trigger})`, () => {
      const r = normalizeSchedule(everyField(trigger));
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      const keys = Object.keys(r.schedule);
      const others = new Set(Object.keys(TRIGGER_VALUES).filter((t) => t !== trigger));
      if (trigger === 'at') ['startAt', 'endAt'].forEach((k) => others.add(k));
      const expected = Object.keys(scheduleSchema.shape)
        .filter((k) => !others.has(k))
        .sort();
      // Same fields, already in sorted order (not only sortable into it).
      expect(keys).toEqual(expected);
      expect(Object.values(r.schedule).filter((v) => v === undefined)).toEqual([]);
    });
  }

  it('leaves absent optional fields out, rather than set to undefined', () => {
    const r = normalizeSchedule({ id: 'few', function: 'myapp.tasks.run', cron: '0 * * * *' });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(Object.keys(r.schedule)).toEqual([
      'args',
      'catchup',
      'cron',
      'enabled',
      'function',
      'id',
      'kwargs',
      'meta',
      'overlap',
      'queue',
      'target',
      'timeout',
      'timezone',
    ]);
  });
});
