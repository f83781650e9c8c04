import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { formatSourceError } from '../../src/source.js';
import { parseBtuArguments } from '../../sources/btu/btu-arguments.js';
import { btuCronToPyrq } from '../../sources/btu/btu-cron.js';
import { type BtuRow, btuTimezone, mapBtuRow, mapBtuRows } from '../../sources/btu/btu-map.js';
import { toSnapshot } from '../../sources/sql/row-entry.js';

/** A valid, enabled "Cron Style" row joined with its task; override what a test needs. */
function row(over: Partial<BtuRow> = {}): BtuRow {
  return {
    name: 'TS-000001',
    task: 'BTU-000000001',
    enabled: 1,
    queue_name: 'long',
    argument_overrides: null,
    cron_string: '0 2 * * *',
    run_frequency: 'Cron Style',
    task_description: 'Sync stock levels',
    cron_timezone: null,
    task_name: 'BTU-000000001',
    function_string: 'erp.tasks.sync_stock',
    arguments: "{'company': 'ACME', 'days': 7, 'dry_run': False}",
    max_task_duration: 900,
    desc_short: 'Sync stock levels (task)',
    task_queue_name: 'default',
    config_timezone: 'America/New_York',
    ...over,
  };
}

const opts = { ctx: DEFAULT_CONTEXT, site: 'erp.example.com', source: 'mysql' };
const messages = (r: BtuRow) => mapBtuRow(r, opts).errors.map(formatSourceError);

