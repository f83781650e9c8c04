import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { readHistory } from '../../src/dispatch/history.js';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { Keys } from '../../src/redis/keys.js';
import { Registry } from '../../src/registry/registry.js';
import { parseJobId } from '../../src/rq/job-id.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { FileSource } from '../../sources/files/file-source.js';
import { ROOT } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { burstWorker, type TaskCall, taskCalls } from '../helpers/rq-worker.js';
import { dispatchConfig } from '../helpers/schedules.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The acceptance test of the product: the shipped fixtures are applied, fired with a
// controlled clock, and a stock `rq worker --burst` (Debian's python3-rq) runs the jobs.
// The Python task functions record every call; the test checks those side effects for
// plain RQ jobs and for Frappe-target jobs (through the fake frappe package in fixtures).
let server: PrivateRedis;
let redis: Redis;
let out: ReturnType<typeof tmpDir>;
const keys = new Keys();
const BENCH = 'test-bench';
const clock = new ManualClock(Date.parse('2026-06-01T03:59:00Z')); // Monday, 1 June

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  out = tmpDir();
});
afterAll(async () => {
  await server.close();
  out.cleanup();
});

describe('fixtures fired and run by a real rq worker', () => {
  it('runs every enqueued job exactly once with the payload of its schedule, for both targets', async () => {
    const registry = new Registry(redis);
    const source = new FileSource({ dir: join(ROOT, 'fixtures', 'schedules'), ctx: DEFAULT_CONTEXT });
    const applied = await reconcileOnce({ sources: [source], registry, clock });
    expect(applied.plan.errors).toEqual([]);
    const specs = new Map((await registry.readEntries()).map((e) => [e.id, e.spec!]));

    // What was enqueued, per schedule, as the ticks report it.
    const enqueued = new Map<string, { jobId: string; occurrence: string }[]>();
    const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig({ benchId: BENCH }) });
    for (const t of ['2026-06-01T04:00:00Z', '2026-06-01T06:00:00Z', '2026-06-01T11:00:00Z']) {
      clock.set(Date.parse(t));
      for (const s of (await d.tickOnce()).schedules) {
        // Planned jobs that exist were enqueued; the others were refused in the script
        // (cleanup-temp is overlap "forbid", and its first job waits for the worker).
        const made = [];
        for (const jobId of s.jobIds)
          if (await redis.exists(`rq:job:${jobId}`))
            made.push({ jobId, occurrence: new Date(parseJobId(jobId)!.time).toISOString() });
        expect(made.length).toBe(s.enqueued);
        if (made.length > 0) enqueued.set(s.id, [...(enqueued.get(s.id) ?? []), ...made]);
      }
    }
    // The last run of each is also in its history.
    for (const [id, jobs] of enqueued) {
      const [last] = (await readHistory(redis, keys, id, 50)).filter((r) => r.outcome === 'enqueued');
      expect(last?.jobId).toBe(jobs.at(-1)!.jobId);
    }
    // The schedules due in the three ticks, for both targets.
    expect([...enqueued.keys()].sort()).toEqual([
      'cache-warm',
      'cleanup-temp',
      'dunning-reminders',
      'erp-daily-digest',
      'erp-sync-stock',
      'heartbeat',
      'monthly-statements',
      'sales-digest',
      'weekly-report',
    ]);
    expect(await redis.smembers('rq:queues')).toEqual(
      expect.arrayContaining([
        'rq:queue:default',
        'rq:queue:billing',
        'rq:queue:reports',
        'rq:queue:low',
        `rq:queue:${BENCH}:long`,
        `rq:queue:${BENCH}:short`,
      ]),
    );

    const queues = (await redis.smembers('rq:queues')).map((k) => k.slice('rq:queue:'.length));
    const w = await burstWorker(server.url, queues, out.path);
    expect(w.code, w.output).toBe(0);
    for (const q of queues) {
      expect(await redis.llen(`rq:queue:${q}`)).toBe(0);
      expect(await redis.zcard(`rq:failed:${q}`), `failed jobs on ${q}:\n${w.output}`).toBe(0);
    }

    const calls = taskCalls(out.path);
    const byJob = new Map<string, TaskCall[]>();
    for (const c of calls) byJob.set(c.job_id!, [...(byJob.get(c.job_id!) ?? []), c]);
    let jobs = 0;
    for (const [id, runs] of enqueued) {
      const spec = specs.get(id)!;
      for (const { jobId, occurrence } of runs) {
        jobs++;
        expect(await redis.hget(`rq:job:${jobId}`, 'status')).toBe('finished');
        const got = byJob.get(jobId) ?? [];
        // Every call knows its schedule and occurrence through job.meta.
        for (const c of got)
          expect(c.meta?.pyrq).toEqual({ schedule: id, occurrence, trigger: 'schedule', hash: expect.any(String) });
        if (spec.target === 'frappe') {
          // execute_job(site, method, event, job_name, kwargs, user, is_async), then the method itself.
          expect(got.map((c) => c.task)).toEqual([
            'frappe_execute_job',
            spec.function.split('.').pop() === 'sync_stock' ? 'erp_sync_stock' : 'erp_daily_digest',
          ]);
          expect(got[0]!.args).toEqual([]);
          expect(got[0]!.kwargs).toEqual({
            site: spec.site,
            method: spec.function,
            event: null,
            job_name: spec.function,
            kwargs: spec.kwargs,
            user: spec.user,
            is_async: true,
            retry: 0,
          });
          expect(got[1]!.kwargs).toEqual(spec.kwargs);
        } else {
          expect(got).toHaveLength(1);
          expect([got[0]!.args, got[0]!.kwargs]).toEqual([spec.args, spec.kwargs]);
        }
      }
    }
    // Nothing ran that was not enqueued, and nothing twice.
    expect(byJob.size).toBe(jobs);
    expect(calls.filter((c) => c.task !== 'frappe_execute_job').length).toBe(jobs);
    // Frappe's defaults for its queues: the long queue's jobs have a 1500 s timeout.
    const [sync] = enqueued.get('erp-sync-stock')!;
    expect(await redis.hmget(`rq:job:${sync!.jobId}`, 'origin', 'timeout')).toEqual([`${BENCH}:long`, '1500']);
    expect(specs.get('erp-daily-digest')!.user).toBe('reports@example.com');
  });
});
