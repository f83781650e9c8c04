/**
 * BTU rows -> desired schedules. Pure: rows in, `RowEntry`s out (no database here).
 *
 * One row is a `tabBTU Task Schedule` row joined with its `tabBTU Task` and the
 * `BTU Configuration` single's `cron_time_zone`. The mapping follows what BTU itself
 * does when a schedule fires (btu `task_runner.TaskRunner`, btu_scheduler `sql.py`):
 *
 * | schedule field | from                                                                   |
 * |----------------|------------------------------------------------------------------------|
 * | id             | schedule `name` (TS-000001)                                            |
 * | enabled        | schedule `enabled` (int(1); NULL = 0, Frappe's default)                |
 * | target, site   | `frappe`, the configured site                                          |
 * | function       | task `function_string`                                                 |
 * | kwargs         | task `arguments`, overlaid key by key by schedule `argument_overrides` |
 * | queue          | schedule `queue_name`, else task `queue_name`, else `default`          |
 * | timeout        | task `max_task_duration` seconds; 0/NULL -> 3600 (BTU's `or 3600`)     |
 * | cron           | schedule `cron_string` (see btu-cron.ts)                               |
 * | timezone       | see `btuTimezone`                                                      |
 * | description    | schedule `task_description`, else task `desc_short`                    |
 * | overlap        | `btu.overlap` (default forbid: BTU skips a task while it is In-Progress) |
 *
 * That is the `direct` runner (the task's function called by Frappe's execute_job). The
 * `task-runner` runner (the default in the settings) enqueues what BTU's own enqueue
 * (`btu.btu_api.endpoints.enqueue_for_next_available_worker`) enqueues instead, so BTU's
 * `TaskRunner` merges the arguments itself, writes its Task Log and sends its e-mails:
 *
 * | schedule field | task-runner                                                          |
 * |----------------|----------------------------------------------------------------------|
 * | function       | `btu.btu_core.task_runner.run_task_by_id`                            |
 * | kwargs         | `task_id` (task name), `site_name` (the site), `schedule_id` (name)   |
 * | queue          | task `queue_name` (BTU's enqueue ignores the schedule's), else default |
 * | jobIdKwarg     | `rq_job_id`: each job gets its own RQ job id                          |
 * | onFailure      | `btu.btu_core.task_runner.on_btu_task_failure` (RQ failure callback)   |
 *
 * `arguments` and `argument_overrides` are then not parsed by pyrq (TaskRunner reads them
 * from the database when the job runs); with an allowlist, `function_string` must still
 * pass it.
 */
import type { BtuRunner } from '../../src/config/config.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import type { OverlapPolicy } from '../../src/model/schedule-schema.js';
import { mergeArguments, parseBtuArguments } from './btu-arguments.js';
import { btuCronToPyrq } from './btu-cron.js';
import { BTU_RUN_TASK_BY_ID } from './btu-constants.js';
import { btuJobDescription } from './btu-job-description.js';
import type { SiteTtls } from './site-config.js';
import type { BtuGeneration } from './btu-generation.js';
import type { RowEntry } from '../sql/row-entry.js';
import { type ColumnIssue, rowToEntry } from '../sql/row-to-entry.js';

export const BTU_ORIGIN = 'tabBTU Task Schedule';
/** BTU's fallback when a task has no max_task_duration (`timeout=doc_task.max_task_duration or 3600`). */
export const BTU_DEFAULT_TIMEOUT = 3600;
export { BTU_RUN_TASK_BY_ID };
/** BTU's RQ failure callback: marks the Task Log failed, with the traceback. */
export const BTU_ON_FAILURE = 'btu.btu_core.task_runner.on_btu_task_failure';

/** One joined row, as the BTU query returns it. Optional columns exist only in newer BTU versions. */
export interface BtuRow {
  name: string;
  task: string | null;
  enabled: number | string | null;
  queue_name: string | null;
  argument_overrides: string | null;
  cron_string: string | null;
  run_frequency: string | null;
  task_description: string | null;
  /** Per-schedule timezone (BTU 2026+); absent in older schemas. */
  cron_timezone?: string | null;
  /** `tabBTU Task`.name: null when the linked task does not exist. */
  task_name: string | null;
  function_string: string | null;
  arguments: string | null;
  max_task_duration: number | string | null;
  desc_short: string | null;
  /** `tabBTU Task`.queue_name (newer BTU); absent in older schemas. */
  task_queue_name?: string | null;
  /** `tabSingles` BTU Configuration / cron_time_zone. */
  config_timezone: string | null;
}