describe('mapBtuRow: a valid row', () => {
  it('maps every column to the schedule model', () => {
    const e = mapBtuRow(row({ argument_overrides: "{'days': 1, 'warehouse': 'FG'}" }), opts);
    expect(e.errors).toEqual([]);
    expect(e.held).toBe(false);
    expect(e.schedule?.origin).toBe('tabBTU Task Schedule');
    expect(e.schedule?.spec).toEqual({
      id: 'TS-000001',
      enabled: true,
      dst: 'btu',
      target: 'frappe',
      site: 'erp.example.com',
      user: 'Administrator',
      function: 'erp.tasks.sync_stock',
      args: [],
      kwargs: { company: 'ACME', days: 1, dry_run: false, warehouse: 'FG' },
      queue: 'long',
      timeout: 900,
      cron: '0 2 * * *',
      timezone: 'America/New_York',
      description: 'Sync stock levels',
      catchup: 'latest',
      overlap: 'allow',
      meta: {},
    });
    expect(e.schedule?.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('maps a row as either driver returns it to the same schedule (PostgreSQL: bigint as text, smallint as number)', () => {
    const mysql = mapBtuRow(row(), opts);
    const postgres = mapBtuRow(row({ max_task_duration: '900', enabled: 1 }), { ...opts, source: 'postgres' });
    expect(postgres.schedule).toEqual(mysql.schedule);
    expect(mapBtuRow(row({ max_task_duration: '0' }), opts).schedule?.spec.timeout).toBe(3600);
    // The setting named in a message is the source's own.
    expect(
      mapBtuRow(row({ max_task_duration: '0' }), { ...opts, site: '', source: 'postgres' }).errors.map(
        formatSourceError,
      ),
    ).toEqual([
      expect.stringMatching(
        /^tabBTU Task Schedule: \(id "TS-000001"\): site \(postgres\.site or the \[\[sql\]\] entry's frappe\.site, else frappe\.site in the config\): /,
      ),
    ]);
  });

  it('keeps a disabled valid row as a disabled schedule (history and status stay)', () => {
    const e = mapBtuRow(row({ enabled: 0 }), opts);
    expect(e.schedule?.spec.enabled).toBe(false);
    expect(e.held).toBe(false);
  });

  it('treats a NULL enabled as disabled (Frappe Check default 0)', () => {
    expect(mapBtuRow(row({ enabled: null }), opts).schedule?.spec.enabled).toBe(false);
  });

  it('falls back to the task queue, then "default"', () => {
    expect(mapBtuRow(row({ queue_name: '' }), opts).schedule?.spec.queue).toBe('default');
    expect(mapBtuRow(row({ queue_name: null, task_queue_name: 'short' }), opts).schedule?.spec.queue).toBe('short');
    expect(mapBtuRow(row({ queue_name: null, task_queue_name: undefined }), opts).schedule?.spec.queue).toBe('default');
  });

  it('uses 3600 s when max_task_duration is 0 or NULL, as BTU does', () => {
    expect(mapBtuRow(row({ max_task_duration: 0 }), opts).schedule?.spec.timeout).toBe(3600);
    expect(mapBtuRow(row({ max_task_duration: null }), opts).schedule?.spec.timeout).toBe(3600);
  });

  it('takes the description from the schedule, else the task', () => {
    expect(mapBtuRow(row({ task_description: null }), opts).schedule?.spec.description).toBe(
      'Sync stock levels (task)',
    );
    expect(
      mapBtuRow(row({ task_description: ' ', desc_short: null }), opts).schedule?.spec.description,
    ).toBeUndefined();
  });

  it('reads JSON arguments (BTU writes json.dumps since 2025) and empty ones', () => {
    const e = mapBtuRow(
      row({ arguments: '{"recipients": ["a@example.com"], "charts": true, "limit": null}', argument_overrides: '  ' }),
      opts,
    );
    expect(e.schedule?.spec.kwargs).toEqual({ recipients: ['a@example.com'], charts: true, limit: null });
    expect(mapBtuRow(row({ arguments: null }), opts).schedule?.spec.kwargs).toEqual({});
  });

  it('maps many rows by id', () => {
    const m = mapBtuRows([row(), row({ name: 'TS-000002', enabled: 0 })], opts);
    expect([...m.keys()]).toEqual(['TS-000001', 'TS-000002']);
  });
});

describe('btuTimezone', () => {
  it('uses the row timezone, then the BTU Configuration single, then UTC for Cron Style rows', () => {
    expect(
      btuTimezone({ run_frequency: 'Cron Style', cron_timezone: 'Europe/Berlin', config_timezone: 'America/New_York' })
        .timezone,
    ).toBe('Europe/Berlin');
    expect(
      btuTimezone({ run_frequency: 'Cron Style', cron_timezone: '', config_timezone: 'America/New_York' }).timezone,
    ).toBe('America/New_York');
    expect(btuTimezone({ run_frequency: null, cron_timezone: undefined, config_timezone: null }).timezone).toBe('UTC');
  });

  it('reads Hourly/Daily/Weekly/Monthly/Yearly crons as UTC: BTU already converted them', () => {
    for (const f of ['Hourly', 'Daily', 'Weekly', 'Monthly', 'Yearly']) {
      expect(
        btuTimezone({ run_frequency: f, cron_timezone: 'Europe/Berlin', config_timezone: 'America/New_York' }).timezone,
      ).toBe('UTC');
    }
  });
});

describe('mapBtuRow: rows that cannot be mapped', () => {
  it('holds an enabled row with a malformed dict literal, naming the id and column', () => {
    const e = mapBtuRow(
      row({ name: 'TS-000006', argument_overrides: "{'recipients': ['cfo@example.com'], 'charts': False" }),
      opts,
    );
    expect(e.schedule).toBeUndefined();
    expect(e.held).toBe(true);
    expect(messages(row({ name: 'TS-000006', argument_overrides: "{'a': 1" }))).toEqual([
      expect.stringMatching(
        /^tabBTU Task Schedule: \(id "TS-000006"\): argument_overrides: not a Python dict literal \(line 1, column \d+: .*\) nor a JSON object/,
      ),
    ]);
  });

  it('holds an enabled row with a malformed cron, naming cron_string', () => {
    const e = mapBtuRow(row({ name: 'TS-000007', cron_string: '61 25 * * *' }), opts);
    expect(e.held).toBe(true);
    expect(e.errors.map(formatSourceError)).toEqual([
      'tabBTU Task Schedule: (id "TS-000007"): cron_string: "61 25 * * *": minute out of range',
    ]);
  });

  it('names the task column when the task arguments do not parse', () => {
    expect(messages(row({ arguments: '[1, 2]' }))).toEqual([
      'tabBTU Task Schedule: (id "TS-000001"): arguments (BTU Task BTU-000000001): expected a dict of keyword arguments, got a list',
    ]);
  });

  it('reports a missing task and an empty function', () => {
    expect(messages(row({ task_name: null, function_string: null }))).toEqual([
      'tabBTU Task Schedule: (id "TS-000001"): task: BTU Task "BTU-000000001" does not exist',
    ]);
    expect(messages(row({ function_string: ' ' }))[0]).toMatch(
      /function_string \(BTU Task BTU-000000001\): "" is not a dotted Python path/,
    );
  });

  it('reports an unknown timezone against the column it came from', () => {
    expect(messages(row({ config_timezone: 'Mars/Olympus' }))).toEqual([
      'tabBTU Task Schedule: (id "TS-000001"): BTU Configuration.cron_time_zone: unknown timezone "Mars/Olympus" (use an IANA name such as "Europe/Berlin" or "UTC")',
    ]);
  });

  it('drops (does not hold) a disabled row that cannot be mapped, so it can never fire', () => {
    const e = mapBtuRow(row({ enabled: 0, cron_string: 'every day' }), opts);
    expect(e.held).toBe(false);
    expect(e.schedule).toBeUndefined();
    expect(e.errors[0]?.message).toMatch(/the row is disabled, so its schedule is removed rather than kept/);
  });

  it('puts held ids and their errors into the snapshot', () => {
    const snap = toSnapshot('mysql', {
      entries: mapBtuRows([row(), row({ name: 'TS-000009', cron_string: '' })], opts),
      errors: [],
    });
    expect(snap.schedules.map((s) => s.spec.id)).toEqual(['TS-000001']);
    expect(snap.heldIds).toEqual(['TS-000009']);
    expect(snap.errors.map((e) => e.id)).toEqual(['TS-000009']);
    expect(snap.stale).toBe(false);
  });
});

describe('btuCronToPyrq', () => {
  it.each([
    ['0 2 * * *', '0 2 * * *'],
    ['  0   2 * * * ', '0 2 * * *'],
    ['@daily', '@daily'],
    ['0 6 1 * * *', '0 6 1 * *'],
    ['0 0 6 1 * * *', '0 6 1 * *'],
  ])('%j -> %j', (btu, pyrq) => {
    expect(btuCronToPyrq(btu)).toEqual({ ok: true, cron: pyrq });
  });

  it.each([
    [null, /is empty/],
    ['0 6 1 *', /expected 5 fields .* got 4/],
  ])('rejects %j', (btu, re) => {
    const r = btuCronToPyrq(btu);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(re);
  });
});

describe('parseBtuArguments', () => {
  it('reads JSON first, as BTU does, then Python literals', () => {
    expect(parseBtuArguments('{"path": "a\\/b"}')).toEqual({ ok: true, value: { path: 'a/b' } });
    expect(parseBtuArguments("{'path': 'a\\/b'}")).toEqual({ ok: true, value: { path: 'a\\/b' } });
    expect(parseBtuArguments("{'n': 12345678901234567890}")).toEqual({ ok: true, value: { n: 12345678901234567890n } });
    expect(parseBtuArguments('{"n": 12345678901234567890, "ok": true}')).toEqual({
      ok: true,
      value: { n: 12345678901234567890n, ok: true },
    });
  });

  it('never evaluates code', () => {
    const r = parseBtuArguments("{'x': __import__('os').system('true')}");
    expect(r.ok).toBe(false);
  });

  it('refuses hostile input cheaply: deep nesting, huge text, huge numbers', () => {
    expect(parseBtuArguments(`{"a": ${'['.repeat(100_000)}`).ok).toBe(false);
    const deep = parseBtuArguments(`{'a': ${'['.repeat(1000)}${']'.repeat(1000)}}`);
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.message).toMatch(/nesting deeper than 64 levels/);
    expect(parseBtuArguments(`{"a": "${'x'.repeat(2_000_000)}"}`)).toEqual({
      ok: false,
      message: 'is 2000009 characters long, over the limit of 1048576; refused without parsing',
    });
    const big = parseBtuArguments(`{'n': ${'9'.repeat(5000)}}`);
    expect(big.ok).toBe(false);
  });

  it('rejects non-dicts', () => {
    expect(parseBtuArguments('"text"')).toEqual({
      ok: false,
      message: 'expected a dict of keyword arguments, got string',
    });
    expect(parseBtuArguments("('a', 1)").ok).toBe(false);
  });
});

describe("mapBtuRow: the task-runner runner (BTU's run_task_by_id)", () => {
  const tr = { ...opts, runner: 'task-runner' as const, overlap: 'forbid' as const };

  it("enqueues what BTU's own enqueue does: run_task_by_id with task_id, site_name, schedule_id; rq_job_id per job; BTU's failure callback", () => {
    const e = mapBtuRow(row({ argument_overrides: "{'days': 1}" }), tr);
    expect(e.errors).toEqual([]);
    expect(e.schedule?.spec).toMatchObject({
      function: 'btu.btu_core.task_runner.run_task_by_id',
      kwargs: { task_id: 'BTU-000000001', site_name: 'erp.example.com', schedule_id: 'TS-000001' },
      jobIdKwarg: 'rq_job_id',
      onFailure: 'btu.btu_core.task_runner.on_btu_task_failure',
      queue: 'default', // the task's queue_name: BTU's enqueue ignores the schedule's ('long')
      timeout: 900,
      overlap: 'forbid',
      target: 'frappe',
      site: 'erp.example.com',
    });
  });

  it("takes the task's queue, else default; a schema without the task column falls back to the schedule's", () => {
    expect(mapBtuRow(row({ task_queue_name: null }), tr).schedule?.spec.queue).toBe('default');
    expect(mapBtuRow(row({ task_queue_name: undefined }), tr).schedule?.spec.queue).toBe('long');
    expect(mapBtuRow(row({ task_queue_name: undefined, queue_name: null }), tr).schedule?.spec.queue).toBe('default');
  });

  it("leaves arguments to TaskRunner: malformed ones are not pyrq's error; a missing task and a bad cron still are", () => {
    expect(messages(row({ argument_overrides: "{'days': " }))).not.toEqual([]);
    expect(mapBtuRow(row({ argument_overrides: "{'days': ", arguments: 'nonsense(' }), tr).errors).toEqual([]);
    expect(
      mapBtuRow(row({ task_name: null }), tr)
        .errors.map(formatSourceError)
        .join(),
    ).toMatch(/BTU Task "BTU-000000001" does not exist/);
    expect(mapBtuRow(row({ cron_string: '61 * * * *' }), tr).errors).toHaveLength(1);
  });

  it('keeps the allowlist on function_string', () => {
    const allow = {
      ...tr,
      ctx: { ...DEFAULT_CONTEXT, allowFunction: (f: string) => f.startsWith('btu.'), allowDescription: 'btu.*' },
    };
    expect(mapBtuRow(row(), allow).errors.map(formatSourceError).join()).toMatch(
      /function_string .*"erp\.tasks\.sync_stock" is not in the function allowlist \(btu\.\*\)/,
    );
    expect(mapBtuRow(row({ function_string: 'btu.tasks.x' }), allow).errors).toEqual([]);
  });

  it("btu.overlap applies to both runners; without it the context's default", () => {
    expect(mapBtuRow(row(), { ...opts, overlap: 'forbid' }).schedule?.spec.overlap).toBe('forbid');
    expect(mapBtuRow(row(), { ...tr, overlap: 'allow' }).schedule?.spec.overlap).toBe('allow');
    expect(mapBtuRow(row(), opts).schedule?.spec.overlap).toBe('allow');
  });
});
