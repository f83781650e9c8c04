/**
 * The RQ description of a job BTU's own enqueue builds. BTU's
 * `btu_api.endpoints.enqueue_for_next_available_worker` calls `frappe.enqueue(method=
 * "btu.btu_core.task_runner.run_task_by_id", ..., task_id=, site_name=, schedule_id=,
 * rq_job_id=)` without a description, so RQ writes its default, the call string of
 * Frappe's `execute_job` with the `queue_args` Frappe builds (RQ `Job.get_call_string`:
 * each repr cut at 75 characters plus "...", keyword arguments sorted). BTU's "Remove
 * Failed Jobs" and RQ dashboards see that text, so pyrq writes the same. Pure.
 *
 * The nested `kwargs` repr is cut at 75 characters, which ends before the per-job
 * `rq_job_id` unless the task, site and schedule names are very short (then the cut text
 * shows the start of a placeholder id where BTU's shows the job's).
 */
import { pyRepr } from '../../src/rq/job-encoding.js';
import { FRAPPE_EXECUTE_JOB } from '../../src/rq/frappe-target.js';
import type { PyValue } from '../../src/rq/pickle.js';
import { BTU_RUN_TASK_BY_ID } from './btu-constants.js';

/** RQ's `max_length` for each argument in a call string. */
const RQ_REPR_MAX = 75;
const PLACEHOLDER_JOB_ID = '0'.repeat(32);

/** RQ 1.x `utils.get_call_string(func, args, kwargs, max_length=75)`. */
export function rqCallString(funcName: string, kwargs: Record<string, PyValue>): string {
  const cut = (s: string) => (s.length > RQ_REPR_MAX ? `${s.slice(0, RQ_REPR_MAX)}...` : s);
  const parts = Object.entries(kwargs)
    .map(([k, v]) => `${k}=${cut(pyRepr(v))}`)
    .sort();
  return `${funcName}(${parts.join(', ')})`;
}

export function btuJobDescription(site: string, user: string, taskId: string, scheduleId: string): string {
  return rqCallString(FRAPPE_EXECUTE_JOB, {
    site,
    user,
    method: BTU_RUN_TASK_BY_ID,
    event: null,
    job_name: BTU_RUN_TASK_BY_ID,
    is_async: true,
    kwargs: { task_id: taskId, site_name: site, schedule_id: scheduleId, rq_job_id: PLACEHOLDER_JOB_ID },
  });
}
