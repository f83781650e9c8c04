/**
 * Redis's clock is the one clock (issue 14), with real processes: two daemons, one whose
 * clock runs 3 s fast (`faketime -f +3s`), take turns leading a per-second schedule.
 *
 * What must hold, seen from outside by a poller that notes when each job first appears in
 * the queue (this process's clock, which is Redis's: same machine):
 *  - no job enters the queue before its occurrence (the fast daemon fired up to 2.99 s
 *    early before: its jobs' enqueued_at, stamped by the same clock, hid it);
 *  - one job per occurrence, none lost (catch-up `all`);
 *  - no gap beyond the lease on each hand-over (a slow clock left an 8 s gap before);
 *  - `pyrq status` shows the fast daemon 3 s ahead of Redis, with a warning.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJobId } from '../../src/rq/job-id.js';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { firedSince } from '../helpers/faults.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const LEASE_TTL_MS = 2000;
/**
 * libfaketime preloaded into the daemon itself (the `faketime` command forks, so a
 * SIGKILL would hit it and leave the daemon running).
 */
const FAST = { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', FAKETIME: '+3s' };

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  mkdirSync(join(dir.path, 'schedules'));
});

afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  await server.close();
  dir.cleanup();
});

function config(name: string): string {
  const path = join(dir.path, `${name}.toml`);
  writeFileSync(
    path,
    `[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${join(dir.path, `${name}.sock`)}"\nleaseTtl = "${LEASE_TTL_MS}ms"\nclockOffsetWarn = "1s"\n`,
  );
  return path;
}

async function daemon(name: string, env?: Record<string, string>): Promise<DaemonProcess> {
  const d = await startDaemon(['--config', config(name)], {
    socket: join(dir.path, `${name}.sock`),
    ...(env ? { env } : {}),
  });
  daemons.push(d);
  return d;
}

/**
 * Polls the queue every 10 ms and notes when (this clock) each job id first appears.
 * `stop` takes one last look first, so every job pushed before it was called is seen
 * (a job the test waited for could otherwise land between the last poll and the stop).
 */
function watchQueue(queue: string): { firstSeen: Map<string, number>; stop: () => Promise<void> } {
  const firstSeen = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    const c = server.client();
    for (;;) {
      const last = !running;
      const ids = await c.lrange(`rq:queue:${queue}`, firstSeen.size, -1);
      const now = Date.now();
      for (const id of ids) if (!firstSeen.has(id)) firstSeen.set(id, now);
      if (last) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    c.disconnect();
  })();
  return { firstSeen, stop: async () => ((running = false), await loop) };
}

