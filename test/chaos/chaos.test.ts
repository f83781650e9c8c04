import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { startWorldDaemon, worldDaemonConfig } from '../helpers/daemon-world.js';
import { appliedCount, desiredHashes, firedSince, killMidApply, queuedOccurrences } from '../helpers/faults.js';
import { startMariaDb } from '../helpers/private-mariadb.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The long crash and fault loops (npm run test:chaos). Real processes throughout:
// kill -9 at random moments, Redis and MariaDB restarted, a log file deleted.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  dir = tmpDir();
  schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  await server?.close();
  dir.cleanup();
});

/** The tests' usual daemon configuration (daemon-world.ts); `extra` goes before the first table. */
const config = (name: string, extra = ''): string => worldDaemonConfig({ server, dir }, name, { top: extra });
const daemon = (name: string, args: string[] = [], extra = ''): Promise<DaemonProcess> =>
  startWorldDaemon({ server, dir }, name, { top: extra, args }, daemons);

function expectContiguous(occ: number[], periodMs: number, label: string): void {
  expect(occ.length, label).toBeGreaterThan(0);
  expect(new Set(occ).size, `${label}: no occurrence twice`).toBe(occ.length);
  for (let i = 1; i < occ.length; i++)
    expect(occ[i]! - occ[i - 1]!, `${label}: none lost before ${new Date(occ[i]!).toISOString()}`).toBe(periodMs);
}

const FAST = ['fast-a', 'fast-b', 'fast-c'];

function writeSchedules(version: number): Map<string, string> {
  const list: Record<string, unknown>[] = [];
  for (let i = 0; i < 3000; i++)
    list.push({
      id: `bulk-${i}`,
      function: 'app.tasks.run',
      cron: `${i % 60} ${i % 24} * * *`,
      timezone: ['UTC', 'Europe/Berlin', 'America/New_York'][i % 3],
      kwargs: { version, i },
    });
  for (const id of FAST) list.push({ id, function: 'app.tasks.run', every: 1, catchup: 'all' });
  writeFileSync(join(schedules, 'bulk.json'), JSON.stringify(list));
  return desiredHashes(list);
}

describe('kill -9 loop', () => {
  it('20 kills during large applies and bursts of fires: the registry converges, every occurrence is queued exactly once', async () => {
    server = await startRedis();
    redis = server.client();
    let desired = writeSchedules(0);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const landed: number[] = [];
    for (let round = 0; round < 20; round++) {
      if (round % 2 === 1) {
        // Every other round changes all 3003 schedules, and the daemon is killed once its
        // first apply batch ran; the others never reach Redis (faults.ts killMidApply):
        // mid-apply by construction, and checked.
        desired = writeSchedules(round);
        const { daemon: d, applied } = await killMidApply(
          server,
          redis,
          (url) => startWorldDaemon({ server, dir }, `k${round}`, { env: { PYRQ_REDIS_URL: url } }, daemons),
          desired,
        );
        daemons.splice(daemons.indexOf(d), 1);
        expect(applied, `round ${round}: killed mid-apply`).toBeGreaterThan(0);
        expect(applied, `round ${round}: killed mid-apply`).toBeLessThan(desired.size);
        landed.push(applied);
      } else {
        // The others are killed at a random moment of their leadership: finishing the
        // apply left over, catching up missed occurrences, or firing.
        const d = await daemon(`k${round}`);
        await d.waitForLog((l) => l.msg === 'became leader', 15_000);
        await new Promise((r) => setTimeout(r, 50 + Math.floor(random() * 1500)));
        await d.stop('SIGKILL');
        daemons.splice(daemons.indexOf(d), 1);
      }
    }
    console.info(`kill -9 landed mid-apply with ${landed.join(', ')} of ${desired.size} changes applied`);
    const final = await daemon('final');
    const led = await final.waitForLog((l) => l.msg === 'became leader', 15_000);
    await eventually(
      async () =>
        (await appliedCount(redis, desired)) === desired.size && (await redis.hlen('pyrq:index')) === desired.size,
      'registry equals the desired state',
      30_000,
    );
    // Firing resumed under the last leader, for every fast schedule.
    const resumed = Math.ceil(Date.parse(String(led.time)) / 1000) * 1000;
    for (const id of FAST) await firedSince(redis, 'default', id, resumed, 3);
    expect(await final.stop()).toBe(0);
    expect(await redis.zcard('pyrq:next')).toBe(desired.size);
    const queued = await redis.lrange('rq:queue:default', 0, -1);
    expect(new Set(queued).size, 'no job id twice in the queue').toBe(queued.length);
    for (const id of FAST) expectContiguous(await queuedOccurrences(redis, 'default', id), 1000, id);
  }, 300_000);
});

