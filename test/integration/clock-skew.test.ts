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
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJobId } from '../../src/rq/job-id.js';
import { pyrq } from '../helpers/cli.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { useDaemonWorld } from '../helpers/daemon-world.js';
import { eventually } from '../helpers/eventually.js';
import { fakeTimeEnv } from '../helpers/faketime.js';
import { firedSince } from '../helpers/faults.js';

const LEASE_TTL_MS = 2000;
/**
 * The largest gap allowed between two jobs appearing across a hand-over: the lease runs
 * out (2 s), the standby notices (it checks every 200 ms) and starts its dispatcher. A
 * bound because the gap is the point (a slow clock once left 8 s); generous, as the
 * machine is shared.
 */
const MAX_HANDOVER_GAP_MS = 3 * LEASE_TTL_MS;
/**
 * A fire sent by Redis time can still reach Redis a little early: the offset is measured
 * to within half a round trip. One sent by a clock 3 s fast is refused ~3000 ms early.
 */
const EARLY_BY_MEASUREMENT_MS = 500;
/** This daemon's clock runs 3 s fast (libfaketime, preloaded into the daemon itself). */
const FAST = fakeTimeEnv('+3s');

const w = useDaemonWorld();
const config = (name: string) => w.config(name, { leaseTtl: `${LEASE_TTL_MS}ms`, daemon: 'clockOffsetWarn = "1s"' });
const daemon = (name: string, env?: Record<string, string>): Promise<DaemonProcess> =>
  w.daemon(name, { leaseTtl: `${LEASE_TTL_MS}ms`, daemon: 'clockOffsetWarn = "1s"', ...(env ? { env } : {}) });
/** Fire attempts the fire script refused as early by more than the measurement error: fired by the local clock. */
const earlyRefusals = (d: DaemonProcess) =>
  d.logs.filter((l) => String(l.msg).startsWith('clock ahead of Redis') && Number(l.aheadMs) > EARLY_BY_MEASUREMENT_MS);

/**
 * Polls the queue every 10 ms and notes when (this clock) each job id first appears.
 * `stop` takes one last look first, so every job pushed before it was called is seen
 * (a job the test waited for could otherwise land between the last poll and the stop).
 */
function watchQueue(queue: string): { firstSeen: Map<string, number>; stop: () => Promise<void> } {
  const firstSeen = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    const c = w.world.server.client();
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

  it('the fast daemon fires by Redis time: no fire attempt refused as early, no job before its occurrence', async () => {
    // The fire script refuses an early fire ("early": nothing written), so counting jobs
    // cannot tell a dispatcher that goes by its own clock: its refused attempts can.
    const { redis, schedules } = w.world;
    writeFileSync(
      join(schedules, 'tick.json'),
      JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'all' }),
    );
    const a = await daemon('a', FAST);
    await a.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
    const since = Math.ceil(Date.now() / 1000) * 1000;
    await firedSince(redis, 'default', 'tick', since, 4);
    expect(earlyRefusals(a), 'fire attempts refused as early').toEqual([]);
    const runs = (await redis.lrange('pyrq:runs:tick', 0, -1)).map((r) => JSON.parse(r) as { latenessMs: number });
    expect(runs.filter((r) => r.latenessMs < 0)).toEqual([]);
  });

  it('no job before its occurrence by Redis time, none twice, none lost, no gap beyond the lease on hand-over; status warns', async () => {
    const { redis, schedules } = w.world;
    writeFileSync(
      join(schedules, 'tick.json'),
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
      { message: 'the fast standby sees the leader', timeout: 10_000 },
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
    expect(maxGap).toBeLessThan(MAX_HANDOVER_GAP_MS);
    for (const d of [a, a2]) expect(earlyRefusals(d), 'fire attempts refused as early').toEqual([]);
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
