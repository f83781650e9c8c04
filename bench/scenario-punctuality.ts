/**
 * Punctuality: N schedules firing every second under `pyrq daemon` for a window of W
 * seconds. Counted from the queues afterwards: every (schedule, second) of the window
 * must have exactly one job (job ids carry the occurrence). Lateness is measured twice:
 * - the job's `enqueued_at` (= the run record's `at`) minus the occurrence: RQ's own
 *   notion of enqueue time, stamped (by RQ too) when the write is sent;
 * - from outside, when a worker could first see the job: Redis keyspace events for the
 *   job hash's HSET, which Redis sends when the fire script that wrote it ends, the same
 *   moment its RPUSH becomes visible (a script is atomic). Each event names the job key,
 *   so the job; the first one is its arrival. (RPUSH events no longer do: the script
 *   pushes a call's jobs with one RPUSH per queue, one event for many jobs.) Each job's
 *   arrival (of its event, in this process) minus its own occurrence (from its id) is its
 *   time to the queue.
 *
 * For this release only, the old "in the queue" figure is printed beside it, labelled as
 * wrong: every event's arrival modulo one second, tied to no job (a job 1,003 ms late
 * counted as 3 ms, and events of the second after the window were counted too).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RqKeys } from '../src/redis/keys.js';
import { parseJobId } from '../src/rq/job-id.js';
import { QUEUE_NAMES, makeDueTogether, writeScheduleFiles } from './data.js';
import { runCli, sleepUntil, startDaemon } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure, percentile } from './report.js';

export interface PunctualityScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  count: number;
  windowS: number;
  runs: number;
  log: (msg: string) => void;
}

/** RQ's `YYYY-MM-DDTHH:MM:SS.ffffffZ` as epoch ms (with the fraction). */
const rqTime = (s: string): number => Date.parse(`${s.slice(0, 23)}Z`) + Number(`0.${s.slice(23, 26) || '0'}`);

interface RunResult {
  p50: number;
  p99: number;
  max: number;
  missed: number;
  duplicated: number;
  seenP50: number;
  seenP99: number;
  seenMax: number;
  /** Jobs whose arrival was measured (must be every job of the window). */
  seenJobs: number;
  /** The old, wrong method (arrival modulo 1 s, not tied to jobs), for comparison. */
  oldSeenP50: number;
  oldSeenP99: number;
  oldSeenEvents: number;
  /** The machine's floor in the same window: a bare Node timer's lateness at each second. */
  timerP50: number;
  timerP99: number;
}

/**
 * A bare Node process that wakes at every whole second of [w0, w1) and prints how late
 * each wake-up was (ms): the floor of any daemon's lateness on this machine at this load
 * (the daemon must wake before it can stamp or send anything).
 */
const TIMER_FLOOR = `
const [w0, w1] = process.argv.slice(1).map(Number);
const out = [];
const next = (t) => {
  if (t >= w1) return process.stdout.write(JSON.stringify(out));
  setTimeout(() => {
    const now = Date.now();
    if (now < t) return next(t);
    out.push(now - t);
    next(t + 1000);
  }, Math.max(0, t - Date.now()));
};
next(w0);`;