describe('Redis restarted mid-run (with persistence)', () => {
  it('no occurrence lost or doubled across a Redis restart, and firing resumes after it', async () => {
    server = await startRedis({ persistent: true });
    redis = server.client();
    writeFileSync(
      join(schedules, 'tick.json'),
      JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'all' }),
    );
    const d = await daemon('r');
    await firedSince(redis, 'default', 'tick', 0, 3);
    const stopped = Date.now();
    await server.stop();
    await new Promise((r) => setTimeout(r, 2500)); // the outage itself
    await server.restart();
    const restarted = Date.now();
    // Firing resumed: occurrences after the restart are queued (the daemon lost its lease
    // during the outage and had to win it again)...
    await firedSince(redis, 'default', 'tick', Math.ceil(restarted / 1000) * 1000, 3, 30_000);
    expect(await d.stop()).toBe(0);
    // ...and the ones due during the outage were caught up: no gap, nothing twice.
    const occ = await queuedOccurrences(redis, 'default', 'tick');
    expect(occ[0]!).toBeLessThan(stopped);
    expectContiguous(occ, 1000, 'tick');
  }, 60_000);
});

describe('MariaDB stopped mid-run', () => {
  it('schedules stay, the source is stale, and changes made meanwhile apply on recovery', async () => {
    server = await startRedis();
    redis = server.client();
    const db = await startMariaDb();
    try {
      const admin = await createConnection({
        host: '127.0.0.1',
        port: db.port,
        user: 'root',
        multipleStatements: true,
      });
      await admin.query('CREATE DATABASE erp; USE erp;');
      await admin.query(readFileSync(join(ROOT, 'fixtures', 'btu.sql'), 'utf8'));
      await admin.end();
      const d = await daemon(
        'm',
        ['--mysql-url', `${db.url}/erp`],
        'timezone = "UTC"\n[frappe]\nsite = "erp.example.com"\n[mysql]\npollInterval = "500ms"\n',
      );
      await eventually(async () => (await redis.hlen('pyrq:index')) > 0, 'BTU schedules applied', 20_000);
      const before = (await redis.hkeys('pyrq:index')).sort();
      await db.stop();
      const stale = await eventually(
        async () => {
          const r = await d.ask({ op: 'status' });
          const m = (r.result as { sources: { source: string; stale: boolean }[] }).sources.find(
            (s) => s.source === 'mysql',
          );
          return m?.stale ? m : null;
        },
        'mysql source stale',
        20_000,
      );
      expect(stale.stale).toBe(true);
      await d.ask({ op: 'reconcile' });
      expect((await redis.hkeys('pyrq:index')).sort()).toEqual(before);
      await db.start();
      const c = await createConnection({ host: '127.0.0.1', port: db.port, user: 'root', database: 'erp' });
      const [rows] = await c.query('SELECT name FROM `tabBTU Task Schedule` WHERE enabled = 1 ORDER BY name LIMIT 1');
      const name = (rows as { name: string }[])[0]!.name;
      await c.query("UPDATE `tabBTU Task Schedule` SET cron_string = '7 7 * * *', modified = NOW(6) WHERE name = ?", [
        name,
      ]);
      await c.end();
      await eventually(
        async () => JSON.parse((await redis.hget(`pyrq:schedule:${name}`, 'spec')) ?? '{}').cron === '7 7 * * *',
        'change made during the outage applied',
        30_000,
      );
    } finally {
      await db.close();
    }
  }, 180_000);
});

describe('the log file deleted while running', () => {
  it('the daemon keeps running; SIGUSR2 recreates the file and logging resumes', async () => {
    server = await startRedis();
    redis = server.client();
    writeFileSync(join(schedules, 'a.json'), JSON.stringify({ id: 'a', function: 'app.tasks.run', every: 60 }));
    const log = join(dir.path, 'pyrq.log');
    const sock = join(dir.path, 'l.sock');
    const d = await startDaemon(['--config', config('l'), '--log-file', log], { socket: sock, waitReady: false });
    daemons.push(d);
    await eventually(
      async () => existsSync(log) && readFileSync(log, 'utf8').includes('pyrq daemon started'),
      'logging',
    );
    rmSync(log);
    expect((await d.ask({ op: 'reconcile' })).ok).toBe(true);
    expect(d.proc.exitCode).toBeNull();
    d.proc.kill('SIGUSR2');
    await eventually(async () => existsSync(log), 'log file recreated');
    await d.ask({ op: 'reconcile' });
    await eventually(async () => readFileSync(log, 'utf8').includes('"msg":"reconcile"'), 'lines in the new file');
  }, 60_000);
});
