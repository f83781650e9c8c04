/**
 * Throughput: N schedules due at the same instant, fired by `pyrq daemon`. Measured from
 * outside: from the instant until the RQ queues hold all N new jobs (LLEN polled every
 * millisecond or so from another connection, from just before the instant). The first
 * instant after the daemon starts warms its caches and is not counted.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RqKeys } from '../src/redis/keys.js';
import { QUEUE_NAMES, makeDueTogether, writeScheduleFiles } from './data.js';
import { runCli, sleep, sleepUntil, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';
import { httpBase, type Scraper, scrapeEverySecond } from './scrape.js';

export interface BurstScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  count: number;
  /** Seconds between instants (divides 60). */
  periodS: number;
  runs: number;
  log: (msg: string) => void;
  /** The `--http` variant: the daemon serves /metrics, scraped every second throughout. */
  http?: boolean;
}

async function queued(c: Redis): Promise<number> {
  const p = c.pipeline();
  for (const q of QUEUE_NAMES) p.llen(RqKeys.queue(q));
  const res = (await p.exec()) ?? [];
  return res.reduce((sum, [, n]) => sum + Number(n), 0);
}

/** Microseconds Redis spent in scripts so far (EVALSHA and EVAL, INFO commandstats). */
async function scriptUsec(c: Redis): Promise<number> {
  const info = await c.info('commandstats');
  let sum = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm)) sum += Number(m[1]);
  return sum;
}

export async function fireBurst(s: BurstScenario): Promise<Figure[]> {
  const dir = join(s.work, `burst-${s.count}`);
  mkdirSync(dir, { recursive: true });
  writeScheduleFiles(dir, makeDueTogether(s.count, s.periodS));
  await s.admin.flushall();
  const applied = await runCli(['apply', '--dir', dir, '--redis-url', s.redis.url]);
  if (applied.code !== 0) throw new Error(`burst: apply failed: ${applied.stderr.slice(-1000)}`);
  const daemon = await startDaemon(
    ['--dir', dir, '--redis-url', s.redis.url, ...(s.http ? ['--http', '127.0.0.1:0'] : [])],
    s.work,
  );
  const scraper: Scraper | undefined = s.http ? scrapeEverySecond(await httpBase(daemon)) : undefined;
  let scraped = '';
  const watch = s.redis.client();
  const times: number[] = [];
  const fired: number[] = [];
  const instants: number[] = [];
  const usecPerJob: number[] = [];
  try {
    await daemon.waitForLog((l) => l.msg === 'reconcile' && l.deep === true, 60_000);
    const period = s.periodS * 1000;
    for (let i = 0; i <= s.runs; i++) {
      // The next instant far enough ahead to read the queues before it; the first one
      // (i = 0) warms the daemon up and is not counted.
      const at = Math.ceil((Date.now() + (i === 0 ? 2000 : 200)) / period) * period;
      await sleepUntil(at - 40);
      const base = await queued(watch);
      const usec0 = await scriptUsec(watch);
      let done = NaN;
      while (Date.now() < at + 10_000) {
        if ((await queued(watch)) >= base + s.count) {
          done = Date.now();
          break;
        }
        await sleep(1);
      }
      if (Number.isNaN(done))
        throw new Error(`burst: ${s.count} jobs did not arrive within 10 s of ${new Date(at).toISOString()}`);
      // Redis's own time in the fire script (INFO commandstats), per job enqueued.
      const perJob = ((await scriptUsec(watch)) - usec0) / s.count;
      s.log(
        `burst ${i === 0 ? 'warm-up' : `${i}/${s.runs}`}: ${s.count} jobs in their queues ${done - at} ms after the instant; Redis ${perJob.toFixed(1)} µs per job in scripts`,
      );
      if (i > 0) times.push(done - at);
      if (i > 0) usecPerJob.push(Math.round(perJob * 10) / 10);
      instants.push(at);
    }
    // The daemon's own account of each tick (its 'fired' log line; pino writes it
    // asynchronously, so the last one may still be on its way).
    for (const at of instants.slice(1)) {
      const line = await daemon.waitForLog(
        (l) =>
          l.msg === 'fired' && typeof l.now === 'string' && Date.parse(l.now) >= at && Date.parse(l.now) < at + period,
        5_000,
      );
      fired.push(Number(line.durationMs));
    }
  } finally {
    const r = scraper?.stop();
    if (r)
      scraped = `${r.scrapes} scrapes of /metrics (${r.failures} failed), ${r.meanMs.toFixed(1)} ms each on average`;
    watch.disconnect();
    await daemon.stop();
  }
  if (scraped) s.log(`burst --http: ${scraped}`);
  const sc = `${s.count.toLocaleString('en-US')} schedules due at one instant${s.http ? ', --http scraped every 1 s' : ''}`;
  const rate = times.map((t) => Math.round(s.count / (t / 1000)));
  return [
    figure(sc, 'instant → all jobs in their RQ queues', 'ms', times, { op: 'le', value: 100 }),
    figure(sc, 'Redis time per fired job (script usec, INFO commandstats)', 'µs', usecPerJob, { op: 'le', value: 10 }),
    figure(sc, 'jobs per second', '/s', rate),
    figure(sc, "daemon's own tick time (log)", 'ms', fired),
  ];
}
