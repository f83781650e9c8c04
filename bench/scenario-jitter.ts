/**
 * Jitter and the herd: N schedules on the same hourly cron (the standard mix of
 * functions, queues and arguments), with `jitter`, applied and fired second by second
 * through the window by the dispatcher (in process, on a manual clock: the figures are
 * the spread and Redis's time per second, not wall-clock punctuality). The same N without
 * jitter are fired at the top of the hour for comparison. Prints a histogram of jobs per
 * slice of the window.
 *
 * Figures: how many seconds of the window are used (target: all of them), the busiest
 * second (jobs, and Redis's script time in it, INFO commandstats) against the whole herd
 * at once, and how many stored fire times differ from an independent computation of the
 * same schedules (another daemon's view; target 0).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { Dispatcher } from '../reconcilers/dispatcher.js';
import { reconcileOnce } from '../reconcilers/reconcile-once.js';
import { FileSource } from '../sources/files/file-source.js';
import { ManualClock } from '../src/clock.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../src/model/normalize.js';
import { Keys } from '../src/redis/keys.js';
import { Registry } from '../src/registry/registry.js';
import { nextFireTimeAfter } from '../src/schedule/jitter.js';
import { makeSchedules, type RawSchedule, writeScheduleFiles } from './data.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';

export interface JitterScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  count: number;
  /** The jitter window, seconds. */
  windowS: number;
  log: (msg: string) => void;
}

/** The top of an hour; applies happen ten minutes before it. */
const NOMINAL = Date.parse('2030-01-01T00:00:00Z');

function herd(n: number, jitterS: number | undefined): RawSchedule[] {
  return makeSchedules(n).map((s) => {
    const out: RawSchedule = { ...s, cron: '0 * * * *', timezone: 'UTC', enabled: true, overlap: 'allow' };
    delete out.every;
    delete out.catchup;
    if (jitterS !== undefined) out.jitter = jitterS;
    return out;
  });
}

/** Microseconds Redis spent in scripts so far. */
async function scriptUsec(c: Redis): Promise<number> {
  const info = await c.info('commandstats');
  let sum = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm)) sum += Number(m[1]);
  return sum;
}

async function applyDir(redis: Redis, dir: string, prefix: string): Promise<void> {
  const registry = new Registry(redis, prefix);
  const r = await reconcileOnce({
    sources: [new FileSource({ dir, ctx: DEFAULT_CONTEXT })],
    registry,
    clock: new ManualClock(NOMINAL - 600_000),
  });
  if (r.plan.errors.length > 0) throw new Error(`jitter: apply failed: ${JSON.stringify(r.plan.errors[0])}`);
}

/** Fires second by second over [from, to]; jobs and Redis script ms per second. */
async function fireSeconds(
  redis: Redis,
  prefix: string,
  from: number,
  to: number,
): Promise<{ jobs: number[]; scriptMs: number[] }> {
  const clock = new ManualClock(from);
  const config = {
    dispatch: {
      catchup: 'latest' as const,
      overlap: 'allow' as const,
      historyLength: 10,
      batchSize: 250,
      graceMs: 5000,
    },
    frappe: { site: 'erp.example.com', user: 'Administrator' },
  };
  const d = new Dispatcher({ redis, keys: new Keys(prefix), clock, config });
  const jobs: number[] = [];
  const scriptMs: number[] = [];
  for (let t = from; t <= to; t += 1000) {
    clock.set(t);
    const before = await scriptUsec(redis);
    const r = await d.tickOnce(t);
    scriptMs.push((await scriptUsec(redis)) - before);
    jobs.push(r.enqueued);
  }
  return { jobs, scriptMs: scriptMs.map((us) => Math.round(us / 100) / 10) };
}

export async function jitterScenario(s: JitterScenario): Promise<Figure[]> {
  const { admin: redis, count, windowS } = s;
  await redis.flushall();
  const dirJ = join(s.work, 'jitter-herd');
  const dir0 = join(s.work, 'jitter-none');
  mkdirSync(dirJ, { recursive: true });
  mkdirSync(dir0, { recursive: true });
  const jittered = herd(count, windowS);
  writeScheduleFiles(dirJ, jittered, 100, ['json']);
  writeScheduleFiles(dir0, herd(count, undefined), 100, ['json']);
  // The herd without jitter first, alone: both herds have the same ids, hence the same job ids.
  await applyDir(redis, dir0, 'herd-0:');
  const z = await fireSeconds(redis, 'herd-0:', NOMINAL, NOMINAL);
  await redis.flushall();
  await applyDir(redis, dirJ, 'herd-j:');

  // Another daemon's view: the same schedules normalised and computed here, against the stored times.
  let mismatches = 0;
  const stored = await redis.zrange('herd-j:next', 0, -1, 'WITHSCORES');
  const byId = new Map<string, number>();
  for (let i = 0; i < stored.length; i += 2) byId.set(stored[i]!, Number(stored[i + 1]));
  for (const raw of jittered) {
    const r = normalizeSchedule(raw);
    if (!r.ok || nextFireTimeAfter(r.schedule, NOMINAL - 600_000) !== byId.get(r.schedule.id)) mismatches++;
  }

  const j = await fireSeconds(redis, 'herd-j:', NOMINAL, NOMINAL + (windowS - 1) * 1000);
  const fired = j.jobs.reduce((a, b) => a + b, 0);
  const used = j.jobs.filter((n) => n > 0).length;
  const peak = Math.max(...j.jobs);
  const peakMs = Math.max(...j.scriptMs);

  // The histogram, in up to 20 slices of the window.
  const slices = Math.min(20, windowS);
  const per = Math.ceil(windowS / slices);
  const lines: string[] = [];
  const max = Math.max(
    ...Array.from({ length: slices }, (_, k) => j.jobs.slice(k * per, (k + 1) * per).reduce((a, b) => a + b, 0)),
  );
  for (let k = 0; k * per < windowS; k++) {
    const n = j.jobs.slice(k * per, (k + 1) * per).reduce((a, b) => a + b, 0);
    lines.push(
      `  +${String(k * per).padStart(4)}s..+${String(Math.min((k + 1) * per, windowS) - 1).padStart(4)}s ${String(n).padStart(6)} ${'#'.repeat(Math.round((n / max) * 50))}`,
    );
  }
  s.log(
    `jitter: ${count} schedules on "0 * * * *" with jitter ${windowS}s; jobs per slice of the window:\n${lines.join('\n')}`,
  );
  s.log(
    `jitter: without jitter ${z.jobs[0]} jobs in one second (${z.scriptMs[0]} ms of Redis script time); with it at most ${peak} jobs (${peakMs} ms) in a second, ${used} of ${windowS} seconds used, ${fired} fired`,
  );
  return [
    figure('jitter', `seconds of the ${windowS} s window used (${count} schedules)`, 's', [used], {
      op: 'eq',
      value: windowS,
    }),
    figure('jitter', 'jobs fired over the window', 'jobs', [fired], { op: 'eq', value: count }),
    figure(
      'jitter',
      'busiest second, with jitter',
      'jobs',
      [peak],
      undefined,
      `uniform: ${Math.round(count / windowS)}`,
    ),
    figure('jitter', 'the same herd without jitter, in one second', 'jobs', [z.jobs[0]!]),
    figure('jitter', 'Redis script time in the busiest second, with jitter', 'ms', [peakMs]),
    figure('jitter', 'Redis script time of the herd without jitter', 'ms', [z.scriptMs[0]!]),
    figure('jitter', 'stored fire times differing from another computation', 'count', [mismatches], {
      op: 'eq',
      value: 0,
    }),
  ];
}
