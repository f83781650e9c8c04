import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { useDaemonWorld } from '../helpers/daemon-world.js';
import { eventually } from '../helpers/eventually.js';
import { appliedCount, desiredHashes, firedSince, killMidApply, queuedOccurrences } from '../helpers/faults.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import type { tmpDir } from '../helpers/tmp-dir.js';

// Faults with real processes: kill -9, two daemons and a dead leader, Redis outages, signals.
// Each test has its own Redis, directory and daemons (useDaemonWorld).
const LEASE_TTL_MS = 2000;
/** A killed leader's standby takes over within the lease (2 s) plus its polling; generous on a shared machine. */
const TAKEOVER_WITHIN_MS = 15_000;
const w = useDaemonWorld();
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
const daemons = w.daemons;

beforeEach(() => {
  ({ server, redis, dir, schedules } = w.world);
});

const config = (name: string, extra = ''): string => w.config(name, { top: extra, leaseTtl: `${LEASE_TTL_MS}ms` });
const daemon = (name: string, extra = '', env?: Record<string, string>): Promise<DaemonProcess> =>
  w.daemon(name, { top: extra, leaseTtl: `${LEASE_TTL_MS}ms`, ...(env ? { env } : {}) });
/** One schedule's jobs in a queue by occurrence (faults.ts: a duplicate enqueue shows twice). */
const occurrencesInQueue = (queue: string, scheduleId: string) => queuedOccurrences(redis, queue, scheduleId);

describe('kill -9 during a large apply', () => {
  it('a restarted daemon converges: every schedule applied once, no duplicate jobs, firing resumes', async () => {
    // Every round changes all 4001 schedules (kwargs.v), so each daemon has a full apply
    // to do, and is killed once the first of its changes reached the index.
    const write = (v: number): Map<string, string> => {
      const many: Record<string, unknown>[] = Array.from({ length: 4000 }, (_, i) => ({
        id: `s${i}`,
        function: 'app.tasks.run',
        cron: `${i % 60} * * * *`,
        kwargs: { v },
      }));
      many.push({ id: 'fast', function: 'app.tasks.run', every: 1, kwargs: { v } });
      writeFileSync(join(schedules, 'many.json'), JSON.stringify(many));
      return desiredHashes(many);
    };
    let desired = new Map<string, string>();
    const landed: number[] = [];
    for (let round = 0; round < 3; round++) {
      desired = write(round);
      const { applied } = await killMidApply(
        server,
        redis,
        (url) => daemon(`k${round}`, '', { PYRQ_REDIS_URL: url }),
        desired,
      );
      landed.push(applied);
      expect(applied, `round ${round}: killed mid-apply (${applied} of ${desired.size} applied)`).toBeGreaterThan(0);
      expect(applied, `round ${round}: killed mid-apply (${applied} of ${desired.size} applied)`).toBeLessThan(
        desired.size,
      );
    }
    console.info(`kill -9 landed with ${landed.join(', ')} of ${desired.size} changes applied`);
    const final = await daemon('final');
    const led = await final.waitForLog((l) => l.msg === 'became leader', 15_000);
    await eventually(
      async () => (await appliedCount(redis, desired)) === 4001,
      'all 4001 schedules applied, at their last version',
      20_000,
    );
    expect(await redis.hlen('pyrq:index')).toBe(4001);
    expect(await redis.zcard('pyrq:next')).toBe(4001);
    // Firing resumed under the new leader.
    await firedSince(redis, 'default', 'fast', Date.parse(String(led.time)), 2);
    const jobs = await redis.lrange('rq:queue:default', 0, -1);
    expect(new Set(jobs).size).toBe(jobs.length);
  });
});

