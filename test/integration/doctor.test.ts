/**
 * `pyrq doctor` against real set-ups (issue 26): a healthy one (a Redis that persists,
 * a files source, the daemon leading, a real `rq worker` on the queue the schedule
 * uses) is all ok with exit 0; without a worker on that queue it warns naming the
 * queue (exit 3); with a MySQL source whose server is down it fails naming the source
 * (exit 4); with Redis down it fails naming Redis. Exit codes: docs/cli.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { FIXTURE_PYTHONPATH, RQ } from '../helpers/rq-worker.js';
import { tmpDir } from '../helpers/tmp-dir.js';

interface Finding {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

const QUEUE = 'doctor-q';
let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
let daemon: DaemonProcess;

beforeAll(async () => {
  // Persistent (AOF), so the persistence check is ok in the healthy set-up.
  server = await startRedis({ persistent: true });
  dir = tmpDir('pyrq-doctor-');
  schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
  writeFileSync(
    join(schedules, 'jobs.json'),
    JSON.stringify([{ id: 'nightly', function: 'pyrq_fixtures.tasks.heartbeat', cron: '0 3 * * *', queue: QUEUE }]),
  );
  daemon = await startDaemon(['--dir', schedules, '--redis-url', server.url, '--log-level', 'info'], {
    socket: join(dir.path, 'pyrq.sock'),
  });
  await daemon.waitForLog((l) => l.msg === 'became leader', 15_000);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await server?.close();
  dir?.cleanup();
});

const doctor = (extra: string[] = []) =>
  pyrq(['doctor', '--dir', schedules, '--redis-url', server.url, '--json', ...extra], {
    env: { PYRQ_CONFIG: '' },
    timeoutMs: 60_000,
  });

/** A real, long-running `rq worker` on `queue` (not --burst: it stays registered). */
async function startWorker(queue: string): Promise<ChildProcess> {
  const name = `doctor-${process.pid}-${Date.now()}`;
  const proc = spawn(RQ, ['worker', '--url', server.url, '--name', name, queue], {
    env: { ...process.env, PYTHONPATH: FIXTURE_PYTHONPATH },
    stdio: 'ignore',
  });
  const redis = server.client();
  try {
    await eventually(
      async () => (await redis.sismember(`rq:workers:${queue}`, `rq:worker:${name}`)) === 1,
      `worker ${name} registered`,
      30_000,
    );
  } finally {
    redis.disconnect();
  }
  return proc;
}

async function stopWorker(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM'); // a warm shutdown: RQ unregisters the worker
  await exited;
}

describe('pyrq doctor', () => {
  it('a healthy set-up: every check ok, exit 0', async () => {
    const worker = await startWorker(QUEUE);
    try {
      const r = await doctor();
      const report = r.json<{ worst: string; checks: Finding[] }>();
      expect(
        report.checks.filter((c) => c.status !== 'ok'),
        r.stdout,
      ).toEqual([]);
      expect(r.code, r.stderr).toBe(0);
      expect(report.worst).toBe('ok');
      const names = report.checks.map((c) => c.check);
      for (const n of [
        'redis',
        'redis persistence',
        'redis clock',
        'source files',
        'workers',
        'daemon',
        'orphans',
        'paused',
      ])
        expect(names, n).toContain(n);
      expect(report.checks.find((c) => c.check === 'workers')!.message).toContain(`"${QUEUE}"`);
      // The text form says the same, one line per check.
      const text = await pyrq(['doctor', '--dir', schedules, '--redis-url', server.url], { env: { PYRQ_CONFIG: '' } });
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^ok +workers +queue "doctor-q"/m);
      expect(text.stdout).toMatch(/0 warnings, 0 failures\.$/m);
    } finally {
      await stopWorker(worker);
    }
  }, 90_000);

  it('no live worker on a queue an enabled schedule uses: a warning naming the queue, exit 3', async () => {
    const r = await doctor();
    const report = r.json<{ worst: string; checks: Finding[] }>();
    expect(r.code, r.stdout).toBe(3);
    expect(report.worst).toBe('warn');
    const warn = report.checks.filter((c) => c.status === 'warn');
    expect(warn.map((c) => c.check)).toEqual(['workers']);
    expect(warn[0]!.message).toContain(`no live RQ worker listens on queue "${QUEUE}"`);
    expect(warn[0]!.fix).toContain(`rq worker --url ${server.url} ${QUEUE}`);
  }, 60_000);

  it('a MySQL source whose server is down: a failure naming the source, exit 4', async () => {
    const closed = await freePort(); // nothing listens there
    const r = await pyrq(
      [
        'doctor',
        '--dir',
        schedules,
        '--mysql-url',
        `mysql://root@127.0.0.1:${closed}/site1`,
        '--frappe-site',
        'site1.local',
        '--redis-url',
        server.url,
        '--json',
      ],
      { env: { PYRQ_CONFIG: '' }, timeoutMs: 60_000 },
    );
    const report = r.json<{ worst: string; checks: Finding[] }>();
    expect(r.code, r.stdout).toBe(4);
    const fail = report.checks.filter((c) => c.status === 'fail');
    expect(fail.map((c) => c.check)).toEqual(['source mysql']);
    expect(fail[0]!.message).toContain(`mysql://root@127.0.0.1:${closed}/site1`);
    expect(fail[0]!.message).toMatch(/cannot be read: .*ECONNREFUSED/);
    // The files source beside it is still read and ok.
    expect(report.checks.find((c) => c.check === 'source files')!.status).toBe('ok');
  }, 60_000);

  it('Redis down: a failure naming Redis; the checks that need it are skipped; exit 4', async () => {
    const closed = await freePort();
    const r = await pyrq(['doctor', '--dir', schedules, '--redis-url', `redis://127.0.0.1:${closed}`, '--json'], {
      env: { PYRQ_CONFIG: '' },
    });
    const report = r.json<{ checks: Finding[] }>();
    expect(r.code, r.stdout).toBe(4);
    expect(report.checks.map((c) => `${c.status} ${c.check}`)).toEqual(['fail redis', 'ok source files']);
    expect(report.checks[0]!.message).toContain(`127.0.0.1:${closed}`);
  }, 60_000);
});
