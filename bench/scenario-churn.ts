/**
 * Churn: a daemon watching 2,000 files while they are created, edited and deleted at 50
 * operations a second. Figures: how long each reconcile the churn caused took (from the
 * daemon's `reconcile` log lines), and how long after its file was deleted a per-second
 * schedule still fired (the enqueue time of its last job, by Redis's clock, minus the
 * moment the file was gone, by this process's clock: the same machine's clock).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parseJobId } from '../src/rq/job-id.js';
import { type Figure, figure, percentile } from './report.js';
import { sleep, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { rng } from '../scripts/rng.js';

export interface ChurnOptions {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  files: number;
  opsPerSecond: number;
  seconds: number;
  log: (msg: string) => void;
}

const PER_SECOND_SHARE = 0.1;

function scheduleText(id: string, everyS: number, version: number): string {
  return JSON.stringify({ id, function: 'app.tasks.churn', every: everyS, kwargs: { v: version }, queue: 'churn' });
}

export async function churn(o: ChurnOptions): Promise<Figure[]> {
  const { admin, redis, log } = o;
  await admin.flushall();
  const dir = join(o.work, 'churn');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rnd = rng(11);
  // id -> every (s); per-second ones are the ones deleted (their late fires are visible).
  const live = new Map<string, number>();
  let next = 0;
  const create = (): string => {
    const id = `c${next++}`;
    const every = rnd() < PER_SECOND_SHARE ? 1 : 60;
    writeFileSync(join(dir, `${id}.json`), scheduleText(id, every, 0));
    live.set(id, every);
    return id;
  };
  for (let i = 0; i < o.files; i++) create();
  const d = await startDaemon(['--dir', dir, '--redis-url', redis.url], o.work);
  try {
    await d.waitForLog((l) => l.msg === 'reconcile' && Number(l.created) >= o.files, 120_000);
    const churnStart = Date.now();
    log(`churn: ${o.files} files applied; ${o.opsPerSecond} operations a second for ${o.seconds} s`);
    const deletedAt = new Map<string, number>();
    const total = o.opsPerSecond * o.seconds;
    let version = 1;
    for (let i = 0; i < total; i++) {
      await sleep(churnStart + (i * 1000) / o.opsPerSecond - Date.now());
      const r = rnd();
      const ids = [...live.keys()];
      if (r < 0.4) {
        // Delete a per-second schedule's file (a create follows to keep the count).
        const perSecond = ids.filter((id) => live.get(id) === 1);
        const id = perSecond[Math.floor(rnd() * perSecond.length)];
        if (id) {
          rmSync(join(dir, `${id}.json`));
          deletedAt.set(id, Date.now());
          live.delete(id);
        }
      } else if (r < 0.6) {
        create();
      } else {
        const id = ids[Math.floor(rnd() * ids.length)]!;
        writeFileSync(join(dir, `${id}.json`), scheduleText(id, live.get(id)!, version++));
      }
    }
    const churnEnd = Date.now();
    // Let the last changes settle, then read what happened.
    await sleep(3000);
    const timeOf = (l: Record<string, unknown>) => (typeof l.time === 'number' ? l.time : Date.parse(String(l.time)));
    const reconciles = d
      .logs()
      .filter((l) => l.msg === 'reconcile' && timeOf(l) >= churnStart && timeOf(l) <= churnEnd + 3000)
      .map((l) => Number(l.durationMs));
    const late: number[] = [];
    const lastJob = new Map<string, { time: number; jobId: string }>();
    for (const jobId of await admin.lrange('rq:queue:churn', 0, -1)) {
      const p = parseJobId(jobId);
      if (p?.kind !== 'scheduled' || !deletedAt.has(p.scheduleId)) continue;
      if (p.time > (lastJob.get(p.scheduleId)?.time ?? -1)) lastJob.set(p.scheduleId, { time: p.time, jobId });
    }
    // The enqueue time of the last job of each deleted schedule, minus its deletion.
    const pipe = admin.pipeline();
    const ids = [...lastJob.keys()];
    for (const id of ids) pipe.hget(`rq:job:${lastJob.get(id)!.jobId}`, 'enqueued_at');
    const res = (await pipe.exec()) ?? [];
    ids.forEach((id, i) => {
      const at = Date.parse(String(res[i]?.[1] ?? ''));
      if (Number.isFinite(at)) late.push(Math.max(0, at - deletedAt.get(id)!));
    });
    log(
      `churn: ${reconciles.length} reconciles (p50 ${percentile(reconciles, 50)} ms, max ${Math.max(...reconciles)} ms); ${deletedAt.size} deletions, latest fire after a deletion ${Math.max(0, ...late)} ms`,
    );
    return [
      figure(
        'churn',
        `reconcile during churn (${o.files} files, ${o.opsPerSecond} ops/s), p50`,
        'ms',
        [percentile(reconciles, 50)],
        { op: 'le', value: 300 },
      ),
      figure('churn', 'reconcile during churn, max', 'ms', [Math.max(...reconciles)], { op: 'le', value: 300 }),
      figure(
        'churn',
        'latest fire after its file was deleted',
        'ms',
        [Math.max(0, ...late)],
        { op: 'le', value: 1000 },
        `${deletedAt.size} deletions`,
      ),
    ];
  } finally {
    await d.stop();
  }
}
