/**
 * Deep re-sync under fire: a daemon with the scale scenario's schedules loaded, plus 20
 * per-second probe schedules, is asked for a deep re-sync (`pyrq reconcile` over the
 * socket). Figures: how long the re-sync took (its log line), and the lateness of the
 * probes' jobs whose occurrence fell while it ran (enqueued_at, stamped by Redis's clock,
 * minus the occurrence), beside the same figure for the seconds before it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parseJobId } from '../src/rq/job-id.js';
import { sleep, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure, percentile } from './report.js';

export interface ResyncScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  dir: string;
  count: number;
  runs: number;
  log: (msg: string) => void;
}

const PROBES = 20;

/** Lateness (ms) of probe jobs whose occurrence is in [from, to). */
async function lateness(admin: Redis, from: number, to: number): Promise<number[]> {
  const jobs = (await admin.lrange('rq:queue:probe', 0, -1))
    .map((id) => ({ id, occ: parseJobId(id)?.time ?? NaN }))
    .filter((j) => j.occ >= from && j.occ < to);
  const p = admin.pipeline();
  for (const j of jobs) p.hget(`rq:job:${j.id}`, 'enqueued_at');
  const res = (await p.exec()) ?? [];
  return jobs.map((j, i) => Date.parse(String(res[i]?.[1])) - j.occ).filter(Number.isFinite);
}

export async function resyncScenario(s: ResyncScenario): Promise<Figure[]> {
  const probes = Array.from({ length: PROBES }, (_, i) => ({
    id: `probe-${i}`,
    function: 'bench.tasks.probe',
    every: 1,
    queue: 'probe',
  }));
  const probeFile = join(s.dir, 'zz-probes.json');
  writeFileSync(probeFile, JSON.stringify(probes));
  const daemon = await startDaemon(['--dir', s.dir, '--redis-url', s.redis.url], s.work);
  const took: number[] = [];
  const during: number[] = [];
  const before: number[] = [];
  try {
    await daemon.waitForLog((l) => l.msg === 'reconcile' && l.deep === true, 300_000);
    await sleep(3000); // past the start-up's warm-up
    for (let r = 0; r < s.runs; r++) {
      const t0 = Date.now();
      const reply = await daemon.ask({ op: 'reconcile' }, 300_000);
      if (!reply.ok) throw new Error(`re-sync failed: ${JSON.stringify(reply.error)}`);
      const t1 = Date.now();
      await sleep(1500); // the last occurrences of the window are enqueued
      const line = daemon
        .logs()
        .filter((l) => l.msg === 'reconcile' && l.deep === true)
        .at(-1)!;
      took.push(Number(line.durationMs));
      // At least one whole second from the start: a re-sync shorter than the probes'
      // period (the --quick sizes) would otherwise hold no occurrence at all, and its
      // lateness rows would read NaN. The second that follows the start holds one
      // occurrence of each probe, fired while the re-sync ran or just after it.
      const windowEnd = Math.max(t1, t0 + 1000);
      during.push(...(await lateness(s.admin, t0, windowEnd)));
      before.push(...(await lateness(s.admin, t0 - (windowEnd - t0) - 1000, t0)));
      s.log(
        `re-sync ${r + 1}/${s.runs}: ${String(line.durationMs)} ms; probe lateness during it p50 ${percentile(during, 50)} ms, max ${Math.max(...during)} ms (before it: max ${Math.max(...before)} ms)`,
      );
      await sleep(1000);
    }
    const sc = `deep re-sync, ${s.count.toLocaleString('en-US')} schedules`;
    return [
      figure(sc, 'deep re-sync', 'ms', took, { op: 'le', value: 3000 }),
      figure(
        sc,
        `fire lateness while it runs (${PROBES} per-second schedules), p50`,
        'ms',
        [percentile(during, 50)],
        { op: 'le', value: 5 },
        `${during.length} jobs; window: the re-sync, at least 1 s from its start`,
      ),
      figure(sc, 'fire lateness while it runs, p99', 'ms', [percentile(during, 99)], { op: 'le', value: 25 }),
      figure(sc, 'fire lateness while it runs, max', 'ms', [Math.max(...during)]),
      figure(
        sc,
        'fire lateness before it, p99 (context)',
        'ms',
        [percentile(before, 99)],
        undefined,
        `${before.length} jobs`,
      ),
    ];
  } finally {
    await daemon.stop();
  }
}