describe('two daemons against one Redis', () => {
  it('one leads; when it is killed the standby takes over; one job per occurrence, no gap', async () => {
    writeFileSync(
      join(schedules, 'tick.json'),
      JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'all' }),
    );
    const a = await daemon('a');
    const aLed = await a.waitForLog((l) => l.msg === 'became leader');
    // The leader has fired before the standby exists (an order, not a time: under load its
    // first fire could come after the standby's start).
    const [firstByA] = await firedSince(redis, 'default', 'tick', 0, 1);
    const b = await daemon('b');
    const bStarted = Date.now();
    // The standby has seen the leader's lease...
    await eventually(async () => {
      const st = await b.ask({ op: 'status' });
      return (st.result as { daemon: { currentLeader: string | null } }).daemon.currentLeader === aLed.holder;
    }, 'the standby sees the leader holding the lease');
    // ...and stays standby while the leader keeps firing for more than two lease TTLs.
    await firedSince(redis, 'default', 'tick', Math.ceil(bStarted / 1000) * 1000, 5);
    expect(b.logs.some((l) => l.msg === 'became leader')).toBe(false);
    const st = await b.ask({ op: 'status' });
    expect((st.result as { daemon: { leader: boolean; currentLeader: string } }).daemon).toMatchObject({
      leader: false,
      currentLeader: aLed.holder,
    });
    const killedAt = Date.now();
    await a.stop('SIGKILL');
    const took = await b.waitForLog((l) => l.msg === 'became leader', TAKEOVER_WITHIN_MS);
    const tookAt = Date.parse(String(took.time));
    console.info(`take-over: ${tookAt - killedAt} ms after the kill (lease ${LEASE_TTL_MS} ms)`);
    // The new leader fires occurrences after its takeover, not only the ones it caught up.
    await firedSince(redis, 'default', 'tick', Math.ceil(tookAt / 1000) * 1000, 3);
    await b.stop();
    // Starting while the connection is still being made is not a failure worth a warning.
    expect([...a.logs, ...b.logs].filter((l) => l.msg === 'lease check failed; retrying')).toEqual([]);
    // Every fire is logged with the schedule id, the job id and the lateness.
    const fired = b.logs.find((l) => l.msg === 'job enqueued');
    expect(fired).toMatchObject({
      schedule: 'tick',
      jobId: expect.stringMatching(/^pyrq_tick_\d{8}T\d{6}Z$/),
      latenessMs: expect.any(Number),
    });
    const occ = await occurrencesInQueue('default', 'tick');
    const queued = await redis.lrange('rq:queue:default', 0, -1);
    expect(new Set(queued).size).toBe(queued.length); // no job id twice
    expect(queued.length).toBe(occ.length); // every queued job is an enqueued occurrence
    expect(new Set(occ).size).toBe(occ.length); // no occurrence twice
    expect(occ[0]!).toBeLessThanOrEqual(firstByA!); // from the first leader's first fire, before the standby started...
    expect(occ.at(-1)!).toBeGreaterThanOrEqual(Math.ceil(tookAt / 1000) * 1000 + 2000); // ...to after the takeover
    for (let i = 1; i < occ.length; i++)
      expect(occ[i]! - occ[i - 1]!, `gap before ${new Date(occ[i]!).toISOString()}`).toBe(1000); // none lost
  }, 60_000);
});

describe('lease lost while running', () => {
  it('a leader whose lease is taken steps down, and fires again once it leads again', async () => {
    writeFileSync(
      join(schedules, 'tick.json'),
      JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'skip' }),
    );
    const d = await daemon('a');
    await d.waitForLog((l) => l.msg === 'became leader');
    await firedSince(redis, 'default', 'tick', 0, 2);
    // Another holder takes the lease (as a daemon that won it while this one was cut off
    // would): this daemon must step down at its next renewal...
    await redis.set('pyrq:leader', 'elsewhere:1:abcdef', 'PX', 3000);
    await d.waitForLog((l) => l.msg === 'no longer leader', 5_000);
    const lost = Date.now();
    // ...and lead again once that lease expires, with its dispatcher running again.
    const again = await d.waitForLog((l) => l.msg === 'became leader' && Date.parse(String(l.time)) > lost, 10_000);
    const resumed = Math.ceil(Date.parse(String(again.time)) / 1000) * 1000;
    await firedSince(redis, 'default', 'tick', resumed, 3);
    const occ = await occurrencesInQueue('default', 'tick');
    expect(new Set(occ).size).toBe(occ.length);
  }, 30_000);
});

