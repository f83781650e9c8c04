/**
 * Issue 27 point 7: one pyrq serving a Frappe bench of several sites. Each site has its own
 * database with BTU's tables, and BTU's ids repeat across sites: all three throwaway
 * databases here (two MariaDB, one PostgreSQL) hold the same TS-000001. The config names
 * one `[[sql]]` source per site, each with its own Frappe site and bench id; the ids are
 * namespaced by source (`site1.TS-000001`), every site's TS-000001 fires into its own
 * queue for its own site, and a real `rq worker` runs them. A BTU command, which names no
 * site, acts on the id in every site.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { parsePrometheusText } from '../helpers/prom-text.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { burstWorker, taskCalls } from '../helpers/rq-worker.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { sendBtuCommand } from '../helpers/btu-command.js';

const mysql = SQL_TEST_DRIVERS.find((d) => d.name === 'mysql')!;
const postgres = SQL_TEST_DRIVERS.find((d) => d.name === 'postgres')!;

/** The sites of the bench: source name, Frappe site, bench id, and the database's driver. */
const SITES = [
  { name: 'site1', site: 'site1.example.com', bench: 'bench-a', driver: mysql },
  { name: 'site2', site: 'site2.example.com', bench: 'bench-b', driver: mysql },
  { name: 'site3', site: 'site3.example.com', bench: 'bench-c', driver: postgres },
] as const;

