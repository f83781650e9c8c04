import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { firedSince, queuedOccurrences } from '../helpers/faults.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Fencing with real daemons (issue 12, point 5): a process that lost its lease without
// knowing it (frozen past its TTL; Redis restarted empty under it) writes nothing to the
// registry or to RQ. Its writes are counted with MONITOR: every command Redis runs, and
// every command a script runs, attributed to the connection that called the script.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
});

afterEach(async () => {
  for (const d of daemons.splice(0)) {
    try {
      d.proc.kill('SIGCONT');
    } catch {
      // already gone
    }
    await d.stop('SIGKILL');
  }
  await server.close();
  dir.cleanup();
});

async function daemon(name: string, files: Record<string, unknown>, extra = ''): Promise<DaemonProcess> {
  const schedules = join(dir.path, `schedules-${name}`);
  mkdirSync(schedules, { recursive: true });
  for (const [file, body] of Object.entries(files)) writeFileSync(join(schedules, file), JSON.stringify(body));
  const cfg = join(dir.path, `${name}.toml`);
  writeFileSync(
    cfg,
    `[redis]\nurl = "${server.url}"\n[files]\ndir = "${schedules}"\n[daemon]\nsocket = "${join(dir.path, `${name}.sock`)}"\nleaseTtl = "2s"\n${extra}`,
  );
  const d = await startDaemon(['--config', cfg], { socket: join(dir.path, `${name}.sock`) });
  daemons.push(d);
  return d;
}

const every1 = (id: string) => ({ id, function: 'app.tasks.run', every: 1, catchup: 'all' });

const WRITES = new Set([
  'set',
  'del',
  'unlink',
  'hset',
  'hsetnx',
  'hdel',
  'hmset',
  'zadd',
  'zrem',
  'rpush',
  'lpush',
  'ltrim',
  'sadd',
  'expire',
  'pexpire',
  'publish',
]);
/** Keys of the registry and of RQ: what fencing protects (not the lease, not the status records). */
const guarded = (key: string) => /^(pyrq:(index|next|schedule:|runs:)|rq:)/.test(key);

interface Line {
  source: string;
  args: string[];
}

/** MONITOR on its own connection, started before the fault; `stop()` returns every line seen. */
async function monitor(): Promise<{ stop(): Promise<Line[]> }> {
  const lines: Line[] = [];
  const mon = await eventually(
    async () => {
      const c = server.client();
      try {
        return await c.monitor();
      } catch {
        c.disconnect();
        return null;
      }
    },
    'MONITOR connected',
    10_000,
    20,
  );
  mon.on('monitor', (_time: string, args: string[], source: string) => lines.push({ source, args }));
  return {
    async stop() {
      mon.disconnect();
      return lines;
    },
  };
}

/**
 * Registry and RQ writes per calling address, up to line `end`: a script's commands
 * (source `lua`) count for the connection whose EVAL/EVALSHA came just before them.
 */
function guardedWrites(lines: Line[], end = lines.length): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let caller = '';
  for (const l of lines.slice(0, end)) {
    const cmd = (l.args[0] ?? '').toLowerCase();
    if (l.source !== 'lua') caller = l.source;
    if (!WRITES.has(cmd) || !guarded(l.args[1] ?? '')) continue;
    out.set(caller, [...(out.get(caller) ?? []), `${cmd} ${l.args[1]}`]);
  }
  return out;
}

/** The addresses of a daemon's connections (named pyrq-daemon-<pid>). */
async function addressesOf(d: DaemonProcess): Promise<Set<string>> {
  const list = String(await redis.client('LIST'));
  const out = new Set<string>();
  for (const line of list.split('\n'))
    if (line.includes(`name=pyrq-daemon-${d.proc.pid} `)) out.add(/addr=(\S+)/.exec(line)![1]!);
  return out;
}

