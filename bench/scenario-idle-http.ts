/**
 * What the HTTP listener costs an idle daemon: CPU between fires with the large registry
 * loaded, measured the same way as the daemon scenario's "CPU between fires", once
 * without `--http` and once with it and `/metrics` scraped every second, one daemon
 * after the other on the same registry, so the two figures compare like with like.
 */
import type { Redis } from 'ioredis';
import { cpuMs, sleep, sleepUntil, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';
import { quietWindow } from './scenario-daemon.js';
import { httpBase, scrapeEverySecond } from './scrape.js';

export interface IdleHttpScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  dir: string;
  count: number;
  runs: number;
  windowMs: number;
  waitForQuiet: boolean;
  log: (msg: string) => void;
}

export async function idleHttp(s: IdleHttpScenario): Promise<Figure[]> {
  const sc = `daemon idle, ${s.count.toLocaleString('en-US')} schedules loaded`;
  const out: Figure[] = [];
  for (const http of [false, true]) {
    const daemon = await startDaemon(
      ['--dir', s.dir, '--redis-url', s.redis.url, ...(http ? ['--http', '127.0.0.1:0'] : [])],
      s.work,
    );
    const scraper = http ? scrapeEverySecond(await httpBase(daemon)) : undefined;
    const cpu: number[] = [];
    try {
      await daemon.waitForLog((l) => l.msg === 'reconcile' && l.deep === true, 180_000);
      // Let the start-up warm-up and its garbage collection pass, as the daemon scenario does.
      await sleep(5000);
      for (let i = 0; i < s.runs; i++) {
        if (s.waitForQuiet) await quietWindow(s.windowMs);
        const c0 = cpuMs(daemon.pid);
        const t0 = Date.now();
        await sleepUntil(t0 + s.windowMs);
        const used = ((cpuMs(daemon.pid) - c0) / (Date.now() - t0)) * 100;
        cpu.push(used);
        s.log(
          `idle${http ? ' --http, scraped every 1 s' : ''} ${i + 1}/${s.runs}: CPU ${used.toFixed(2)} % of a core over ${s.windowMs / 1000} s`,
        );
        await sleep(1000);
      }
    } finally {
      const r = scraper?.stop();
      if (r)
        s.log(
          `idle --http: ${r.scrapes} scrapes of /metrics (${r.failures} failed), ${r.meanMs.toFixed(1)} ms each on average`,
        );
      await daemon.stop();
    }
    out.push(
      figure(
        sc,
        `CPU between fires${http ? ', --http scraped every 1 s' : ' (same conditions, no --http)'}`,
        '% of a core',
        cpu,
      ),
    );
  }
  return out;
}
