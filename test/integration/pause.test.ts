import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { firedSince, queuedOccurrences } from '../helpers/faults.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import type { tmpDir } from '../helpers/tmp-dir.js';
import { startDaemonWorld, stopDaemonWorld } from '../helpers/daemon-world.js';

// Pause and resume (issue 12, point 2), with real daemons and with `pyrq tick` alone.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
let env: Record<string, string | undefined>;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  ({ server, redis, dir, schedules } = await startDaemonWorld());
  writeFileSync(
    join(schedules, 'tick.json'),
    JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'all' }),
  );
  env = {
    PYRQ_CONFIG: undefined,
    PYRQ_REDIS_URL: server.url,
    PYRQ_DIR: schedules,
    PYRQ_SOCKET: join(dir.path, 'none.sock'),
  };
});

afterEach(() => stopDaemonWorld({ server, dir }, daemons));

async function daemon(name: string): Promise<DaemonProcess> {
  const sock = join(dir.path, `${name}.sock`);
  const d = await startDaemon(
    ['--dir', schedules, '--redis-url', server.url, '--config', join(dir.path, `${name}.toml`)],
    { socket: sock, env: {} },
  );
  daemons.push(d);
  return d;
}

interface Run {
  occurrence: number;
  outcome: string;
}
const runs = async (id: string): Promise<Run[]> =>
  (await redis.lrange(`pyrq:runs:${id}`, 0, -1))
    .map((r) => JSON.parse(r) as Run)
    .sort((a, b) => a.occurrence - b.occurrence);
const pausedRuns = async (id: string) => (await runs(id)).filter((r) => r.outcome === 'skipped:paused');

/** Waits until `n` more occurrences than `from` were recorded as skipped:paused. */
const morePausedSkips = (from: number, n: number) =>
  eventually(async () => (await pausedRuns('tick')).length >= from + n, `${n} more skipped:paused records`, 15_000, 50);