describe('several sites of a bench ([[sql]]), each with the same TS-000001', () => {
  let server: PrivateRedis;
  let redis: Redis;
  const dbs: TestDb[] = [];
  let dir: ReturnType<typeof tmpDir>;
  let configPath: string;

  const spec = async (id: string): Promise<Record<string, unknown> | null> => {
    const s = await redis.hget(`pyrq:schedule:${id}`, 'spec');
    return s ? (JSON.parse(s) as Record<string, unknown>) : null;
  };
  /** Runs a statement (MySQL spelling; the PostgreSQL helper translates) in the site's database. */
  const inSite = (i: number, sql: string) => dbs[i]!.exec(sql);

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    for (const s of SITES) dbs.push(await s.driver.createDb());
    dir = tmpDir();
    configPath = join(dir.path, 'pyrq.toml');
    // A poll far longer than the tests: in the daemon, only BTU's commands bring a change in.
    writeFileSync(
      configPath,
      SITES.map(
        (s, i) =>
          `[[sql]]\nname = "${s.name}"\nurl = "${dbs[i]!.url}"\npollInterval = "10m"\nfrappe.site = "${s.site}"\nfrappe.benchId = "${s.bench}"\n`,
      ).join('\n'),
    );
  });
  afterAll(async () => {
    await server?.close();
    for (const db of dbs) await db.drop();
    dir?.cleanup();
  });

  const env = () => ({
    PYRQ_BTU_RUNNER: 'direct',
    PYRQ_REDIS_URL: server.url,
    PYRQ_CONFIG: configPath,
    PYRQ_DIR: undefined,
    PYRQ_MYSQL_URL: undefined,
    PYRQ_POSTGRES_URL: undefined,
    PYRQ_FRAPPE_SITE: undefined,
    PYRQ_FRAPPE_BENCH_ID: undefined,
  });

  it("every site's TS-000001 is scheduled under its own id and fires into its own queue for its own site on a real rq worker", async () => {
    // This test's own registry: the daemon tests below may have run first (any order).
    await redis.flushall();
    // The fixture has rows that do not map (its error cases): apply reports them, per site.
    const applied = (await pyrq(['apply', '--json'], { env: env() })).json();
    expect(JSON.stringify(applied)).toContain('site3.TS-000001');
    const rows = (await pyrq(['status', '--no-daemon', '--json'], { env: env() })).json().schedules as {
      id: string;
      source: string;
      queue: string;
      next: string;
    }[];
    const ts1 = rows.filter((r) => r.id.endsWith('.TS-000001')).sort((a, b) => a.id.localeCompare(b.id));
    expect(ts1.map((r) => [r.id, r.source, r.queue])).toEqual(
      SITES.map((s) => [`${s.name}.TS-000001`, s.name, `${s.bench}:long`]),
    );
    // No row kept its bare id: equal ids on two sites never meet.
    expect(rows.filter((r) => !/^site[123]\./.test(r.id))).toEqual([]);
    for (const s of SITES) expect((await spec(`${s.name}.TS-000001`))?.site).toBe(s.site);

    // The three fire at the same time (the same fixture row); tick fires all of them.
    const tick = (await pyrq(['tick', '--at', ts1[0]!.next, '--force', '--json'], { env: env() })).json();
    const fired = new Map(
      (tick.schedules as { id: string; jobIds: string[] }[]).map((s) => [s.id, s.jobIds[0]] as const),
    );
    for (const s of SITES) {
      const job = fired.get(`${s.name}.TS-000001`);
      expect(job, `${s.name}.TS-000001 fired`).toBeDefined();
      expect(await redis.lrange(`rq:queue:${s.bench}:long`, 0, -1)).toContain(job);
    }

    const out = tmpDir();
    try {
      const run = await burstWorker(
        server.url,
        SITES.map((s) => `${s.bench}:long`),
        out.path,
      );
      expect(run.code, run.output).toBe(0);
      const calls = taskCalls(out.path).filter((c) => c.task === 'frappe_execute_job');
      for (const s of SITES) {
        const mine = calls.filter((c) => c.job_id === fired.get(`${s.name}.TS-000001`));
        expect(mine, `${s.name}'s job ran once`).toHaveLength(1);
        expect(mine[0]!.kwargs).toMatchObject({ site: s.site, method: 'pyrq_fixtures.btu_tasks.sync_stock' });
      }
    } finally {
      out.cleanup();
    }
  });

  describe('through a daemon, BTU commands (which name no site)', () => {
    let daemon: DaemonProcess;
    let httpPort: number;

    const send = (requestType: string, id: string): Promise<unknown> => sendBtuCommand(redis, requestType, id);

    beforeAll(async () => {
      const e = Object.fromEntries(Object.entries(env()).map(([k, v]) => [k, v ?? '']));
      httpPort = await freePort();
      daemon = await startDaemon([], {
        socket: join(dir.path, 'd.sock'),
        env: { ...e, PYRQ_BTU_RPC: '', PYRQ_HTTP: `127.0.0.1:${httpPort}` },
      });
      await eventually(
        async () => (await Promise.all(SITES.map((s) => spec(`${s.name}.TS-000002`)))).every((x) => x),
        "every site's rows are applied",
        15_000,
      );
    });
    afterAll(async () => {
      await daemon?.stop();
    });

    it("status groups by source: one line per site, each with its own database and its rows' count", async () => {
      const status = (await daemon.ask({ op: 'status' })).result as {
        sources: { source: string; stale: boolean; schedules: number; location?: string }[];
        schedules: { id: string; source: string }[];
      };
      const sites = status.sources.filter((s) => s.source.startsWith('site'));
      expect(sites.map((s) => [s.source, s.stale])).toEqual(SITES.map((s) => [s.name, false]));
      SITES.forEach((s, i) => {
        expect(sites[i]!.location).toContain(dbs[i]!.name);
        const mine = status.schedules.filter((r) => r.source === s.name);
        expect(mine.length).toBe(sites[i]!.schedules);
        expect(mine.every((r) => r.id.startsWith(`${s.name}.`))).toBe(true);
      });
    });

    it('the metrics and the status page have each site as a source of its own', async () => {
      const metrics = parsePrometheusText(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
      for (const s of SITES) expect(metrics.value('pyrq_source_up', { source: s.name }), s.name).toBe(1);
      const page = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
      for (const s of SITES) expect(page).toContain(`${s.name}.TS-000001`);
    });

    it('create_task_schedule applies the edited row of every site that edited it', async () => {
      await inSite(0, "UPDATE `tabBTU Task Schedule` SET cron_string = '11 5 * * *' WHERE name = 'TS-000001'");
      await inSite(1, "UPDATE `tabBTU Task Schedule` SET cron_string = '22 5 * * *' WHERE name = 'TS-000001'");
      try {
        expect(await send('create_task_schedule', 'TS-000001')).toMatchObject({ status: 'ok' });
        await eventually(
          async () =>
            (await spec('site1.TS-000001'))?.cron === '11 5 * * *' &&
            (await spec('site2.TS-000001'))?.cron === '22 5 * * *',
          'both sites edited',
          5_000,
        );
        expect((await spec('site3.TS-000001'))?.cron).toBe('0 2 * * *'); // its row did not change
      } finally {
        // The databases are the file's: leave the fixture's row as found (tests run in any order).
        for (const i of [0, 1])
          await inSite(i, "UPDATE `tabBTU Task Schedule` SET cron_string = '0 2 * * *' WHERE name = 'TS-000001'");
      }
    });

    it("cancel_task_schedule stops the id in every site that disabled it; another site's row decides for itself", async () => {
      for (const i of [0, 1]) await inSite(i, "UPDATE `tabBTU Task Schedule` SET enabled = 0 WHERE name = 'TS-000002'");
      try {
        expect(await send('cancel_task_schedule', 'TS-000002')).toMatchObject({ status: 'ok' });
        await eventually(
          async () =>
            (await spec('site1.TS-000002'))?.enabled === false && (await spec('site2.TS-000002'))?.enabled === false,
          'both sites cancelled',
          5_000,
        );
        // site3 still has TS-000002 enabled: held while the commit is awaited (the command names no
        // site), then its committed row decides and it is enabled again (docs/btu.md).
        await eventually(async () => (await spec('site3.TS-000002'))?.enabled === true, 'site3 keeps it', 20_000, 100);
        expect((await spec('site1.TS-000002'))?.enabled).toBe(false);
      } finally {
        for (const i of [0, 1])
          await inSite(i, "UPDATE `tabBTU Task Schedule` SET enabled = 1 WHERE name = 'TS-000002'");
      }
    });
  });
});
