/**
 * The Frappe target: a schedule with `target: frappe` is enqueued the way
 * `frappe.enqueue()` enqueues, so Frappe's own workers (`bench worker`) run it with a
 * site context, a database connection, commit/rollback and error logging.
 *
 * Checked against Frappe's `frappe/utils/background_jobs.py` (v13, v15 and develop):
 * - every version enqueues `execute_job(site, method, event, job_name, kwargs,
 *   user=None, is_async=True, retry=0)` with `args=()` and those as keyword arguments;
 *   `execute_job` calls `method(**kwargs)`, so positional `args` cannot be passed.
 * - queue names: v14+ prefix the bench id (`generate_qname`: `<bench_id>:<queue>`, the
 *   bench id being `bench_id` from common_site_config.json, else the bench path with `/`
 *   replaced by `-`, e.g. `home-frappe-frappe-bench`); v13 used the bare name
 *   (`short`, `default`, `long`). pyrq uses `<benchId>:<queue>` when `frappe.benchId`
 *   is configured and the bare name otherwise (so v13 benches work without a setting).
 * - v15 sets `result_ttl` 600 s (`RQ_RESULTS_TTL`) and `failure_ttl` 7 days
 *   (`RQ_JOB_FAILURE_TTL`) on every job; the same defaults apply here unless the
 *   schedule sets its own. Timeouts (300 s, long 1500 s) are filled in by normalisation.
 * - v15 also attaches an `on_failure` callback that trims the failed registry; pyrq does
 *   not (a callback is a housekeeping choice of the enqueuing app, not needed to run).
 *   A schedule's own `onFailure` (BTU rows: BTU's `on_btu_task_failure`) is written as
 *   RQ's `failure_callback_name`, as `frappe.enqueue(on_failure=...)` writes it.
 * - v16 passes the function by its dotted path; v13-v15 pass the function object, which
 *   RQ stores as the same dotted path, so the pickled payload is identical.
 */
import { SETTINGS } from '../config/settings.js';
import { benchQueue } from '../model/normalize.js';
import type { Schedule } from '../model/schedule-schema.js';
import type { PyValue } from './pickle.js';

export const FRAPPE_EXECUTE_JOB = 'frappe.utils.background_jobs.execute_job';
/** Frappe v15's RQ_RESULTS_TTL. */
export const FRAPPE_RESULT_TTL = 10 * 60;
/** Frappe v15's RQ_JOB_FAILURE_TTL. */
export const FRAPPE_FAILURE_TTL = 7 * 24 * 60 * 60;

/**
 * The RQ queue name Frappe's workers listen on for this schedule's queue. Schedules are
 * normally stored with the bench id already (`normalize.ts` `benchQueue`, issue 26): then
 * this changes nothing; a schedule stored without one gets the firing daemon's.
 */
export function frappeQueueName(queue: string, benchId: string | undefined): string {
  return benchQueue(queue, benchId);
}

/**
 * The keyword arguments of `execute_job`. `job_name` is the method path, which is what
 * `frappe.enqueue` uses when no name is given (so anything filtering jobs by name in
 * Frappe's UI treats pyrq's jobs like its own).
 */
export function frappeKwargs(
  spec: Schedule,
  siteFallback?: string,
  userFallback: string = SETTINGS['frappe.user'].default,
): { [k: string]: PyValue } {
  const site = spec.site ?? siteFallback;
  if (site === undefined)
    throw new Error(`schedule "${spec.id}": target frappe needs a site (schedule "site" or config frappe.site)`);
  if (spec.args.length > 0) {
    throw new Error(
      `schedule "${spec.id}": target frappe cannot pass positional args (Frappe's execute_job calls method(**kwargs)); use kwargs`,
    );
  }
  return {
    site,
    user: spec.user ?? userFallback,
    method: spec.function,
    event: null,
    job_name: spec.function,
    is_async: true,
    kwargs: spec.kwargs as { [k: string]: PyValue },
  };
}
