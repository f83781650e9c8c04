/**
 * The daemon's start-up peak, run after run: `pyrq daemon` started on a registry that
 * holds the files' schedules (as after an apply), its peak RSS (VmHWM) read once its
 * first reconcile has finished and its dispatcher's warm-up has had time to end, then
 * stopped. The daemon scenario's "peak over its life" row also spans the fire bursts of
 * the minutes it runs through (the bench's schedules fire up to ~13,000 jobs on one
 * whole minute); this row is the start alone, which issue 25 names.
 *
 * A start is a start only if nothing fires during it. The bench's schedules fire on
 * whole minutes only (bench/data.ts), so each start begins in the first half of a
 * minute, and the registry is applied again whenever a minute has turned since the last
 * apply: occurrences that fell due while no daemon ran would fire at once (catch-up), a
 * burst, not a start. A run that logged a fire anyway, or whose minute turned before its
 * peak was read, is not counted and is run again.
 *
 * Two launches, alternated: `pyrq daemon` as it is, and as contrib/pyrq.service starts
 * it (its NODE_OPTIONS, read from the unit file, so the bench measures what ships).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { PACKAGE_ROOT } from '../src/paths.js';
import { quietPart } from './scenario-daemon.js';
import { memoryMb, runCli, sleep, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';

export interface StartupScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  dir: string;
  count: number;
  runs: number;
  /** Place each start in a quiet part of a minute and retry a run that fired (off in --quick). */
  waitForQuiet: boolean;
  log: (msg: string) => void;
}

/**
 * From "first reconcile finished: dispatching" to the reading: the dispatcher thread's
 * warm-up of the next ten minutes' schedules (~20,000 of 100,000) takes ~1-1.5 s here,
 * and its heap is the last part of the start to grow.
 */
const SETTLE_MS = 4000;

const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/** The NODE_OPTIONS contrib/pyrq.service starts the daemon with (its `Environment=` line). */
export function unitNodeOptions(unitText: string): string {
  const m = /^Environment=NODE_OPTIONS=(.*)$/m.exec(unitText);
  if (!m) throw new Error('contrib/pyrq.service sets no NODE_OPTIONS');
  return m[1]!.trim();
}

/** How the daemon is started: bare (`pyrq daemon`), or with the unit's environment. */
interface Launch {
  name: string;
  env: Record<string, string>;
  peaks: number[];
}

export async function startupScenario(s: StartupScenario): Promise<Figure[]> {
  const nodeOptions = unitNodeOptions(readFileSync(join(PACKAGE_ROOT, 'contrib', 'pyrq.service'), 'utf8'));
  const launches: Launch[] = [
    // Bare: without a NODE_OPTIONS the bench itself may have been given.
    { name: '`pyrq daemon`', env: { NODE_OPTIONS: '' }, peaks: [] },
    {
      name: `as contrib/pyrq.service starts it (NODE_OPTIONS=${nodeOptions})`,
      env: { NODE_OPTIONS: nodeOptions },
      peaks: [],
    },
  ];
  let appliedInMinute = -1;
  let discarded = 0;
  let attempts = 0;
  // Alternated, run for run (the host's load drifts), the first launch changing each run.
  const order = Array.from({ length: s.runs }, (_, i) => (i % 2 === 0 ? launches : [...launches].reverse())).flat();
  for (const launch of order) {
    for (;;) {
      if (++attempts > 3 * order.length)
        throw new Error(`start-up peak: ${discarded} starts fired or ran into a minute's fires; giving up`);
      if (s.waitForQuiet) await quietPart(2, 30);
      if (appliedInMinute !== minuteOf(Date.now()) || !s.waitForQuiet) {
        await s.admin.flushall();
        const r = await runCli(['apply', '--dir', s.dir, '--redis-url', s.redis.url]);
        if (r.code !== 0) throw new Error(`start-up peak: apply failed: ${r.stderr.slice(-1000)}`);
        appliedInMinute = minuteOf(Date.now());
        // The apply took the minute's first seconds; a start too close to its end would
        // run into the next minute's fires.
        if (s.waitForQuiet && (Date.now() % 60_000) / 1000 >= 35) continue;
      }
      const startedMinute = minuteOf(Date.now());
      const daemon = await startDaemon(['--dir', s.dir, '--redis-url', s.redis.url], s.work, launch.env);
      let peak: number;
      let fired: boolean;
      try {
        await daemon.waitForLog((l) => l.msg === 'first reconcile finished: dispatching', 120_000);
        await sleep(SETTLE_MS);
        peak = memoryMb(daemon.pid).peak;
        fired = daemon.logs().some((l) => l.msg === 'fired' || l.msg === 'job enqueued');
      } finally {
        await daemon.stop();
      }
      const turned = minuteOf(Date.now()) !== startedMinute;
      if (s.waitForQuiet && (fired || turned)) {
        discarded++;
        s.log(
          `start-up peak, ${launch.name}: a start ${fired ? 'fired' : 'ran into the next minute'} (${peak.toFixed(0)} MB): run again`,
        );
        continue;
      }
      launch.peaks.push(Math.round(peak));
      s.log(
        `start-up peak, ${launch.name}, ${launch.peaks.length}/${s.runs}: ${peak.toFixed(0)} MB (VmHWM ${SETTLE_MS / 1000} s after its first reconcile finished${fired ? '; something fired' : ''})`,
      );
      break;
    }
  }
  const sc = `daemon start-up, ${s.count.toLocaleString('en-US')} schedules in the registry`;
  return launches.flatMap((l) => [
    figure(
      sc,
      `peak RSS of a start, ${l.name} (VmHWM after the first reconcile and warm-up, nothing fired)`,
      'MB',
      l.peaks,
      {
        op: 'le',
        value: 300,
      },
    ),
    figure(sc, `peak RSS of a start, ${l.name}: largest run`, 'MB', [Math.max(...l.peaks)], { op: 'le', value: 300 }),
  ]);
}
