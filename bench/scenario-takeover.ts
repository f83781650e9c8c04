/**
 * Take-over: two daemons at default settings (`daemon.leaseTtl` not set) against one
 * registry; the leader is killed (SIGKILL: no clean-up, its lease runs out) or stopped
 * (SIGTERM: it releases the lease), and the standby takes over. Measured from the signal:
 *
 * - lease taken: until the lease key names the standby (polled every 5 ms from another
 *   connection);
 * - firing again: until the new leader logs that its first reconcile finished and it
 *   dispatches (its log's `time`, on the same clock).
 *
 * The runs are a chain: the standby that took over leads the next run, with a new standby.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchDaemon, sleep, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';

/** The target of issue 25: a standby fires again within 3 s of the leader's death. */
const TAKEOVER_TARGET_MS = 3_000;

export async function takeover(o: {
  redis: BenchRedis;
  work: string;
  runs: number;
  log: (msg: string) => void;
}): Promise<Figure[]> {
  // A database of its own: the other scenarios' registries do not slow the first reconcile.
  const url = `${o.redis.url.replace(/\/\d*$/, '')}/3`;
  const watch = o.redis.client();
  await watch.select(3);
  await watch.flushdb();
  const dir = join(o.work, 'takeover-schedules');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'every-second.json'),
    JSON.stringify({ schedules: [{ id: 'every-second', every: '1s', function: 'bench.noop', queue: 'takeover' }] }),
  );
  const args = ['--dir', dir, '--redis-url', url];
  const start = async (): Promise<BenchDaemon> => startDaemon(args, o.work);
  const results: Record<'SIGKILL' | 'SIGTERM', { lease: number[]; firing: number[] }> = {
    SIGKILL: { lease: [], firing: [] },
    SIGTERM: { lease: [], firing: [] },
  };
  let leader = await start();
  const live = [leader];
  try {
    await leader.waitForLog((l) => l.msg === 'first reconcile finished: dispatching', 60_000);
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      for (let run = 0; run < o.runs; run++) {
        const standby = await start();
        live.push(standby);
        await standby.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('standing by'), 30_000);
        // A random moment of the leader's renewal cycle, as a real death would be.
        await sleep(500 + Math.random() * 1000);
        const before = await watch.get('pyrq:leader');
        const killedAt = Date.now();
        const t0 = performance.now();
        await leader.kill(signal);
        let leaseMs = NaN;
        while (performance.now() - t0 < 30_000) {
          const holder = await watch.get('pyrq:leader');
          if (holder && holder !== before) {
            leaseMs = performance.now() - t0;
            break;
          }
          await sleep(5);
        }
        const line = await standby.waitForLog(
          (l) => l.msg === 'first reconcile finished: dispatching',
          30_000,
          killedAt,
        );
        const firingMs = Date.parse(String(line.time)) - killedAt; // the log's ISO time, the same clock
        results[signal].lease.push(Math.round(leaseMs));
        results[signal].firing.push(firingMs);
        o.log(
          `takeover ${signal} run ${run + 1}: lease taken after ${Math.round(leaseMs)} ms, firing after ${firingMs} ms`,
        );
        live.splice(live.indexOf(leader), 1);
        leader = standby;
      }
    }
  } finally {
    for (const d of live) await d.stop();
    watch.disconnect();
  }
  const note = 'default settings (daemon.leaseTtl unset); from the signal to the leader';
  return [
    figure('takeover', 'leader SIGKILLed: standby holds the lease', 'ms', results.SIGKILL.lease, undefined, note),
    figure(
      'takeover',
      'leader SIGKILLed: standby firing',
      'ms',
      results.SIGKILL.firing,
      { op: 'le', value: TAKEOVER_TARGET_MS },
      note,
    ),
    figure('takeover', 'leader stopped (SIGTERM): standby holds the lease', 'ms', results.SIGTERM.lease),
    figure('takeover', 'leader stopped (SIGTERM): standby firing', 'ms', results.SIGTERM.firing),
  ];
}