export interface BtuMapOptions {
  ctx: NormalizeContext;
  site: string;
  /** The SQL source reading BTU (`mysql`, `postgres`): it owns the schedules and names the settings. */
  source: string;
  /** How the rows run (`btu.runner`); absent: `direct`. */
  runner?: BtuRunner;
  /** The site's rq_results_ttl / rq_job_failure_ttl (site-config.ts); absent: Frappe's defaults. */
  ttls?: SiteTtls;
  /** Which BTU app wrote the rows (btu-generation.ts); absent: 2024. */
  generation?: BtuGeneration;
  /** The Frappe user the jobs run as (`btu.user`); absent: the context's (frappe.user). */
  user?: string;
  /** The rows' overlap policy (`btu.overlap`); absent: the context's default. */
  overlap?: OverlapPolicy;
  /**
   * Put before each row's name to make its schedule id (`site1.`: several sites, see
   * src/config/sql-entries.ts); absent: the name itself. BTU's own kwargs keep the name.
   */
  idPrefix?: string;
}

const text = (v: string | null | undefined): string | undefined => {
  const t = v?.trim();
  return t ? t : undefined;
};

/**
 * The timezone BTU's scheduler evaluates a row's cron string in, by generation
 * (btu-generation.ts):
 * - 2025-26: every row, whatever its `run_frequency`, in `COALESCE(NULLIF(cron_timezone,
 *   ''), BTU Configuration.cron_time_zone)` (btu_scheduler `sql.get_task_schedule_by_id`;
 *   the app's controller writes Hourly/Daily/... strings in local time);
 * - 2024: "Cron Style" rows (and rows without a run_frequency) in the schedule's or the
 *   configuration's timezone; Hourly/Daily/Weekly/Monthly/Yearly rows in UTC, because that
 *   app's `schedule_to_cron_string` converted the entered time to UTC when it saved them.
 * Neither timezone set: UTC (BTU itself would refuse such a row).
 */
export function btuTimezone(
  row: Pick<BtuRow, 'run_frequency' | 'cron_timezone' | 'config_timezone'>,
  generation: BtuGeneration = '2024',
): {
  timezone: string;
  column: string;
} {
  const freq = text(row.run_frequency);
  if (generation === '2024' && freq !== undefined && freq !== 'Cron Style')
    return { timezone: 'UTC', column: 'run_frequency' };
  const own = text(row.cron_timezone);
  if (own !== undefined) return { timezone: own, column: 'cron_timezone' };
  const single = text(row.config_timezone);
  if (single !== undefined) return { timezone: single, column: 'BTU Configuration.cron_time_zone' };
  return { timezone: 'UTC', column: 'timezone' };
}

/** The runner a row uses: `auto` is task-runner where the app has `run_task_by_id` (2025-26), else direct. */
export function btuRunner(runner: BtuRunner | undefined, generation: BtuGeneration): 'task-runner' | 'direct' {
  if (runner === 'auto') return generation === '2025' ? 'task-runner' : 'direct';
  return runner ?? 'direct';
}

/**
 * The RQ queue (before Frappe's bench prefix). The direct runner keeps what BTU's
 * scheduler daemons did: the schedule's `queue_name`, else the task's. BTU's own enqueue
 * (task-runner) uses the task's `queue_name` only; a BTU schema without that column
 * falls back to the schedule's.
 */
export function btuQueue(row: Pick<BtuRow, 'queue_name' | 'task_queue_name'>, taskRunner: boolean): string {
  if (taskRunner)
    return (row.task_queue_name === undefined ? text(row.queue_name) : text(row.task_queue_name)) ?? 'default';
  return text(row.queue_name) ?? text(row.task_queue_name) ?? 'default';
}

export function isEnabled(v: number | string | null): boolean {
  return v !== null && Number(v) !== 0;
}