describe('Redis outages', () => {
  it('Redis frozen for a few seconds (SIGSTOP): the daemon rides it out and catches up by policy', async () => {
    writeFileSync(
      join(schedules, 'tick.json'),
      JSON.stringify({ id: 'tick', function: 'app.tasks.run', every: 1, catchup: 'all' }),
    );
    const d = await daemon('a');
    await firedSince(redis, 'default', 'tick', 0, 2);
    server_signal('SIGSTOP');
    const frozen = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // the fault itself: longer than the 2 s lease
    server_signal('SIGCONT');
    const thawed = Date.now();
    // Firing resumed: occurrences after the thaw are queued...
    await firedSince(redis, 'default', 'tick', Math.ceil(thawed / 1000) * 1000, 3);
    expect(d.proc.exitCode).toBeNull();
    const occ = await occurrencesInQueue('default', 'tick');
    // ...and the ones due while Redis was frozen were caught up (catchup "all"): no gap.
    expect(occ[0]!).toBeLessThan(frozen);
    for (let i = 1; i < occ.length; i++)
      expect(occ[i]! - occ[i - 1]!, `gap before ${new Date(occ[i]!).toISOString()}`).toBe(1000);
    expect((await d.ask({ op: 'ping' })).ok).toBe(true);
  }, 30_000);

  it('Redis restarted (data lost): the daemon reconnects, restores the registry without restarting, and fires again', async () => {
    writeFileSync(
      join(schedules, 'a.json'),
      JSON.stringify([
        { id: 'a', function: 'app.tasks.run', every: 60 },
        { id: 'tick', function: 'app.tasks.run', every: 1 },
      ]),
    );
    const d = await daemon('a');
    await eventually(async () => (await redis.hexists('pyrq:index', 'a')) === 1, 'applied');
    await firedSince(redis, 'default', 'tick', 0, 1);
    await server.stop(true);
    await new Promise((r) => setTimeout(r, 3000)); // the outage itself
    await server.restart();
    const restarted = Date.now();
    await eventually(async () => (await redis.hexists('pyrq:index', 'a')) === 1, 'registry restored', 25_000).catch(
      (e: Error) => {
        throw new Error(
          `${e.message}; daemon log: ${JSON.stringify(d.logs.filter((l) => !String(l.msg).includes('connection error')).slice(-12))}`,
        );
      },
    );
    // The restarted Redis is empty: every job in its queue was fired after the restart.
    await firedSince(redis, 'default', 'tick', Math.ceil(restarted / 1000) * 1000, 3, 25_000);
    expect(d.proc.exitCode).toBeNull();
    expect(d.logs.some((l) => l.msg === 'redis connection restored')).toBe(true);
    expect((await d.ask({ op: 'status' })).ok).toBe(true);
  }, 50_000);
});

describe('signals and logs', () => {
  it('SIGHUP reloads the config file', async () => {
    writeFileSync(join(schedules, 'a.json'), JSON.stringify({ id: 'a', function: 'app.tasks.run', cron: '0 9 * * *' }));
    const d = await daemon('a', 'timezone = "UTC"\n');
    await eventually(
      async () => JSON.parse((await redis.hget('pyrq:schedule:a', 'spec')) ?? '{}').timezone === 'UTC',
      'applied in UTC',
    );
    writeFileSync(
      join(dir.path, 'a.toml'),
      readFileSync(join(dir.path, 'a.toml'), 'utf8').replace('timezone = "UTC"', 'timezone = "Europe/Berlin"'),
    );
    d.proc.kill('SIGHUP');
    await eventually(
      async () => JSON.parse((await redis.hget('pyrq:schedule:a', 'spec')) ?? '{}').timezone === 'Europe/Berlin',
      'new default timezone applied',
    );
  });

  it('--log-file is reopened on SIGUSR2 (logrotate)', async () => {
    const log = join(dir.path, 'pyrq.log');
    const sock = join(dir.path, 'l.sock');
    const d = await startDaemon(['--config', config('l'), '--log-file', log], { socket: sock, waitReady: false });
    daemons.push(d);
    await eventually(
      async () => existsSync(log) && readFileSync(log, 'utf8').includes('pyrq daemon started'),
      { message: 'log file written', timeout: 20_000 }, // the daemon's start, not waited for: slow on a loaded machine
    );
    renameSync(log, `${log}.1`);
    d.proc.kill('SIGUSR2');
    await eventually(async () => existsSync(log), 'log file reopened');
    await d.ask({ op: 'reconcile' });
    await eventually(async () => readFileSync(log, 'utf8').includes('"msg":"reconcile"'), 'new lines in the new file');
  });
});

function server_signal(sig: NodeJS.Signals): void {
  // The private server's pid: ask it.
  const pid = serverPid;
  process.kill(pid, sig);
}
let serverPid = 0;
beforeEach(async () => {
  serverPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))![1]);
});
