import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { Keys } from '../../src/redis/keys.js';
import { Registry } from '../../src/registry/registry.js';
import { SqlSource } from '../../sources/sql/sql-source.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { burstWorker, taskCalls } from '../helpers/rq-worker.js';
import { dispatchConfig } from '../helpers/schedules.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// End to end: a BTU row in MariaDB or PostgreSQL -> the SQL source -> the registry -> the
// dispatcher enqueues it on the Frappe queue -> a real `rq worker` runs the fake Frappe
// execute_job (fixtures/python/frappe), which calls the task's function with the merged
// kwargs. Run once per driver.
describe.each(SQL_TEST_DRIVERS)('$name', (d) => {
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let out: ReturnType<typeof tmpDir>;
  const SITE = 'erp.example.com';
  const BENCH = 'frappe-bench';

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await d.createDb();
    out = tmpDir();
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    out?.cleanup();
  });

  describe('a BTU schedule row, end to end', () => {
    it('fires into the Frappe queue and a real rq worker runs execute_job with the function path and merged kwargs', async () => {
      // Monday 2026-06-01 15:00 UTC (17:00 in Berlin): TS-000002 ("30 */4 * * 1-5", Europe/Berlin)
      // is next due at 20:30 Berlin, 18:30 UTC; nothing else is due before then.
      const clock = new ManualClock(Date.parse('2026-06-01T15:00:00Z'));
      const source = new SqlSource({
        driver: d.driver,
        config: { url: db.url, mode: 'btu', pollIntervalMs: 5000 },
        ctx: DEFAULT_CONTEXT,
        site: SITE,
      });
      try {
        await redis.flushall(); // its own registry: the CLI test below may have run first
        const registry = new Registry(redis);
        const r = await reconcileOnce({ sources: [source], registry, clock });
        expect(r.applied?.created).toEqual([
          'TS-000001',
          'TS-000002',
          'TS-000003',
          'TS-000004',
          'TS-000005',
          'TS-000008',
        ]);
      } finally {
        await source.close();
      }
      const [entry] = await new Registry(redis).readEntries(['TS-000002']);
      expect(new Date(entry!.next!).toISOString()).toBe('2026-06-01T18:30:00.000Z');

      const dispatcher = new Dispatcher({
        redis,
        keys: new Keys(),
        clock,
        config: dispatchConfig({ benchId: BENCH, site: SITE }),
      });
      clock.set(Date.parse('2026-06-01T18:30:00.020Z'));
      const tick = await dispatcher.tickOnce();
      expect(tick.schedules.map((s) => [s.id, s.enqueued])).toEqual([['TS-000002', 1]]);
      const queue = `${BENCH}:default`;
      expect(await redis.llen(`rq:queue:${queue}`)).toBe(1);
      expect(await redis.hget(`rq:job:${tick.schedules[0]!.jobIds[0]}`, 'timeout')).toBe('900');

      const run = await burstWorker(server.url, [queue], out.path);
      expect(run.code, run.output).toBe(0);
      const calls = taskCalls(out.path);
      const kwargs = { company: 'ACME', warehouse: 'Finished Goods - AC', days: 1, dry_run: false };
      expect(calls.map((c) => c.task)).toEqual(['frappe_execute_job', 'btu_sync_stock']);
      expect(calls[0]!.kwargs).toMatchObject({
        site: SITE,
        method: 'pyrq_fixtures.btu_tasks.sync_stock',
        kwargs,
        user: 'Administrator',
        is_async: true,
      });
      expect(calls[1]!.kwargs).toEqual(kwargs);
      expect(calls[1]!.job_id).toBe(tick.schedules[0]!.jobIds[0]);
    });

    it(`the same through the built CLI: pyrq apply --${d.name}-url, pyrq tick --at, rq worker`, async () => {
      await redis.flushall();
      const outDir = tmpDir();
      try {
        // The direct runner: the row's own function and merged arguments (btu-runner.test.ts: task-runner).
        const env = {
          PYRQ_BTU_RUNNER: 'direct',
          PYRQ_REDIS_URL: server.url,
          PYRQ_FRAPPE_SITE: SITE,
          PYRQ_FRAPPE_BENCH_ID: BENCH,
          PYRQ_CONFIG: undefined,
          PYRQ_DIR: undefined,
          PYRQ_MYSQL_URL: undefined,
          PYRQ_POSTGRES_URL: undefined,
        };
        expect((await pyrq(['apply', `--${d.name}-url`, db.url], { env })).stdout).toMatch(/6 created/);
        const row = (await pyrq(['status', 'TS-000001', '--no-daemon', '--json'], { env })).json().schedules[0];
        expect(row).toMatchObject({
          id: 'TS-000001',
          cron: '0 2 * * *',
          timezone: 'America/New_York',
          queue: `${BENCH}:long`, // stored with the bench id (issue 26: status shows the real queue)
          source: d.name,
          origin: 'tabBTU Task Schedule',
        });
        const tick = (await pyrq(['tick', '--at', row.next, '--force', '--json'], { env })).json();
        const fired = (tick.schedules as { id: string; jobIds: string[] }[]).find((s) => s.id === 'TS-000001')!;
        expect(fired.jobIds).toHaveLength(1);
        expect(await redis.lrange(`rq:queue:${BENCH}:long`, 0, -1)).toContain(fired.jobIds[0]);

        const run = await burstWorker(server.url, [`${BENCH}:long`], outDir.path);
        expect(run.code, run.output).toBe(0);
        const mine = taskCalls(outDir.path).filter((c) => c.job_id === fired.jobIds[0]);
        const kwargs = { company: 'ACME', warehouse: 'Stores - AC', days: 7, dry_run: false };
        expect(mine.map((c) => c.task)).toEqual(['frappe_execute_job', 'btu_sync_stock']);
        expect(mine[0]!.kwargs).toMatchObject({ site: SITE, method: 'pyrq_fixtures.btu_tasks.sync_stock', kwargs });
        expect(mine[1]!.kwargs).toEqual(kwargs);
      } finally {
        outDir.cleanup();
      }
    });
  });
});
