/**
 * BTU's rules per app generation (issue 27 points 1, 2, 4): detection from the schema,
 * fire hours per generation and frequency in a timezone that is not UTC, and cron
 * strings with seconds or a year read as BTU's scheduler reads them.
 */
import { describe, expect, it } from 'vitest';
import { btuCronToPyrq } from '../../sources/btu/btu-cron.js';
import { detectBtuGeneration } from '../../sources/btu/btu-generation.js';
import { type BtuRow, btuRunner, mapBtuRow } from '../../sources/btu/btu-map.js';
import { nextFireAfter } from '../../src/schedule/next-fire.js';
import { DEFAULT_CONTEXT as ctx } from '../../src/model/normalize.js';

const row = (over: Partial<BtuRow>): BtuRow => ({
  name: 'TS-000001',
  task: 'TASK-1',
  enabled: 1,
  queue_name: 'long',
  argument_overrides: null,
  cron_string: '0 8 * * *',
  run_frequency: 'Daily',
  task_description: 'nightly',
  cron_timezone: null,
  task_name: 'TASK-1',
  function_string: 'app.tasks.nightly',
  arguments: null,
  max_task_duration: 600,
  desc_short: 'nightly',
  task_queue_name: 'long',
  config_timezone: 'America/New_York',
  ...over,
});

const NY_WINTER = Date.parse('2026-01-15T00:00:00Z');

function firstFire(r: BtuRow, generation: '2024' | '2025'): string {
  const e = mapBtuRow(r, { ctx, site: 'site1', source: 'mysql', generation, runner: 'direct' });
  expect(e.errors).toEqual([]);
  return new Date(nextFireAfter(e.schedule!.spec, NY_WINTER)!).toISOString();
}

describe('BTU generation detection', () => {
  it('reads a Task Schedule with cron_timezone as 2025-26, without as 2024, and says why', () => {
    expect(detectBtuGeneration(new Set(['name', 'cron_timezone']))).toEqual({
      generation: '2025',
      reason: 'detected: tabBTU Task Schedule has a cron_timezone column',
    });
    expect(detectBtuGeneration(new Set(['name'])).generation).toBe('2024');
  });

  it('a setting overrides the schema', () => {
    expect(detectBtuGeneration(new Set(['cron_timezone']), '2024')).toEqual({
      generation: '2024',
      reason: 'set by btu.generation (2024)',
    });
  });

  it('the auto runner is task-runner only where the app has run_task_by_id (2025-26)', () => {
    expect(btuRunner('auto', '2025')).toBe('task-runner');
    expect(btuRunner('auto', '2024')).toBe('direct');
    expect(btuRunner('direct', '2025')).toBe('direct');
  });
});

describe('fire hours per generation (America/New_York, January: UTC-5)', () => {
  // 2025-26: the controller writes every frequency's string in local time, and the
  // scheduler reads it in COALESCE(row tz, BTU Configuration tz).
  it.each([
    ['Hourly', '15 * * * *', '2026-01-15T00:15:00.000Z'],
    ['Daily', '0 8 * * *', '2026-01-15T13:00:00.000Z'],
    ['Weekly', '0 8 * * 4', '2026-01-15T13:00:00.000Z'],
    ['Monthly', '0 8 15 * *', '2026-01-15T13:00:00.000Z'],
    ['Yearly', '0 8 15 1 *', '2026-01-15T13:00:00.000Z'],
    ['Cron Style', '0 8 * * *', '2026-01-15T13:00:00.000Z'],
  ])('2025-26 %s %j fires at local time', (freq, cron, at) => {
    expect(firstFire(row({ run_frequency: freq, cron_string: cron }), '2025')).toBe(at);
  });

  it('2025-26: the row timezone wins over the configuration', () => {
    expect(firstFire(row({ cron_timezone: 'Europe/Berlin' }), '2025')).toBe('2026-01-15T07:00:00.000Z');
  });

  // 2024: Hourly..Yearly strings were converted to UTC on save; Cron Style is local.
  it.each([
    ['Hourly', '15 * * * *', '2026-01-15T00:15:00.000Z'],
    ['Daily', '0 13 * * *', '2026-01-15T13:00:00.000Z'],
    ['Weekly', '0 13 * * 4', '2026-01-15T13:00:00.000Z'],
    ['Monthly', '0 13 15 * *', '2026-01-15T13:00:00.000Z'],
    ['Yearly', '0 13 15 1 *', '2026-01-15T13:00:00.000Z'],
    ['Cron Style', '0 8 * * *', '2026-01-15T13:00:00.000Z'],
  ])('2024 %s %j fires as the app stored it', (freq, cron, at) => {
    expect(firstFire(row({ run_frequency: freq, cron_string: cron }), '2024')).toBe(at);
  });
});

describe('BTU cron fields (seconds and year dropped, as btu_scheduler btu_cron does)', () => {
  it('7 fields: seconds and year dropped, so */15 seconds fires once a minute', () => {
    expect(btuCronToPyrq('*/15 * * * * * *')).toEqual({ ok: true, cron: '* * * * *', dropped: 'seconds */15' });
    const e = mapBtuRow(row({ cron_string: '*/15 * * * * * *', run_frequency: 'Cron Style' }), {
      ctx,
      site: 'site1',
      source: 'mysql',
      generation: '2025',
    });
    const spec = e.schedule!.spec;
    const t1 = nextFireAfter(spec, NY_WINTER)!;
    expect(nextFireAfter(spec, t1)! - t1).toBe(60_000);
    expect(e.notes?.[0]).toMatch(/seconds \*\/15 dropped, as BTU drops it/);
  });

  it('a row with a year is scheduled (every year, as BTU fires it), with a note', () => {
    expect(btuCronToPyrq('0 8 * * * 2027')).toEqual({ ok: true, cron: '0 8 * * *', dropped: 'year 2027' });
    expect(btuCronToPyrq('0 0 8 * * * 2027')).toEqual({ ok: true, cron: '0 8 * * *', dropped: 'year 2027' });
    const e = mapBtuRow(row({ cron_string: '0 8 * * * 2027', run_frequency: 'Cron Style' }), {
      ctx,
      site: 'site1',
      source: 'mysql',
      generation: '2025',
    });
    expect(e.errors).toEqual([]);
    expect(e.schedule?.spec.enabled).toBe(true);
    expect(e.notes?.[0]).toMatch(/year 2027 dropped/);
  });
});