describe('fencing with real daemons', () => {
  it('a leader frozen (SIGSTOP) past its lease writes nothing once woken, and steps down; one job per occurrence, none lost', async () => {
    // The frozen leader has a schedule the new leader does not (a different directory),
    // and re-syncs every second: woken, it would re-create what the new leader deleted.
    const a = await daemon(
      'a',
      { 'tick.json': every1('tick'), 'only-a.json': every1('only-a') },
      'resyncInterval = "1s"\n',
    );
    await a.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
    await firedSince(redis, 'default', 'only-a', 0, 1);
    await firedSince(redis, 'default', 'tick', 0, 2);
    const aAddrs = await addressesOf(a);
    expect(aAddrs.size).toBeGreaterThan(0);
    a.proc.kill('SIGSTOP');
    const b = await daemon('b', { 'tick.json': every1('tick') });
    const led = await b.waitForLog((l) => l.msg === 'first reconcile finished: dispatching', 15_000);
    expect(await redis.hexists('pyrq:index', 'only-a')).toBe(0);
    await firedSince(redis, 'default', 'tick', Math.ceil(Date.parse(String(led.time)) / 1000) * 1000, 2);
    const mon = await monitor();
    a.proc.kill('SIGCONT');
    const thawed = Date.now();
    await a.waitForLog((l) => l.msg === 'no longer leader', 10_000);
    await firedSince(redis, 'default', 'tick', Math.ceil(thawed / 1000) * 1000 + 1000, 2);
    const lines = await mon.stop();
    // The woken process did try (its calls reached Redis), and not one of them wrote.
    // Its script calls other than lease checks (the lease script's only key is the lease).
    const calls = lines.filter(
      (l) =>
        aAddrs.has(l.source) && /^eval/i.test(l.args[0] ?? '') && !(l.args[2] === '1' && l.args[3] === 'pyrq:leader'),
    );
    expect(calls.length).toBeGreaterThan(0);
    const writes = guardedWrites(lines);
    console.info(
      `SIGSTOP: the woken leader sent ${calls.length} apply/fire call(s) after its lease was gone; guarded writes from it: ${aAddrs.size ? [...aAddrs].map((x) => writes.get(x)?.length ?? 0).reduce((x, y) => x + y, 0) : 0}`,
    );
    for (const addr of aAddrs) expect(writes.get(addr) ?? [], `writes by the fenced process from ${addr}`).toEqual([]);
    expect(await redis.hexists('pyrq:index', 'only-a')).toBe(0);
    expect(a.logs.filter((l) => l.msg === 'no longer leader')).toHaveLength(1);
    expect(a.logs.some((l) => l.msg === 'became leader' && Date.parse(String(l.time)) > thawed)).toBe(false);
    // No duplicate, no gap.
    const occ = await queuedOccurrences(redis, 'default', 'tick');
    expect(new Set(occ).size).toBe(occ.length);
    for (let i = 1; i < occ.length; i++)
      expect(occ[i]! - occ[i - 1]!, `gap before ${new Date(occ[i]!).toISOString()}`).toBe(1000);
  }, 90_000);

  it('Redis restarted empty under a leader: no registry or job write before the lease is taken again, then the registry is restored and firing resumes', async () => {
    const a = await daemon('a', {
      'tick.json': every1('tick'),
      'x.json': { id: 'x', function: 'app.tasks.run', every: 60 },
    });
    await a.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
    await firedSince(redis, 'default', 'tick', 0, 2);
    await server.stop(true);
    await server.restart();
    const mon = await monitor();
    const restarted = Date.now();
    await eventually(async () => (await redis.hexists('pyrq:index', 'x')) === 1, 'registry restored', 30_000);
    await firedSince(redis, 'default', 'tick', Math.ceil(restarted / 1000) * 1000, 3, 30_000);
    const lines = await mon.stop();
    const leased = lines.findIndex(
      (l) => l.source === 'lua' && l.args[0]?.toLowerCase() === 'set' && l.args[1] === 'pyrq:leader',
    );
    expect(leased, 'the lease was taken again').toBeGreaterThan(0);
    console.info(
      `Redis restart: ${lines.slice(0, leased).filter((l) => l.source !== 'lua' && /^eval/i.test(l.args[0] ?? '') && !(l.args[2] === '1' && l.args[3] === 'pyrq:leader')).length} apply/fire call(s) before the lease was taken again, ${[...guardedWrites(lines, leased).values()].flat().length} guarded write(s)`,
    );
    expect(
      [...guardedWrites(lines, leased).values()].flat(),
      'registry and job writes while nobody held the lease',
    ).toEqual([]);
    expect([...guardedWrites(lines).values()].flat().length).toBeGreaterThan(0); // and after it, the restore and the fires
    const occ = await queuedOccurrences(redis, 'default', 'tick');
    expect(new Set(occ).size).toBe(occ.length);
  }, 90_000);
});
