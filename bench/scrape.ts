/**
 * A Prometheus stand-in for the `--http` variants of the bench: scrapes a daemon's
 * `/metrics` every second while a scenario runs, and counts what it got.
 */
import type { BenchDaemon } from './proc.js';

export interface Scraper {
  stop(): { scrapes: number; failures: number; meanMs: number };
}

/** The daemon's HTTP address, from its `http listener started` log line. */
export async function httpBase(daemon: BenchDaemon): Promise<string> {
  const line = await daemon.waitForLog((l) => l.msg === 'http listener started', 10_000);
  return `http://${String(line.http)}`;
}

export function scrapeEverySecond(base: string): Scraper {
  let scrapes = 0;
  let failures = 0;
  let totalMs = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    fetch(`${base}/metrics`)
      .then(async (r) => {
        await r.text();
        if (r.status !== 200) throw new Error(String(r.status));
        scrapes++;
        totalMs += performance.now() - t0;
      })
      .catch(() => failures++);
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      return { scrapes, failures, meanMs: scrapes ? totalMs / scrapes : NaN };
    },
  };
}
