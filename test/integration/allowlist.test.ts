import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { createThrowawayDb, type ThrowawayDb, type ThrowawayUser } from '../helpers/mysql.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/**
 * The function allowlist (config `allow`) applies to every source: the files, the BTU
 * table in MariaDB and schedules pushed over the socket. A refused schedule is an error
 * naming the function and the allowlist, it is never applied, and `pyrq status` shows
 * it: from the daemon, and from Redis after a daemon or a one-shot `pyrq apply`.
 */
// BTU rows run through BTU's TaskRunner (btu.runner = task-runner, the default): the job's
// function is BTU's run_task_by_id, which the allowlist must name, and each task's
// function_string must pass it too (docs/btu.md).
const ALLOW = ['pyrq_fixtures.tasks.*', 'pyrq_fixtures.btu_tasks.sync_stock', 'btu.btu_core.task_runner.*'];
const ALLOWED = /^(pyrq_fixtures\.tasks\.[a-z_]+|btu\.btu_core\.task_runner\.run_task_by_id)$/;
// The files say `function: "x" is not...`; BTU rows name their column, `function_string (BTU Task ...)`.
const REFUSED =
  /^"([a-z_.]+)" is not in the function allowlist \(allow = "pyrq_fixtures\.tasks\.\*", "pyrq_fixtures\.btu_tasks\.sync_stock", "btu\.btu_core\.task_runner\.\*"\)/;
const SITE = 'erp.example.com';

let server: PrivateRedis;
let redis: Redis;
let db: ThrowawayDb;
let user: ThrowawayUser;
let tmp: ReturnType<typeof tmpDir>;
let config: string;
let socket: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  db = await createThrowawayDb({ sqlFile: join(ROOT, 'fixtures', 'btu.sql') });
  user = await db.createUser(['tabBTU Task Schedule', 'tabBTU Task', 'tabSingles']);
  tmp = tmpDir('pyrq-allow-');
  cpSync(join(ROOT, 'fixtures', 'schedules'), join(tmp.path, 'schedules'), { recursive: true });
  socket = join(tmp.path, 'pyrq.sock');
  config = join(tmp.path, 'pyrq.toml');
  writeFileSync(
    config,
    [
      `allow = [${ALLOW.map((a) => JSON.stringify(a)).join(', ')}]`,
      `[redis]\nurl = "${server.url}"`,
      `[files]\ndir = "schedules"`,
      `[mysql]\nurl = "mysql://${user.name}@127.0.0.1:${new URL(user.url).port}/${db.name}"\nsite = "${SITE}"\npollInterval = "100ms"`,
      `[daemon]\nsocket = "${socket}"\nresyncInterval = "1h"`,
    ].join('\n\n'),
  );
  env = {
    PYRQ_CONFIG: config,
    PYRQ_MYSQL_PASSWORD: user.password,
    PYRQ_REDIS_URL: undefined,
    PYRQ_DIR: undefined,
    PYRQ_MYSQL_URL: undefined,
    PYRQ_SOCKET: undefined,
  };
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
  tmp?.cleanup();
});
// The server, database and config are the file's; no test writes the database, and Redis
// is emptied before each test, so each runs alone and in any order.
beforeEach(async () => void (await redis.flushall()));

interface PlanError {
  source: string;
  id?: string;
  path?: string;
  message: string;
}

/** The allowlist refusals among the errors, as `source id function`. */
const refusals = (errors: PlanError[]) =>
  errors
    .filter((e) => /^function/.test(e.path ?? '') && REFUSED.test(e.message))
    .map((e) => `${e.source} ${e.id} ${REFUSED.exec(e.message)![1]}`)
    .sort();

const appliedFunctions = async () => {
  const out: Record<string, string> = {};
  for (const id of await redis.hkeys('pyrq:index'))
    out[id] = JSON.parse((await redis.hget(`pyrq:schedule:${id}`, 'spec'))!).function;
  return out;
};

/** A one-shot `pyrq apply` of the files and MySQL; its allowlist refusals, as `source id function`. */
const applyAll = async (): Promise<string[]> => {
  const r = await pyrq(['apply', '--json'], { env });
  expect(r.code).toBe(1);
  return refusals(r.json().plan.errors as PlanError[]);
};

