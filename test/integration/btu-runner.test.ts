/**
 * BTU rows run through BTU's TaskRunner (`btu.runner = task-runner`, the default): the BTU
 * rows of a throwaway MariaDB database are applied with `pyrq apply --frappe-site
 * --frappe-bench-id`, fired by the dispatcher (a scheduled occurrence) and by `pyrq
 * trigger` (a manual run), and run by a real `rq worker --burst` (RQ 1.13) through the
 * stand-ins of Frappe's execute_job and BTU's task_runner in fixtures/python, which
 * record their calls. One schedule's task raises, so the worker calls BTU's failure
 * callback.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { ManualClock } from '../../src/clock.js';
import { Keys } from '../../src/redis/keys.js';
import { pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { burstWorker, type TaskCall, taskCalls } from '../helpers/rq-worker.js';
import { dispatchConfig } from '../helpers/schedules.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const mysql = SQL_TEST_DRIVERS.find((d) => d.name === 'mysql')!;
const BENCH = 'bench-7';
const SITE = 'erp.example.com';

describe("BTU rows run through BTU's TaskRunner by a real rq worker", () => {
  // One Redis server and one BTU database for the file; no test writes the database, and
  // Redis is emptied before each test, so each runs alone and in any order.
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await mysql.createDb();
    env = {
      PYRQ_CONFIG: undefined,
      PYRQ_DIR: undefined,
      PYRQ_POSTGRES_URL: undefined,
      PYRQ_MYSQL_URL: undefined,
      PYRQ_FRAPPE_SITE: undefined,
      PYRQ_FRAPPE_BENCH_ID: undefined,
      PYRQ_BTU_RUNNER: undefined,
      PYRQ_REDIS_URL: undefined,
    };
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });
  beforeEach(async () => void (await redis.flushall()));

  const cli = (args: string[]) =>
    pyrq(
      [...args, '--redis-url', server.url, '--mysql-url', db.url, '--frappe-site', SITE, '--frappe-bench-id', BENCH],
      { env },
    );

  it('applies BTU rows as run_task_by_id jobs (diff and apply take --frappe-site and --frappe-bench-id)', async () => {
    // Without a site, BTU mode says what is missing; the flag supplies it.
    const noSite = await pyrq(['diff', '--redis-url', server.url, '--mysql-url', db.url], { env });
    expect(noSite.code).toBe(1);
    expect(noSite.stderr).toContain('BTU mode needs the Frappe site');
    const applied = await cli(['apply', '--json']);
    // Exit 1: TS-000007's cron string is malformed (pyrq still reads it to know when to fire).
    // TS-000006's malformed argument_overrides are TaskRunner's to read now, not pyrq's.
    expect(applied.code, applied.stderr).toBe(1);
    const result = JSON.parse(applied.stdout) as { plan: { errors: { id?: string }[] }; summary: unknown };
    expect(result.plan.errors.map((e) => e.id)).toEqual(['TS-000007']);
    const diff = await cli(['diff']);
    expect(diff.stdout).toMatch(/no changes|nothing to do|up to date/i);

    const spec = JSON.parse((await redis.hget('pyrq:schedule:TS-000001', 'spec'))!);
    expect(spec).toMatchObject({
      function: 'btu.btu_core.task_runner.run_task_by_id',
      kwargs: { task_id: 'BTU-000000001', site_name: SITE, schedule_id: 'TS-000001' },
      jobIdKwarg: 'rq_job_id',
      onFailure: 'btu.btu_core.task_runner.on_btu_task_failure',
      // Stored with the bench id the apply was given (issue 26: the real queue).
      queue: `${BENCH}:long`,
      timeout: 900,
      overlap: 'forbid',
      site: SITE,
      target: 'frappe',
    });
    expect(await redis.exists('pyrq:schedule:TS-000006')).toBe(1);
  });

  it("fires them; the worker runs run_task_by_id with BTU's kwargs, rq_job_id the job's id, and a raising task gets on_btu_task_failure", async () => {
    // The same apply as above (TaskRunner, the default runner), made here: this test stands alone.
    const applied = await cli(['apply']);
    expect(applied.code, applied.stderr).toBe(1); // TS-000007's malformed cron string
    expect(await redis.exists('pyrq:schedule:TS-000001')).toBe(1);
    // One dispatcher tick at TS-000001's next fire time (queue long, 900 s) fires what is due then.
    const keys = new Keys();
    const clock = new ManualClock(Number(await redis.zscore(keys.next, 'TS-000001')));
    const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig({ benchId: BENCH, site: SITE }) });
    const tick = await d.tickOnce();
    const scheduled = new Map(tick.schedules.filter((s) => s.enqueued > 0).map((s) => [s.id, s.jobIds[0]!]));
    const j1 = scheduled.get('TS-000001')!;
    expect(j1).toBeDefined();
    // A manual run of a schedule the tick did not fire, whose task raises in the stand-in.
    const failing = ['TS-000003', 'TS-000004', 'TS-000005', 'TS-000002'].find((id) => !scheduled.has(id))!;
    const trig = await pyrq(['trigger', failing, '--json', '--redis-url', server.url], {
      env: { ...env, PYRQ_FRAPPE_BENCH_ID: BENCH },
    });
    expect(trig.code, trig.stderr).toBe(0);
    const failingJob = (JSON.parse(trig.stdout) as { jobId: string }).jobId;
    const rows: Record<string, { task: string; queue: string; timeout: string }> = {
      // The queue is the task's queue_name, as BTU's enqueue takes it (TS-000003's own "short" is not used).
      'TS-000001': { task: 'BTU-000000001', queue: 'long', timeout: '900' },
      'TS-000002': { task: 'BTU-000000001', queue: 'long', timeout: '900' },
      'TS-000003': { task: 'BTU-000000002', queue: 'default', timeout: '300' },
      'TS-000004': { task: 'BTU-000000003', queue: 'default', timeout: '3600' }, // max_task_duration 0: BTU's 3600
      'TS-000005': { task: 'BTU-000000004', queue: 'long', timeout: '1200' },
      'TS-000006': { task: 'BTU-000000002', queue: 'default', timeout: '300' },
    };
    const jobs = new Map([...scheduled, [failing, failingJob]]);
    // The schedule's queue (with the bench id) and BTU's timeout, and BTU's failure callback, on every job.
    for (const [id, jobId] of jobs) {
      expect(await redis.hmget(`rq:job:${jobId}`, 'origin', 'timeout', 'failure_callback_name'), id).toEqual([
        `${BENCH}:${rows[id]!.queue}`,
        rows[id]!.timeout,
        'btu.btu_core.task_runner.on_btu_task_failure',
      ]);
    }

    const queues = (await redis.smembers('rq:queues')).map((k) => k.slice('rq:queue:'.length));
    // The stand-ins record their calls in a directory of this test's own.
    const out = tmpDir();
    let calls: TaskCall[];
    process.env.BTU_STANDIN_FAIL = failing;
    try {
      const run = await burstWorker(server.url, queues, out.path);
      expect(run.code, run.output).toBe(0);
      calls = taskCalls(out.path);
    } finally {
      delete process.env.BTU_STANDIN_FAIL;
      out.cleanup();
    }

    const of = (task: string): TaskCall[] => calls.filter((c) => c.task === task);
    const runs = of('btu_run_task_by_id');
    expect(runs.map((c) => c.job_id).sort()).toEqual([...jobs.values()].sort());
    for (const c of runs) {
      const id = c.kwargs.schedule_id as string;
      // Exactly BTU's enqueue: no extra_arguments (TaskRunner applies the overrides), rq_job_id the running job's id.
      expect(c.kwargs, id).toEqual({
        task_id: rows[id]!.task,
        site_name: SITE,
        schedule_id: id,
        extra_arguments: null,
        rq_job_id: c.job_id,
      });
      expect(c.job_id).toBe(jobs.get(id));
      expect(c.meta?.pyrq?.schedule).toBe(id); // pyrq's trace stays on the job
    }
    // Frappe's execute_job got the method by its dotted path and exactly these kwargs.
    const exec = of('frappe_execute_job').find((c) => c.job_id === j1)!;
    expect(exec.kwargs).toMatchObject({
      site: SITE,
      method: 'btu.btu_core.task_runner.run_task_by_id',
      job_name: 'btu.btu_core.task_runner.run_task_by_id',
      kwargs: { task_id: 'BTU-000000001', site_name: SITE, schedule_id: 'TS-000001', rq_job_id: j1 },
    });
    expect(Object.keys(exec.kwargs.kwargs as object).sort()).toEqual([
      'rq_job_id',
      'schedule_id',
      'site_name',
      'task_id',
    ]);

    // Only the raising job made the worker call BTU's failure callback.
    const failures = of('btu_on_btu_task_failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.kwargs).toEqual({
      failed_job_id: failingJob,
      connection: 'Redis',
      exc_type: 'RuntimeError',
      exc_value: `BTU task ${rows[failing]!.task} failed (schedule ${failing})`,
      has_traceback: true,
    });
    expect(await redis.hget(`rq:job:${failingJob}`, 'status')).toBe('failed');
    expect(await redis.hget(`rq:job:${j1}`, 'status')).toBe('finished');
  });

  it('the direct runner (older BTU apps) calls function_string itself, with the merged arguments and no callback', async () => {
    const applied = await pyrq(['apply', '--redis-url', server.url, '--mysql-url', db.url, '--frappe-site', SITE], {
      env: { ...env, PYRQ_BTU_RUNNER: 'direct' },
    });
    expect(applied.code, applied.stderr).toBe(1); // TS-000006 and TS-000007
    const spec = JSON.parse((await redis.hget('pyrq:schedule:TS-000002', 'spec'))!);
    expect(spec).toMatchObject({
      function: 'pyrq_fixtures.btu_tasks.sync_stock',
      kwargs: { company: 'ACME', warehouse: 'Finished Goods - AC', days: 1, dry_run: false },
      overlap: 'forbid',
    });
    expect(spec.onFailure).toBeUndefined();
    expect(spec.jobIdKwarg).toBeUndefined();
    // TS-000006's malformed overrides are pyrq's to refuse again.
    expect(applied.stdout + applied.stderr).toContain('TS-000006');
  });
});
