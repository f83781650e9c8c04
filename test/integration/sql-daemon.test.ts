import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { BIN, ROOT, pyrq } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { SQL_TEST_DRIVERS, type TestDb, type TestUser } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The acceptance for the running daemon: edits in the BTU tables reach the registry
// through the poll; losing database access keeps every schedule and `pyrq status` shows
// the source stale; getting it back applies what changed meanwhile. The database access is
// revoked from a throwaway user (the shared MariaDB and PostgreSQL servers are never
// stopped). Run once per driver.
describe.each(SQL_TEST_DRIVERS)('$name', (d) => {
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let user: TestUser;
  let dir: ReturnType<typeof tmpDir>;
  let daemon: ChildProcess;
  let logs = '';
  let env: Record<string, string | undefined>;
  let initial: string[] = [];

  const IDS = ['TS-000001', 'TS-000002', 'TS-000003', 'TS-000004', 'TS-000005', 'TS-000008'];

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await d.createDb();
    user = await db.createUser(['tabBTU Task Schedule', 'tabBTU Task', 'tabSingles']);
    dir = tmpDir();
    const config = join(dir.path, 'pyrq.toml');
    const port = new URL(db.url).port;
    writeFileSync(
      config,
      `[redis]\nurl = "${server.url}"\n\n[${d.name}]\nurl = "${d.scheme}//${user.name}@127.0.0.1:${port}/${db.name}"\npollInterval = "100ms"\nsite = "erp.example.com"\n\n[daemon]\nsocket = "${join(dir.path, 'pyrq.sock')}"\nresyncInterval = "1h"\n`,
    );
    // The direct runner: the expectations are about BTU's own columns (malformed overrides included).
    env = {
      PYRQ_BTU_RUNNER: 'direct',
      PYRQ_CONFIG: config,
      PYRQ_MYSQL_PASSWORD: undefined,
      PYRQ_POSTGRES_PASSWORD: undefined,
      [`PYRQ_${d.name.toUpperCase()}_PASSWORD`]: user.password,
      PYRQ_REDIS_URL: undefined,
      PYRQ_DIR: undefined,
      PYRQ_MYSQL_URL: undefined,
      PYRQ_POSTGRES_URL: undefined,
      PYRQ_FRAPPE_SITE: undefined,
    };
    const childEnv = { ...process.env, ...env } as Record<string, string | undefined>;
    for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
    daemon = spawn(process.execPath, [BIN, 'daemon', '--log-level', 'debug'], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout?.on('data', (d) => (logs += String(d)));
    daemon.stderr?.on('data', (d) => (logs += String(d)));
    // Every test starts from the first reconcile, whichever runs first.
    initial = await until('the first reconcile', ids, (v) => v.join() === IDS.join(), 30_000);
  });
  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      await new Promise<void>((resolve) => {
        daemon.once('exit', () => resolve());
        daemon.kill('SIGTERM');
      });
    }
    await server?.close();
    await db?.drop();
    dir?.cleanup();
  });

  /** Re-checks `cond` until it holds, for at most `timeout` ms; fails at once if the daemon died. */
  async function until<T>(what: string, get: () => Promise<T>, cond: (v: T) => boolean, timeout = 20_000): Promise<T> {
    const hit = await eventually(
      async () => {
        if (daemon.exitCode !== null) return { died: true as const };
        const v = await get();
        return cond(v) ? { died: false as const, v } : null;
      },
      { message: what, timeout, every: 50 },
    );
    if (hit.died) throw new Error(`the daemon exited (${daemon.exitCode}) while waiting for ${what}:\n${logs}`);
    return hit.v;
  }

  /** One message as BTU sends it: JSON without a newline; the reply is plain text. */
  function btu(requestType: string, content: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(join(dir.path, 'pyrq.sock'));
      s.on('connect', () => s.write(JSON.stringify({ request_type: requestType, request_content: content })));
      s.once('data', (data) => {
        s.destroy();
        resolve(String(data));
      });
      s.on('error', reject);
    });
  }

  const ids = async () => (await redis.hkeys('pyrq:index')).sort();
  const spec = async (id: string): Promise<Schedule | undefined> => {
    const s = await redis.hget(`pyrq:schedule:${id}`, 'spec');
    return s ? JSON.parse(s) : undefined;
  };
  const sqlHealth = async () => {
    const r = await pyrq(['status', '--json'], { env });
    return (r.json().sources as { source: string; stale: boolean; errors: string[] }[]).find(
      (s) => s.source === d.name,
    );
  };

  // The daemon, its Redis and the database belong to this `describe.each` block (its
  // beforeAll); each test edits rows no other test asserts on, so any order works.
  describe(`pyrq daemon with a BTU database (${d.driver.label})`, () => {
    it('applies the BTU schedules at start', async () => {
      expect(initial).toEqual(IDS);
      expect((await spec('TS-000003'))?.function).toBeTruthy();
    });

    it('picks up an edit of cron_string and modified through the poll', async () => {
      await db.exec(
        "UPDATE `tabBTU Task Schedule` SET cron_string = '10 2 * * *', modified = NOW(6) WHERE name = 'TS-000001'",
      );
      await until(
        'the edited cron',
        () => spec('TS-000001'),
        (s) => s?.cron === '10 2 * * *',
      );
    });

    it('losing access keeps every schedule and status shows the source stale; getting it back applies what changed meanwhile', async () => {
      // One test: the grant needs the revoke before it.
      await user.revoke();
      const h = await until(`a stale ${d.name} source in status`, sqlHealth, (x) => x?.stale === true);
      expect(h!.errors.join('\n')).toMatch(d.denied);
      expect(await ids()).toEqual(IDS);
      await db.exec(
        "UPDATE `tabBTU Task Schedule` SET enabled = 0, modified = NOW(6) WHERE name = 'TS-000002'; DELETE FROM `tabBTU Task Schedule` WHERE name = 'TS-000004'",
      );
      await user.grant();
      await until(
        'the meanwhile edits',
        async () => [await ids(), await spec('TS-000002')] as const,
        ([v, s]) => !v.includes('TS-000004') && s?.enabled === false,
      );
      await until(`a healthy ${d.name} source in status`, sqlHealth, (x) => x?.stale === false);
      expect(logs).not.toContain(user.password);
    });

    it("BTU's socket messages re-read that row at once: an edit the poll cannot see, then a cancel", async () => {
      // No `modified` bump and the same row count: the change token does not move.
      await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '20 2 * * *' WHERE name = 'TS-000001'");
      expect(await btu('create_task_schedule', 'TS-000001')).toBe(
        'BTU Scheduler now re-processing Task Schedule TS-000001 in Python RQ.',
      );
      expect((await spec('TS-000001'))?.cron).toBe('20 2 * * *');
      await db.exec("UPDATE `tabBTU Task Schedule` SET enabled = 0 WHERE name = 'TS-000001'");
      expect(await btu('cancel_task_schedule', 'TS-000001')).toBe(
        'Successfully cancelled BTU Task Schedule TS-000001 in Python RQ.',
      );
      expect((await spec('TS-000001'))?.enabled).toBe(false);
    });
  });
});
