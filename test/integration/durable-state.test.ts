import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 26, point 3: pushed schedules and pauses survive a Redis that restarts empty,
// and a daemon restart, by default (the daemon's state file), with no extra flag.

/** The bound for both to be back after Redis comes back empty. */
const BACK_WITHIN_MS = 10_000;

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let files: string;
let stateDir: string;
let env: Record<string, string | undefined>;
let daemon: DaemonProcess | undefined;

const start = async () => {
  daemon = await startDaemon(['--dir', files, '--redis-url', server.url], {
    socket: join(dir.path, 's'),
    env: { PYRQ_STATE_DIR: stateDir },
  });
  await daemon.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
  return daemon;
};

/** The one state file in the directory, parsed (undefined until it exists). */
const stateFile = (): { socket: Record<string, string>; paused: Record<string, string> } | undefined => {
  if (!existsSync(stateDir)) return undefined;
  const f = readdirSync(stateDir).filter((n) => /^state-[0-9a-f]{12}\.json$/.test(n));
  return f.length === 1 ? JSON.parse(readFileSync(join(stateDir, f[0]!), 'utf8')) : undefined;
};

/** Push one schedule, pause it and the filed one, and wait until the state file has both. */
async function pushAndPause(): Promise<void> {
  const f = join(dir.path, 'push.json');
  writeFileSync(f, JSON.stringify({ id: 'pushed', function: 'app.tasks.run', every: 3600 }));
  const p = await pyrq(['push', f], { env });
  expect(p.code, p.stderr).toBe(0);
  const pause = await pyrq(['pause', 'filed', 'pushed', '--reason', 'maintenance'], { env });
  expect(pause.code, pause.stderr).toBe(0);
  await eventually(
    async () => {
      const s = stateFile();
      return s && s.socket.pushed && s.paused.filed && s.paused.pushed;
    },
    'the state file holds the push and both pauses',
    5000,
  );
}

/** Both the pushed schedule (applied and in the socket's store) and both pauses are in Redis. */
const allBack = async () => {
  const [index, store, paused] = await Promise.all([
    redis.hkeys('pyrq:index'),
    redis.hkeys('pyrq:source:socket'),
    redis.hgetall('pyrq:paused'),
  ]);
  return (
    index.sort().join() === 'filed,pushed' &&
    store.join() === 'pushed' &&
    Object.keys(paused).sort().join() === 'filed,pushed' &&
    JSON.parse(paused.pushed!).reason === 'maintenance'
  );
};

beforeEach(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  files = join(dir.path, 'files');
  stateDir = join(dir.path, 'state');
  mkdirSync(files);
  writeFileSync(join(files, 'filed.json'), JSON.stringify({ id: 'filed', function: 'app.tasks.run', every: 3600 }));
  env = { PYRQ_CONFIG: undefined, PYRQ_REDIS_URL: server.url, PYRQ_SOCKET: join(dir.path, 's') };
});

afterEach(async () => {
  await daemon?.stop('SIGKILL');
  daemon = undefined;
  await server.close();
  dir.cleanup();
});

describe('durable pushes and pauses', () => {
  it('Redis killed and restarted empty: the push and the pauses are back within 10 s, with a warning', async () => {
    const d = await start();
    await pushAndPause();
    expect(await allBack()).toBe(true);
    await server.stop(true);
    await server.restart();
    const t0 = Date.now();
    await eventually(allBack, 'the push and both pauses back in Redis', BACK_WITHIN_MS, 100);
    console.log(`pushes and pauses back ${Date.now() - t0} ms after Redis restarted empty`);
    const w = await d.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('Redis had lost'));
    expect(w.msg).toBe(
      'Redis had lost 1 pushed schedule(s) and 2 pause(s) (restarted empty?): restored from the state file',
    );
    // Paused stays paused: the restored pause is the operator's, with its reason.
    const st = await pyrq(['status', '--json'], { env });
    const rows = st.json().schedules as { id: string; paused?: { reason: string | null } }[];
    expect(rows.map((r) => [r.id, r.paused?.reason]).sort()).toEqual([
      ['filed', 'maintenance'],
      ['pushed', 'maintenance'],
    ]);
  });

  it('a daemon restart with the same state directory, after Redis came back empty meanwhile, keeps them', async () => {
    await start();
    await pushAndPause();
    await daemon!.stop('SIGTERM');
    daemon = undefined;
    await server.stop(true);
    await server.restart();
    expect(await redis.dbsize()).toBe(0);
    await start();
    await eventually(allBack, 'the push and both pauses back after the daemon restarted', BACK_WITHIN_MS, 100);
  });

  it('Redis stays the truth while up: a resume and a delete reach the file, and are not undone by a later restore', async () => {
    await start();
    await pushAndPause();
    expect((await pyrq(['resume', 'filed'], { env })).code).toBe(0);
    expect((await pyrq(['delete', 'pushed'], { env })).code).toBe(0);
    await eventually(
      async () => {
        const s = stateFile();
        return s && !s.socket.pushed && !s.paused.filed;
      },
      'the state file follows Redis',
      5000,
    );
    await server.stop(true);
    await server.restart();
    await eventually(async () => (await redis.hkeys('pyrq:index')).join() === 'filed', 'the file schedule back');
    await eventually(async () => (await redis.exists('pyrq:state')) === 1, 'the restore ran (marker set)');
    expect(await redis.hkeys('pyrq:source:socket')).toEqual([]);
    expect(await redis.hkeys('pyrq:paused')).toEqual([]);
  });
});