describe('one clock: a daemon 3 s fast and one on time share a per-second schedule', () => {
  it("checks that faketime shifts node's clock (else this test proves nothing)", async () => {
    const d = await daemon('probe', FAST);
    const started = d.logs.find((l) => l.msg === 'pyrq daemon started')!;
    // pino stamps `time` by the daemon's clock: about 3 s ahead of ours.
    expect(Date.parse(String(started.time)) - Date.now()).toBeGreaterThan(2000);
  });

  it('no job before its occurrence by Redis time, none twice, none lost, no gap beyond the lease on hand-over; status warns', async () => {
    writeFileSync(
      join(dir.path, 'schedules', 'tick.json'),
      JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'all' }),
    );
    const watch = watchQueue('default');
    // The fast daemon leads first...
    const a = await daemon('a', FAST);
    await a.waitForLog((l) => l.msg === 'became leader');
    const b = await daemon('b');
    await firedSince(redis, 'default', 'tick', Math.ceil(Date.now() / 1000) * 1000, 4);
    // ...hands over to the one on time (killed: its lease runs out)...
    let killedAt = Date.now();
    await a.stop('SIGKILL');
    const tookB = await b.waitForLog((l) => l.msg === 'became leader', 10_000);
    await firedSince(redis, 'default', 'tick', Math.ceil(killedAt / 1000) * 1000 + LEASE_TTL_MS + 1000, 3);
    // ...which hands back to a fast one.
    const a2 = await daemon('a2', FAST);
    await eventually(
      async () =>
        ((await a2.ask({ op: 'status' })).result as { daemon: { currentLeader: string | null } }).daemon
          .currentLeader === tookB.holder,
      'the fast standby sees the leader',
    );
    killedAt = Date.now();
    await b.stop('SIGKILL');
    await a2.waitForLog((l) => l.msg === 'became leader', 10_000);
    const last = await firedSince(redis, 'default', 'tick', Math.ceil(killedAt / 1000) * 1000 + LEASE_TTL_MS + 1000, 3);
    await watch.stop();

    // The queue as the poller saw it.
    const queued = await redis.lrange('rq:queue:default', 0, -1);
    expect(new Set(queued).size).toBe(queued.length); // no job twice
    // Jobs pushed after the poller stopped are left out (they have no time seen).
    const jobs = queued
      .filter((id) => watch.firstSeen.has(id))
      .map((id) => ({ id, occ: parseJobId(id)!.time, seen: watch.firstSeen.get(id)! }))
      .sort((x, y) => x.occ - y.occ);
    expect(jobs.length).toBeGreaterThan(10);
    expect(jobs.at(-1)!.occ).toBeGreaterThanOrEqual(last.at(-1)!); // seen up to the last hand-over's fires
    const early = jobs.filter((j) => j.seen < j.occ).map((j) => `${j.id} ${j.occ - j.seen} ms early`);
    expect(early).toEqual([]);
    for (let i = 1; i < jobs.length; i++)
      expect(jobs[i]!.occ - jobs[i - 1]!.occ, `occurrence lost before ${jobs[i]!.id}`).toBe(1000);
    const gaps = jobs.slice(1).map((j, i) => j.seen - jobs[i]!.seen);
    const maxGap = Math.max(...gaps);
    console.info(
      `clock skew: ${jobs.length} jobs; largest gap between jobs appearing ${maxGap} ms (lease ${LEASE_TTL_MS} ms); lateness max ${Math.max(...jobs.map((j) => j.seen - j.occ))} ms`,
    );
    expect(maxGap).toBeLessThan(LEASE_TTL_MS + 2000); // the lease runs out, the standby polls (ttl/10), starts its dispatcher
    // The run records, stamped by Redis's clock, agree: no negative lateness.
    const runs = (await redis.lrange('pyrq:runs:tick', 0, -1)).map((r) => JSON.parse(r) as { latenessMs: number });
    expect(runs.filter((r) => r.latenessMs < 0)).toEqual([]);

    // Status, from Redis: the fast daemon's clock about 3 s ahead, beyond the 1 s threshold.
    const st = await pyrq(['status', '--json', '--no-daemon', '--config', config('a2')]);
    expect(st.code, st.stderr).toBe(0);
    const clocks = (JSON.parse(st.stdout) as { clocks: { daemon: string; offsetMs: number; warn: boolean }[] }).clocks;
    console.info(JSON.stringify(clocks));
    const fast = clocks.find((c) => c.daemon === a2.logs.find((l) => l.msg === 'became leader')!.holder)!;
    expect(fast.offsetMs).toBeLessThan(-2500);
    expect(fast.offsetMs).toBeGreaterThan(-3500);
    expect(fast.warn).toBe(true);
    const onTime = clocks.find((c) => c.daemon === tookB.holder)!;
    expect(Math.abs(onTime.offsetMs)).toBeLessThan(1000);
    expect(onTime.warn).toBe(false);
    const text = await pyrq(['status', '--no-daemon', '--config', config('a2')]);
    expect(text.stdout).toMatch(/ms ahead of Redis .*WARNING beyond daemon\.clockOffsetWarn/);
  }, 90_000);
});
