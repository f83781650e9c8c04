/**
 * `pyrq daemon` with a large registry loaded (the files of the scale scenario):
 *
 * - propagation: a file edit until `pyrq:index` shows the new hash; a socket `upsert`
 *   until it shows the pushed schedule (polled from another connection, ~1 ms apart);
 * - steady state: resident memory, and CPU (utime + stime from /proc) over windows in
 *   the quiet part of a minute, when nothing is due (the data's occurrences all lie on
 *   whole minutes).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { type RawSchedule, fileText } from './data.js';
import { cpuMs, memoryMb, sleep, sleepUntil, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';

export interface DaemonScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  dir: string;
  files: string[];
  schedules: RawSchedule[];
  perFile: number;
  runs: number;
  /** Length of one CPU window, ms. */
  windowMs: number;
  /** Wait for the quiet part of a minute before measuring (up to a minute; off in --quick). */
  waitForQuiet: boolean;
  log: (msg: string) => void;
}

/** Polls the index entry of `id` until `done(value)`; returns when, in ms since `from`. */
async function until(c: Redis, id: string, done: (v: string | null) => boolean, from: number): Promise<number> {
  while (performance.now() - from < 10_000) {
    if (done(await c.hget('pyrq:index', id))) return performance.now() - from;
    await sleep(1);
  }
  throw new Error(`propagation: ${id} did not change within 10 s`);
}

/** Waits until the second of the minute is in [from, to) (so no fire is near). */
export async function quietPart(fromS: number, toS: number): Promise<void> {
  if (toS <= fromS) throw new Error(`quietPart: [${fromS}, ${toS}) s of a minute is empty`);
  for (;;) {
    const s = (Date.now() % 60_000) / 1000;
    if (s >= fromS && s < toS) return;
    await sleep(s < fromS ? (fromS - s) * 1000 : (60 - s + fromS) * 1000);
  }
}

/**
 * Waits, when needed, until a window of `windowMs` (and a second after it) fits in the
 * quiet part of the current minute. Each window is placed on its own: the windows of
 * more than 4 runs do not fit in one minute's quiet part (a single wait for all of them
 * never ended with --runs 5 or more).
 */
export async function quietWindow(windowMs: number): Promise<void> {
  await quietPart(4, 56 - (windowMs + 1000) / 1000);
}

export async function daemonScenario(s: DaemonScenario): Promise<Figure[]> {
  const daemon = await startDaemon(['--dir', s.dir, '--redis-url', s.redis.url], s.work);
  const watch = s.redis.client();
  const edits: number[] = [];
  const upserts: number[] = [];
  const replies: number[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  try {
    const started = await daemon.waitForLog((l) => l.msg === 'reconcile' && l.deep === true, 180_000);
    s.log(`daemon: initial deep reconcile of ${s.schedules.length} schedules took ${String(started.durationMs)} ms`);
    // Propagation, in a quiet part of a minute.
    if (s.waitForQuiet) await quietPart(3, 40);
    for (let i = 0; i < Math.max(s.runs, 5); i++) {
      const f = (i * 37) % s.files.length;
      const slice = s.schedules.slice(f * s.perFile, (f + 1) * s.perFile);
      const target = slice[i % slice.length]!;
      target.description = `edited in run ${i} at ${Date.now()}`;
      const id = String(target.id);
      const before = await watch.hget('pyrq:index', id);
      const format = s.files[f]!.split('.').pop() as 'json' | 'toml' | 'yaml';
      const t0 = performance.now();
      writeFileSync(join(s.dir, s.files[f]!), fileText(format, slice));
      edits.push(await until(watch, id, (v) => v !== before, t0));
      s.log(`file edit ${i + 1}: ${s.files[f]} (${id}) in the registry after ${edits.at(-1)!.toFixed(1)} ms`);
      await sleep(300);
    }
    for (let i = 0; i < Math.max(s.runs, 10); i++) {
      const id = `pushed-${i % 5}`;
      const schedule = { id, function: 'ops.tasks.ping', every: '1h', kwargs: { run: i } };
      const before = await watch.hget('pyrq:index', id);
      const t0 = performance.now();
      const reply = daemon.ask({ op: 'upsert', schedule }).then((r) => {
        replies.push(performance.now() - t0);
        if (!r.ok) throw new Error(`upsert refused: ${JSON.stringify(r.error)}`);
      });
      upserts.push(await until(watch, id, (v) => v !== null && v !== before, t0));
      await reply;
      s.log(
        `socket upsert ${i + 1} (${before ? 'update' : 'create'} ${id}): in the registry after ${upserts.at(-1)!.toFixed(1)} ms, reply after ${replies.at(-1)!.toFixed(1)} ms`,
      );
      await sleep(50);
    }
    // Steady state: let the dispatcher finish what the edits woke it for, then measure.
    await sleep(3000);
    for (let i = 0; i < s.runs; i++) {
      if (s.waitForQuiet) await quietWindow(s.windowMs);
      const c0 = cpuMs(daemon.pid);
      const t0 = Date.now();
      await sleepUntil(t0 + s.windowMs);
      const c1 = cpuMs(daemon.pid);
      const used = ((c1 - c0) / (Date.now() - t0)) * 100;
      const m = memoryMb(daemon.pid);
      cpu.push(used);
      rss.push(m.rss);
      s.log(
        `steady state ${i + 1}/${s.runs}: CPU ${used.toFixed(2)} % of a core over ${s.windowMs / 1000} s, RSS ${m.rss.toFixed(0)} MB (peak so far ${m.peak.toFixed(0)} MB)`,
      );
      await sleep(1000);
    }
    const peak = memoryMb(daemon.pid).peak;
    const sc = `daemon, ${s.schedules.length.toLocaleString('en-US')} schedules loaded`;
    return [
      figure(sc, 'file edit → registry', 'ms', edits, { op: 'le', value: 300 }),
      figure(sc, 'socket upsert → registry', 'ms', upserts, { op: 'le', value: 20 }),
      figure(sc, 'socket upsert → reply', 'ms', replies),
      figure(
        sc,
        'RSS, steady state',
        'MB',
        rss,
        { op: 'le', value: 300 },
        `peak over the daemon's life ${peak.toFixed(0)} MB (start-up reconcile included)`,
      ),
      figure(sc, 'peak RSS over its life (start-up reconcile included, VmHWM)', 'MB', [Math.round(peak)], {
        op: 'le',
        value: 300,
      }),
      figure(sc, 'CPU between fires', '% of a core', cpu, { op: 'le', value: 2 }),
    ];
  } finally {
    watch.disconnect();
    await daemon.stop();
  }
}
