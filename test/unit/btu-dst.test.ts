/**
 * BTU's DST rules for BTU rows (issue 27 point 5), beside pyrq's own for files: in the
 * repeated autumn hour BTU runs a schedule once per local time (its `btu:fired:<id>:<local
 * slot>` guard); in the spring gap croniter 6.2 (measured) moves a fixed time to the end of
 * the gap, as Vixie cron does.
 */
import { describe, expect, it } from 'vitest';
import { normalizeSchedule, DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { isSecondPass } from '../../src/schedule/dst-rule.js';
import { nextFireAfter, occurrencesBetween } from '../../src/schedule/next-fire.js';
import { type BtuRow, mapBtuRow } from '../../sources/btu/btu-map.js';

const NY = 'America/New_York';
const iso = (ms: number) => new Date(ms).toISOString().slice(11, 16);

function spec(cron: string, dst?: 'btu' | 'vixie'): Schedule {
  const r = normalizeSchedule(
    { id: 'x', function: 'app.f', cron, timezone: NY, ...(dst ? { dst } : {}) },
    DEFAULT_CONTEXT,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

function walk(s: Schedule, fromIso: string, toIso: string): string[] {
  const out: string[] = [];
  for (let t = nextFireAfter(s, Date.parse(fromIso)); t !== null && t < Date.parse(toIso); t = nextFireAfter(s, t))
    out.push(iso(t));
  return out;
}

// 2026-11-01: New York goes from 02:00 EDT back to 01:00 EST at 06:00Z; 01:00-01:59 runs twice.
const FALL_FROM = '2026-11-01T04:00:00Z';
const FALL_TO = '2026-11-01T08:00:00Z';

describe('the repeated autumn hour', () => {
  it('isSecondPass is true only for the second pass of a local time', () => {
    expect(isSecondPass(NY, Date.parse('2026-11-01T05:30:00Z'))).toBe(false); // 01:30 EDT
    expect(isSecondPass(NY, Date.parse('2026-11-01T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(isSecondPass(NY, Date.parse('2026-11-01T07:30:00Z'))).toBe(false); // 02:30 EST
    expect(isSecondPass('UTC', Date.parse('2026-11-01T06:30:00Z'))).toBe(false);
  });

  it('BTU rule: an interval job runs once per local time (first pass), where the Vixie rule runs both passes', () => {
    expect(walk(spec('*/30 * * * *', 'btu'), FALL_FROM, FALL_TO)).toEqual([
      '04:30',
      '05:00',
      '05:30',
      '07:00',
      '07:30',
    ]);
    expect(walk(spec('*/30 * * * *'), FALL_FROM, FALL_TO)).toEqual([
      '04:30',
      '05:00',
      '05:30',
      '06:00',
      '06:30',
      '07:00',
      '07:30',
    ]);
  });

  it('BTU rule: hourly and fixed-time jobs fire once in the repeated hour', () => {
    expect(walk(spec('0 * * * *', 'btu'), FALL_FROM, FALL_TO)).toEqual(['05:00', '07:00']);
    expect(walk(spec('30 1 * * *', 'btu'), FALL_FROM, FALL_TO)).toEqual(['05:30']);
  });

  it('catch-up over the repeated hour yields each local time once (occurrencesBetween, end inclusive)', () => {
    const s = spec('*/30 * * * *', 'btu');
    expect(occurrencesBetween(s, Date.parse(FALL_FROM), Date.parse(FALL_TO), 100).map(iso)).toEqual([
      '04:30',
      '05:00',
      '05:30',
      '07:00',
      '07:30',
      '08:00',
    ]);
  });
});

describe('the spring gap (2026-03-08, 02:00 EST -> 03:00 EDT at 07:00Z)', () => {
  it('a fixed time in the gap runs once at the end of the gap under both rules (croniter 6.2 does the same)', () => {
    for (const dst of ['btu', undefined] as const)
      expect(walk(spec('30 2 * * *', dst), '2026-03-08T05:00:00Z', '2026-03-09T12:00:00Z')).toEqual(['07:00', '06:30']);
  });
});

describe('BTU rows carry the BTU rule', () => {
  it('mapBtuRow sets dst btu, and the spec says so', () => {
    const row: BtuRow = {
      name: 'TS-000001',
      task: 'T',
      enabled: 1,
      queue_name: 'default',
      argument_overrides: null,
      cron_string: '*/30 * * * *',
      run_frequency: 'Cron Style',
      task_description: null,
      cron_timezone: NY,
      task_name: 'T',
      function_string: 'app.f',
      arguments: null,
      max_task_duration: 60,
      desc_short: null,
      config_timezone: null,
    };
    const e = mapBtuRow(row, { ctx: DEFAULT_CONTEXT, site: 's', source: 'mysql', generation: '2025' });
    expect(e.schedule?.spec.dst).toBe('btu');
    expect(walk(e.schedule!.spec, FALL_FROM, FALL_TO)).toHaveLength(5);
  });
});