describe('pause and resume', () => {
  it('with a daemon: zero jobs while paused, across a deep re-sync and a daemon restart; history shows the skips; the next occurrence after resume fires', async () => {
    writeFileSync(join(dir.path, 'a.toml'), '');
    writeFileSync(join(dir.path, 'b.toml'), '');
    const a = await daemon('a');
    await firedSince(redis, 'default', 'tick', 0, 2);
    const p = await pyrq(['pause', 'tick', '--reason', 'maintenance', '--json'], { env });
    expect(p.code, p.stderr).toBe(0);
    expect(p.json()).toEqual({ paused: ['tick'], already: [], missing: [] });
    await morePausedSkips(0, 2);
    // A deep re-sync (and the schedule re-read from its file) keeps the pause.
    expect((await a.ask({ op: 'reconcile' })).ok).toBe(true);
    const afterResync = (await pausedRuns('tick')).length;
    await morePausedSkips(afterResync, 1);
    // So does a restart.
    expect(await a.stop()).toBe(0);
    const b = await daemon('b');
    await b.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
    const afterRestart = (await pausedRuns('tick')).length;
    await morePausedSkips(afterRestart, 2);
    // Shown while paused: status (over the socket and from Redis), diff, history.
    const st = await b.ask({ op: 'status' });
    expect(
      (st.result as { schedules: { id: string; paused?: unknown }[] }).schedules.find((s) => s.id === 'tick')!.paused,
    ).toMatchObject({ since: expect.any(String), reason: 'maintenance' });
    const fromRedis = await pyrq(['status', '--no-daemon', '--json'], { env });
    expect(fromRedis.json().schedules.find((s: { id: string }) => s.id === 'tick').paused).toMatchObject({
      reason: 'maintenance',
    });
    expect((await pyrq(['status', '--no-daemon'], { env })).stdout).toMatch(
      /^Paused \(1\): [\s\S]*^ {2}tick: since \S+ \(maintenance\)$/m,
    );
    expect((await pyrq(['diff'], { env })).stdout).toMatch(
      /Note: 1 schedule\(s\) paused .*tick since \S+ \(maintenance\)/,
    );
    const h = await pyrq(['history', 'tick', '-n', '100'], { env });
    expect(h.stdout).toMatch(/^Paused since \S+ \(maintenance\)/);
    expect(h.stdout).toMatch(/skipped:paused/);
    // Resume over the socket.
    const r = await b.ask({ op: 'resume', id: 'tick' });
    expect(r).toMatchObject({ ok: true, result: { resumed: ['tick'], notPaused: [] } });
    const resumed = Date.now();
    await firedSince(redis, 'default', 'tick', Math.ceil(resumed / 1000) * 1000, 2);
    // Zero jobs while paused: every occurrence from the first paused skip to the last is a skip.
    const skips = (await pausedRuns('tick')).map((x) => x.occurrence);
    const [first, last] = [skips[0]!, skips.at(-1)!];
    const jobs = await queuedOccurrences(redis, 'default', 'tick');
    expect(jobs.filter((t) => t >= first && t <= last)).toEqual([]);
    expect(skips.length).toBe((last - first) / 1000 + 1); // one record per occurrence, none lost (this includes the restart)
    expect(jobs.some((t) => t > last)).toBe(true);
    expect(new Set(jobs).size).toBe(jobs.length);
  }, 120_000);

  it('without a daemon (pyrq tick): paused occurrences are recorded as skipped; resumed, the next one fires; a deleted schedule takes its pause with it', async () => {
    expect((await pyrq(['apply'], { env })).code).toBe(0);
    expect((await pyrq(['pause', '--all', '--reason', 'no daemon'], { env })).code).toBe(0);
    const next = Number(await redis.zscore('pyrq:next', 'tick'));
    await eventually(async () => Date.now() > next + 1000, 'two occurrences due', 10_000, 100);
    const t = await pyrq(['tick', '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    expect(t.json()).toMatchObject({ enqueued: 0 });
    expect(t.json().skipped).toBeGreaterThanOrEqual(2);
    expect(await redis.llen('rq:queue:default')).toBe(0);
    expect((await pausedRuns('tick')).length).toBeGreaterThanOrEqual(2);
    const again = await pyrq(['pause', 'tick', 'nope', '--json'], { env });
    expect(again.code).toBe(1);
    expect(again.json()).toEqual({ paused: [], already: ['tick'], missing: ['nope'] });
    expect((await pyrq(['resume', 'tick'], { env })).stdout).toMatch(/^resumed tick$/m);
    const after = Number(await redis.zscore('pyrq:next', 'tick'));
    await eventually(async () => Date.now() > after, 'the next occurrence due', 10_000, 100);
    const fired = await pyrq(['tick', '--json'], { env });
    expect(fired.json().enqueued).toBeGreaterThanOrEqual(1);
    expect((await queuedOccurrences(redis, 'default', 'tick'))[0]).toBeGreaterThanOrEqual(after);
    // A deleted schedule's pause goes with it.
    expect((await pyrq(['pause', 'tick'], { env })).code).toBe(0);
    rmSync(join(schedules, 'tick.json'));
    expect((await pyrq(['apply'], { env })).code).toBe(0);
    expect(await redis.exists('pyrq:paused')).toBe(0);
  }, 120_000);

  it('resume --catchup hands the occurrences missed while paused to the catch-up policy ("all": each is enqueued, once)', async () => {
    expect((await pyrq(['apply'], { env })).code).toBe(0);
    expect((await pyrq(['pause', 'tick'], { env })).code).toBe(0);
    const next = Number(await redis.zscore('pyrq:next', 'tick'));
    await eventually(async () => Date.now() > next + 1000, 'two occurrences due', 10_000, 100);
    expect((await pyrq(['tick', '--json'], { env })).json()).toMatchObject({ enqueued: 0 });
    const skipped = (await pausedRuns('tick')).map((r) => r.occurrence);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    expect((await pyrq(['resume', 'tick', '--catchup'], { env })).code).toBe(0);
    expect(Number(await redis.zscore('pyrq:next', 'tick'))).toBe(skipped[0]); // back to the first missed occurrence
    const t = await pyrq(['tick', '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    const jobs = await queuedOccurrences(redis, 'default', 'tick');
    for (const occ of skipped) expect(jobs, new Date(occ).toISOString()).toContain(occ);
    expect(new Set(jobs).size).toBe(jobs.length);
    // A second resume --catchup of a schedule that is not paused changes nothing.
    const before = await redis.zscore('pyrq:next', 'tick');
    expect((await pyrq(['resume', 'tick', '--catchup', '--json'], { env })).json()).toEqual({
      resumed: [],
      notPaused: ['tick'],
    });
    expect(await redis.zscore('pyrq:next', 'tick')).toBe(before);
  }, 120_000);
});
