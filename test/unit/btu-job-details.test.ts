/**
 * Jobs as BTU builds them (issue 27 point 6): the user BTU's enqueue would use (btu.user)
 * and RQ's default description of BTU's frappe.enqueue call, byte for byte as RQ 1.13's
 * get_call_string writes it (the expected text below was printed by RQ itself).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { type BtuRow, mapBtuRow } from '../../sources/btu/btu-map.js';
import { btuJobDescription } from '../../sources/btu/btu-job-description.js';

const row: BtuRow = {
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
  arguments: null,
  max_task_duration: 900,
  desc_short: 'Sync stock levels',
  task_queue_name: 'long',
  config_timezone: 'America/New_York',
};

// /usr/bin/python3: rq.utils.get_call_string('frappe.utils.background_jobs.execute_job', (), queue_args, max_length=75)
const RQ_TEXT =
  "frappe.utils.background_jobs.execute_job(event=None, is_async=True, job_name='btu.btu_core.task_runner.run_task_by_id', kwargs={'task_id': 'BTU-000000001', 'site_name': 'erp.example.com', 'schedule_id':..., method='btu.btu_core.task_runner.run_task_by_id', site='erp.example.com', user='Administrator')";

describe('BTU job details', () => {
  it("the description is RQ's default for BTU's enqueue, as RQ writes it", () => {
    expect(btuJobDescription('erp.example.com', 'Administrator', 'BTU-000000001', 'TS-000001')).toBe(RQ_TEXT);
    const e = mapBtuRow(row, { ctx: DEFAULT_CONTEXT, site: 'erp.example.com', source: 'mysql', runner: 'task-runner' });
    expect(e.schedule?.spec.description).toBe(RQ_TEXT);
  });

  it('btu.user sets the user the jobs run as (and the description names it); absent, frappe.user', () => {
    const opts = { ctx: DEFAULT_CONTEXT, site: 'erp.example.com', source: 'mysql', runner: 'task-runner' as const };
    const e = mapBtuRow(row, { ...opts, user: 'btu-daemon@example.com' });
    expect(e.schedule?.spec.user).toBe('btu-daemon@example.com');
    expect(e.schedule?.spec.description).toContain("user='btu-daemon@example.com'");
    expect(mapBtuRow(row, opts).schedule?.spec.user).toBe('Administrator');
  });

  it('the direct runner keeps the task description (no BTU enqueue to mirror)', () => {
    const e = mapBtuRow(row, { ctx: DEFAULT_CONTEXT, site: 'erp.example.com', source: 'mysql', runner: 'direct' });
    expect(e.schedule?.spec.description).toBe('Sync stock levels');
  });
});