export function mapBtuRow(row: BtuRow, opts: BtuMapOptions): RowEntry {
  const pre: ColumnIssue[] = [];
  const taskName = text(row.task);
  const generation = opts.generation ?? '2024';
  const taskRunner = btuRunner(opts.runner, generation) === 'task-runner';
  if (row.task_name === null) {
    pre.push({
      column: 'task',
      message: taskName
        ? `BTU Task ${JSON.stringify(taskName)} does not exist`
        : 'is empty: the schedule names no BTU Task',
    });
  }
  // TaskRunner merges the arguments itself: only the direct runner needs them parsed.
  const taskArgs = taskRunner ? undefined : parseBtuArguments(row.arguments);
  if (taskArgs && !taskArgs.ok)
    pre.push({ column: `arguments (BTU Task ${taskName ?? '?'})`, message: taskArgs.message });
  const overrides = taskRunner ? undefined : parseBtuArguments(row.argument_overrides);
  if (overrides && !overrides.ok) pre.push({ column: 'argument_overrides', message: overrides.message });
  const cron = btuCronToPyrq(row.cron_string);
  if (!cron.ok) pre.push({ column: 'cron_string', message: cron.message });
  const fn = text(row.function_string) ?? '';
  if (taskRunner && opts.ctx.allowFunction && fn !== '' && !opts.ctx.allowFunction(fn)) {
    pre.push({
      column: `function_string (BTU Task ${taskName ?? '?'})`,
      message: `${JSON.stringify(fn)} is not in the function allowlist (${opts.ctx.allowDescription ?? 'config allow'})`,
    });
  }

  const tz = btuTimezone(row, generation);
  const duration = row.max_task_duration === null ? 0 : Number(row.max_task_duration);
  const id = `${opts.idPrefix ?? ''}${row.name}`;
  const raw: Record<string, unknown> = {
    id,
    enabled: isEnabled(row.enabled),
    target: 'frappe',
    site: opts.site,
    function: taskRunner ? BTU_RUN_TASK_BY_ID : fn,
    queue: btuQueue(row, taskRunner),
    timeout: Number.isFinite(duration) && duration !== 0 ? duration : BTU_DEFAULT_TIMEOUT,
    timezone: tz.timezone,
    // BTU's scheduler runs a schedule once per local time in a repeated hour (src/schedule/dst-rule.ts).
    dst: 'btu',
  };
  if (opts.overlap !== undefined) raw.overlap = opts.overlap;
  if (opts.user !== undefined) raw.user = opts.user;
  if (opts.ttls?.resultTtl !== undefined) raw.resultTtl = opts.ttls.resultTtl;
  if (opts.ttls?.failureTtl !== undefined) raw.failureTtl = opts.ttls.failureTtl;
  if (taskRunner) {
    // What BTU's enqueue passes (its `rq_job_id` is the job's own id: jobIdKwarg).
    raw.kwargs = { task_id: taskName ?? '', site_name: opts.site, schedule_id: row.name };
    raw.jobIdKwarg = 'rq_job_id';
    raw.onFailure = BTU_ON_FAILURE;
  } else if (taskArgs?.ok && overrides?.ok) {
    // When a column failed to parse, `pre` is not empty and the row is never normalised.
    raw.kwargs = mergeArguments(taskArgs.value, overrides.value);
  }
  if (cron.ok) raw.cron = cron.cron;
  // task-runner: BTU's enqueue leaves the description to RQ (btu-job-description.ts).
  const description = taskRunner
    ? btuJobDescription(opts.site, opts.user ?? opts.ctx.frappeUser ?? 'Administrator', taskName ?? '', row.name)
    : (text(row.task_description) ?? text(row.desc_short));
  if (description !== undefined) raw.description = description;

  const columns: Record<string, string> = {
    id: 'name',
    function: taskRunner ? 'btu.runner (task-runner)' : `function_string (BTU Task ${taskName ?? '?'})`,
    queue: taskRunner ? `queue_name (BTU Task ${taskName ?? '?'})` : 'queue_name',
    timeout: `max_task_duration (BTU Task ${taskName ?? '?'})`,
    cron: 'cron_string',
    timezone: tz.column,
    description: 'task_description',
    site: `site (${opts.source}.site or the [[sql]] entry's frappe.site, else frappe.site in the config)`,
    overlap: 'btu.overlap',
    user: 'btu.user',
    dst: 'BTU DST rule',
  };
  const columnOf = (field: string): string => {
    const top = field.split(/[.[]/)[0]!;
    if (top === 'kwargs')
      return taskRunner
        ? `task/name${field.slice('kwargs'.length)}`
        : `arguments/argument_overrides${field.slice('kwargs'.length)}`;
    return columns[top] ?? field;
  };
  const entry = rowToEntry(
    raw,
    pre,
    { source: opts.source, id, origin: BTU_ORIGIN, enabled: isEnabled(row.enabled), columnOf },
    opts.ctx,
  );
  if (cron.ok && cron.dropped !== undefined)
    entry.notes = [`cron_string ${JSON.stringify(row.cron_string?.trim())}: ${cron.dropped} dropped, as BTU drops it`];
  return entry;
}

export function mapBtuRows(rows: readonly BtuRow[], opts: BtuMapOptions): Map<string, RowEntry> {
  const out = new Map<string, RowEntry>();
  for (const row of rows) {
    const e = mapBtuRow(row, opts);
    out.set(e.id, e);
  }
  return out;
}