describe('the function allowlist', () => {
  it('apply refuses functions outside it from the files and from MySQL, and applies the rest', async () => {
    const refused = await applyAll();
    expect(refused.filter((x) => x.startsWith('files '))).toEqual([
      'files erp-daily-digest pyrq_fixtures.erp.daily_digest',
      'files erp-sync-stock pyrq_fixtures.erp.sync_stock',
    ]);
    const fromMysql = refused.filter((x) => x.startsWith('mysql '));
    expect(fromMysql.length).toBeGreaterThan(0);
    for (const x of fromMysql) expect(x).toMatch(/^mysql TS-\d+ pyrq_fixtures\.btu_tasks\.(?!sync_stock$)/);
    const applied = await appliedFunctions();
    for (const [id, fn] of Object.entries(applied)) expect(fn, id).toMatch(ALLOWED);
    // The BTU rows applied are exactly those whose task's function_string the allowlist passed.
    const rows = (await db.exec(
      'SELECT s.name, t.function_string FROM `tabBTU Task Schedule` s JOIN `tabBTU Task` t ON t.name = s.task',
    )) as { name: string; function_string: string }[];
    const taskFn = new Map(rows.map((r) => [r.name, r.function_string]));
    const appliedBtu = Object.keys(applied).filter((id) => taskFn.has(id));
    expect(appliedBtu.length).toBeGreaterThan(0);
    for (const id of appliedBtu) expect(taskFn.get(id), id).toBe('pyrq_fixtures.btu_tasks.sync_stock');
    expect(Object.keys(applied)).toHaveLength(
      11 +
        (await pyrq(['diff', '--json'], { env }))
          .json()
          .plan.sources.find((s: { source: string }) => s.source === 'mysql').schedules,
    );
  });

  it('status without a daemon shows the refusals that apply recorded; diff and validate show them too', async () => {
    const refused = await applyAll();
    const s = await pyrq(['status', '--no-daemon'], { env });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/Source files \(\S+\): ok, 11 schedules, 2 errors; as of .* ago, recorded by pyrq apply/);
    expect(s.stdout).toContain(
      '  ! erp/erpnext.yaml: schedules[1] (id "erp-daily-digest"): function: "pyrq_fixtures.erp.daily_digest" is not in the function allowlist',
    );
    const j = await pyrq(['status', '--no-daemon', '--json'], { env });
    const lines = (j.json().sources as { errors: string[] }[])
      .flatMap((x) => x.errors)
      .filter((e) => e.includes('is not in the function allowlist'));
    expect(lines).toHaveLength(refused.length);
    const d = await pyrq(['diff', '--json'], { env });
    expect(d.code).toBe(1);
    expect(refusals(d.json().plan.errors)).toEqual(refused);
    const v = await pyrq(['validate', join(tmp.path, 'schedules')], { env });
    expect(v.code).toBe(1);
    expect(v.stderr.match(/is not in the function allowlist/g)).toHaveLength(2);
  });

  describe('with the daemon', () => {
    // Each test gets its own daemon (one of them stops it), started after an apply whose
    // recorded health is dropped, so what status shows is the daemon's own.
    let daemon: DaemonProcess;
    let refused: string[];
    beforeEach(async () => {
      refused = await applyAll();
      await redis.del('pyrq:sources');
      daemon = await startDaemon([], { socket, env: env as Record<string, string> });
    });
    afterEach(async () => {
      await daemon?.stop(); // returns at once if the test stopped it
    });

    it('status over the socket shows the refusals of the files and MySQL sources', async () => {
      await daemon.waitForLog((l) => l.msg === 'reconcile', 30_000);
      const s = await pyrq(['status'], { env });
      expect(s.stdout).toMatch(/^Daemon: pid/);
      const j = await pyrq(['status', '--json'], { env });
      const bySource = Object.fromEntries(
        (j.json().sources as { source: string; errors: string[] }[]).map((x) => [
          x.source,
          x.errors.filter((e) => e.includes('is not in the function allowlist')).length,
        ]),
      );
      expect(bySource).toMatchObject({ files: 2, mysql: refused.filter((x) => x.startsWith('mysql ')).length });
    });

    it('a schedule pushed over the socket is refused too, and recorded health survives the daemon', async () => {
      const bad = join(tmp.path, 'push-bad.json');
      writeFileSync(bad, JSON.stringify({ id: 'pushed-evil', function: 'os.system', args: ['id'], every: '1h' }));
      const r = await pyrq(['push', bad], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('"os.system" is not in the function allowlist');
      expect(await redis.hexists('pyrq:index', 'pushed-evil')).toBe(0);
      const good = join(tmp.path, 'push-good.json');
      writeFileSync(good, JSON.stringify({ id: 'pushed-ok', function: 'pyrq_fixtures.tasks.heartbeat', every: '1h' }));
      expect((await pyrq(['push', good], { env })).code).toBe(0);
      expect(await redis.hexists('pyrq:index', 'pushed-ok')).toBe(1);

      await eventually(
        async () => (await redis.hget('pyrq:sources', 'mysql'))?.includes('is not in the function allowlist'),
        'the daemon recorded the mysql refusals',
        10_000,
      );
      expect(await daemon.stop()).toBe(0);
      const s = await pyrq(['status', '--no-daemon'], { env });
      expect(s.stdout).toMatch(/^Not asking a daemon \(--no-daemon\); from Redis \(source health as last recorded\)/);
      expect(s.stdout.match(/is not in the function allowlist/g)!.length).toBe(refused.length);
    });
  });
});