async function oneRun(s: PunctualityScenario, dir: string): Promise<RunResult> {
  await s.admin.flushall();
  const applied = await runCli(['apply', '--dir', dir, '--redis-url', s.redis.url]);
  if (applied.code !== 0) throw new Error(`punctuality: apply failed: ${applied.stderr.slice(-1000)}`);
  // Keyspace events for hash writes (a job's arrival: its HSET's event, sent when the
  // script that wrote it ends) and list pushes (the old method below).
  await s.admin.config('SET', 'notify-keyspace-events', 'Elh');
  const sub = s.redis.client();
  // Arrival time per job key: its first HSET event.
  const arrivals = new Map<string, number>();
  const seen: number[] = [];
  sub.on('message', (channel: string, key: string) => {
    const now = Date.now();
    if (channel.endsWith(':rpush')) seen.push(now);
    else if (key.startsWith('rq:job:') && !arrivals.has(key)) arrivals.set(key, now);
  });
  if (sub.status !== 'ready') await new Promise((resolve) => sub.once('ready', resolve));
  await sub.subscribe('__keyevent@0__:rpush', '__keyevent@0__:hset');
  const daemon = await startDaemon(['--dir', dir, '--redis-url', s.redis.url], s.work);
  let w0 = 0;
  let w1 = 0;
  let timerOut = '';
  try {
    await daemon.waitForLog((l) => l.msg === 'reconcile' && l.deep === true, 60_000);
    w0 = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    w1 = w0 + s.windowS * 1000;
    const timer = spawn(process.execPath, ['-e', TIMER_FLOOR, String(w0), String(w1)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    timer.stdout.on('data', (d) => (timerOut += String(d)));
    const exited = new Promise((resolve) => timer.on('exit', resolve));
    await sleepUntil(w1 + 1500);
    await exited;
  } finally {
    await daemon.stop();
    sub.disconnect();
    await s.admin.config('SET', 'notify-keyspace-events', '');
  }
  // Every job in the queues, by (schedule, occurrence); and each one's arrival (its job
  // hash's first HSET event).
  const counts = new Map<string, number>();
  const inWindow: string[] = [];
  const seenLate: number[] = [];
  for (const q of QUEUE_NAMES) {
    const jobs = await s.admin.lrange(RqKeys.queue(q), 0, -1);
    for (const jobId of jobs) {
      const p = parseJobId(jobId);
      if (!p || p.time < w0 || p.time >= w1) continue;
      const key = `${p.scheduleId}\t${p.time}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      inWindow.push(jobId);
      const arrived = arrivals.get(RqKeys.job(jobId));
      if (arrived === undefined)
        throw new Error(`punctuality: no HSET event for ${RqKeys.job(jobId)}: its arrival is unknown`);
      seenLate.push(arrived - p.time);
    }
  }
  const expected = s.count * s.windowS;
  let duplicated = 0;
  for (const n of counts.values()) duplicated += n - 1;
  const missed = expected - counts.size;
  const p = s.admin.pipeline();
  for (const id of inWindow) p.hget(RqKeys.job(id), 'enqueued_at');
  const res = (await p.exec()) ?? [];
  const late = inWindow.map((id, i) => rqTime(String(res[i]![1])) - parseJobId(id)!.time);
  // The old, wrong method, kept for this release to show how far off it was.
  const timerLate = JSON.parse(timerOut || '[]') as number[];
  const oldSeen = seen.filter((t) => t >= w0 && t < w1 + 1000).map((t) => t - Math.floor(t / 1000) * 1000);
  return {
    p50: percentile(late, 50),
    p99: percentile(late, 99),
    max: Math.max(...late),
    missed,
    duplicated,
    seenP50: percentile(seenLate, 50),
    seenP99: percentile(seenLate, 99),
    seenMax: Math.max(...seenLate),
    seenJobs: seenLate.length,
    oldSeenP50: percentile(oldSeen, 50),
    oldSeenP99: percentile(oldSeen, 99),
    oldSeenEvents: oldSeen.length,
    timerP50: percentile(timerLate, 50),
    timerP99: percentile(timerLate, 99),
  };
}

export async function punctuality(s: PunctualityScenario): Promise<Figure[]> {
  const dir = join(s.work, `punctual-${s.count}`);
  mkdirSync(dir, { recursive: true });
  writeScheduleFiles(dir, makeDueTogether(s.count, 1, 11));
  const rs: RunResult[] = [];
  for (let i = 0; i < s.runs; i++) {
    const r = await oneRun(s, dir);
    rs.push(r);
    s.log(
      `punctuality ${i + 1}/${s.runs}: lateness p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; in the queue (per job) p50 ${r.seenP50} ms, p99 ${r.seenP99} ms, max ${r.seenMax} ms over ${r.seenJobs} jobs ` +
        `(old, wrong method: p50 ${r.oldSeenP50} ms, p99 ${r.oldSeenP99} ms over ${r.oldSeenEvents} events); missed ${r.missed}, duplicated ${r.duplicated}; ` +
        `floor, a bare Node timer's lateness at each second: p50 ${r.timerP50} ms, p99 ${r.timerP99} ms`,
    );
  }
  const sc = `${s.count.toLocaleString('en-US')} schedules every second, ${s.windowS} s`;
  const col = (k: keyof RunResult) => rs.map((r) => r[k]);
  return [
    figure(sc, 'lateness p50 (enqueued_at − occurrence)', 'ms', col('p50'), { op: 'le', value: 5 }),
    figure(sc, 'lateness p99', 'ms', col('p99'), { op: 'le', value: 25 }),
    figure(sc, 'lateness max', 'ms', col('max')),
    // The same targets, held against the moment a worker can see the job: stricter
    // than enqueued_at, which (as in RQ itself) is stamped when the write is sent.
    figure(
      sc,
      "in the queue p50 (its job hash's HSET event − its occurrence)",
      'ms',
      col('seenP50'),
      { op: 'le', value: 5 },
      `${col('seenJobs')[0]} jobs, each tied to its event`,
    ),
    figure(sc, 'in the queue p99', 'ms', col('seenP99'), { op: 'le', value: 25 }),
    figure(sc, 'in the queue max', 'ms', col('seenMax')),
    // This release only: the figure earlier benches printed, from the same run.
    figure(
      sc,
      'in the queue p50, OLD WRONG METHOD (event arrival mod 1 s, not tied to jobs)',
      'ms',
      col('oldSeenP50'),
      undefined,
      `${col('oldSeenEvents')[0]} events counted for ${s.count * s.windowS} jobs`,
    ),
    figure(sc, 'in the queue p99, OLD WRONG METHOD', 'ms', col('oldSeenP99')),
    // The floor, measured in the same window: no daemon can be earlier than its wake-up.
    figure(sc, "floor: a bare Node timer's lateness at each second, p50", 'ms', col('timerP50')),
    figure(sc, "floor: a bare Node timer's lateness at each second, p99", 'ms', col('timerP99')),
    figure(sc, 'missed occurrences', '', col('missed'), { op: 'eq', value: 0 }),
    figure(sc, 'duplicated occurrences', '', col('duplicated'), { op: 'eq', value: 0 }),
  ];
}
