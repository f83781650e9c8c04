/**
 * The floor of the fire path: what the same N jobs cost Redis when nothing but the
 * enqueue is done, beside pyrq's fire script, in interleaved rounds (so a loaded machine
 * hits all three alike; compare ratios, not lone figures).
 *
 *   pyrq       the dispatcher's own batches (buildDueItem, prepareFireBatch, batches of
 *              dispatch.batchSize = 250, Redis's clock), sent pipelined as the daemon
 *              sends them (sendFireBatch): compare-and-set, job HSET, RPUSH, run record,
 *              last-run state, next fire time
 *   every write  everything pyrq wrote (read back after its round: same keys, same
 *              bytes): job HSET, run-record LPUSH, last-run state HSET per job; per call
 *              the queue RPUSH, SADD rq:queues, the next fire times' and the outcome-pending
 *              ZADD; by a bare script with no check (bench/floor-writes.ts): pyrq's floor
 *   bare Lua   the very job hashes pyrq wrote (read back after its round: same fields,
 *              same bytes), written by a minimal script: HSET + RPUSH per job, no check,
 *              no history; same batch size, pipelined the same way
 *   RQ         RQ 1.13's own `Queue.enqueue_many` with one pipeline from /usr/bin/python3
 *              (SADD, HSET status, HSET job, RPUSH per job: Job.save's full field set)
 *
 * Per round: Redis's time per job (INFO commandstats usec: EVALSHA for the scripts, the
 * sum over every command for RQ's pipeline) and its main thread's CPU per job (that also
 * counts reading and parsing the arguments), and the wall time from the first byte sent
 * to the last reply (for RQ: pipe.execute()).
 *
 * Each round also runs pyrq, every write and bare Lua once more after a second of
 * idleness, as a daemon's fire comes: back to back, Redis's caches are warm; after an
 * idle second they are not, and the same round costs Redis more. The daemon's burst
 * compares with those rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { buildDueItem } from '../src/dispatch/build-items.js';
import { ScheduleCache } from '../src/dispatch/schedule-cache.js';
import { type FireItem, prepareFireBatch, sendFireBatch } from '../src/redis/commands/fire-batch.js';
import { Keys, RqKeys } from '../src/redis/keys.js';
import { makeDueTogether, QUEUE_NAMES, writeScheduleFiles } from './data.js';
import { BARE_LUA, buildFullWriteBatches, FULL_WRITES_LUA } from './floor-writes.js';
import { runCli } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure, median } from './report.js';

export interface FloorScenario {
  redis: BenchRedis;
  admin: Redis;
  work: string;
  count: number;
  runs: number;
  log: (msg: string) => void;
}

const BATCH = 250;
/** The idleness before each of the "after idle" rounds (a per-second schedule's gap). */
const IDLE_MS = 1000;
const PYTHON = process.env.PYRQ_BENCH_PYTHON ?? '/usr/bin/python3';
const RQ_SCRIPT = fileURLToPath(new URL('../../bench/floor-rq-enqueue.py', import.meta.url));

interface Stats {
  /** usec per command name (INFO commandstats). */
  usec: Map<string, number>;
  calls: Map<string, number>;
  /** Main thread CPU, µs. */
  cpu: number;
}

async function stats(c: Redis): Promise<Stats> {
  const info = await c.info('commandstats');
  const usec = new Map<string, number>();
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls.set(m[1]!, Number(m[2]));
    usec.set(m[1]!, Number(m[3]));
  }
  const cpu = await c.info('cpu');
  const u = Number(/used_cpu_user_main_thread:([\d.]+)/.exec(cpu)![1]);
  const sy = Number(/used_cpu_sys_main_thread:([\d.]+)/.exec(cpu)![1]);
  return { usec, calls, cpu: (u + sy) * 1e6 };
}

function delta(a: Stats, b: Stats, only?: string[]): { usec: number; cpu: number } {
  let usec = 0;
  for (const [k, v] of b.usec) {
    if (k === 'info') continue;
    if (only && !only.includes(k)) continue;
    usec += v - (a.usec.get(k) ?? 0);
  }
  return { usec, cpu: b.cpu - a.cpu };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export async function floorScenario(s: FloorScenario): Promise<Figure[]> {
  const c = s.redis.client();
  const keys = new Keys();
  try {
    const dir = join(s.work, `floor-${s.count}`);
    mkdirSync(dir, { recursive: true });
    writeScheduleFiles(dir, makeDueTogether(s.count, 10));
    await s.admin.flushall();
    const applied = await runCli(['apply', '--dir', dir, '--redis-url', s.redis.url]);
    if (applied.code !== 0) throw new Error(`floor: apply failed: ${applied.stderr.slice(-1000)}`);
    // Every schedule due at one past instant T (so Redis's TIME is after every occurrence).
    const T = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;
    const ids = await c.zrange(keys.next, 0, -1);
    const cache = new ScheduleCache(c, keys, {});
    const problems = await cache.load(ids);
    if (problems.length > 0) throw new Error(`floor: cannot load: ${problems[0]!.message}`);
    const items: FireItem[] = ids.map((id) => buildDueItem(id, cache.get(id)!, T, T));
    const jobKeys = items.flatMap((it) =>
      it.ops.flatMap((op) => (op.kind === 'enqueue' ? [RqKeys.job(op.jobId)] : [])),
    );
    const jobs = jobKeys.length;
    const queueKeys = [
      ...QUEUE_NAMES.map((q) => RqKeys.queue(q)),
      ...QUEUE_NAMES.map((q) => RqKeys.queue(`floor-${q}`)),
    ];

    const reset = async (): Promise<void> => {
      const p = c.pipeline();
      for (let i = 0; i < jobKeys.length; i += 1000) p.del(...jobKeys.slice(i, i + 1000));
      p.del(...queueKeys);
      p.del(keys.outcomesPending);
      for (const id of ids) {
        p.zadd(keys.next, T, id);
        p.del(keys.runs(id));
      }
      p.eval("for _, k in ipairs(redis.call('KEYS', 'rq:job:floor-*')) do redis.call('DEL', k) end return 0", 0);
      await p.exec();
    };

    // pyrq: batches prepared as the dispatcher prepares them (ahead of the instant).
    const wire = { args: 0, bytes: 0 };
    const pyrqRound = async (): Promise<{ ms: number; usec: number; cpu: number; st: [Stats, Stats] }> => {
      const batches = [];
      for (let i = 0; i < items.length; i += BATCH)
        batches.push(
          prepareFireBatch(keys, items.slice(i, i + BATCH), {
            historyLength: 50,
            trigger: 'schedule',
            redisClock: true,
          }),
        );
      wire.args = batches.reduce((n, b) => n + b.call.lengths.length, 0);
      wire.bytes = batches.reduce((n, b) => n + b.call.wire.length, 0);
      const a = await stats(c);
      const t0 = performance.now();
      const replies = await Promise.all(batches.map((b) => sendFireBatch(c, b, 'redis')));
      const ms = performance.now() - t0;
      const b = await stats(c);
      const enq = replies.flatMap((r) => r.outcomes).reduce<number>((n, o) => n + (typeof o === 'number' ? o : 0), 0);
      if (enq !== jobs) throw new Error(`floor: pyrq enqueued ${enq} of ${jobs}`);
      const d = delta(a, b, ['evalsha', 'eval']);
      return { ms, usec: d.usec / jobs, cpu: d.cpu / jobs, st: [a, b] };
    };

    await reset();
    const first = await pyrqRound();
    // The job hashes pyrq wrote, as they are: the bare script writes the same bytes.
    const p = c.pipeline();
    for (const k of jobKeys) p.hgetallBuffer(k);
    const hashes = ((await p.exec()) ?? []).map(([, h]) => h as Record<string, Buffer>);
    const fieldCount = Object.keys(hashes[0]!).length;
    const bareBatches: { keys: string[]; args: (string | Buffer)[] }[] = [];
    const jobIds = items.flatMap((it) => it.ops.flatMap((op) => (op.kind === 'enqueue' ? [op.jobId] : [])));
    const origins = hashes.map((h) => h.origin!.toString());
    for (let i = 0; i < jobs; i += BATCH) {
      const k: string[] = [];
      const a: (string | Buffer)[] = [];
      for (let j = i; j < Math.min(jobs, i + BATCH); j++) {
        k.push(RqKeys.job(jobIds[j]!), RqKeys.queue(origins[j]!));
        const flat = Object.entries(hashes[j]!).flatMap(([f, v]) => [f, v]);
        a.push(jobIds[j]!, String(flat.length), ...flat);
      }
      bareBatches.push({ keys: k, args: a });
    }
    const bareSha = (await c.script('LOAD', BARE_LUA)) as string;
    // Every write pyrq made, no check: pyrq's own floor (bench/floor-writes.ts).
    const fullBatches = await buildFullWriteBatches(c, keys, items, BATCH);
    const fullSha = (await c.script('LOAD', FULL_WRITES_LUA)) as string;
    // What goes over the wire per job (pyrq's fire script calls, as MONITOR would show them).
    const bareArgs = bareBatches.reduce((n, b) => n + 3 + b.keys.length + b.args.length, 0);
    const bareBytes = bareBatches.reduce(
      (n, b) => n + [...b.keys, ...b.args].reduce((m, x) => m + Buffer.byteLength(x) + 12, 0),
      0,
    );
    s.log(
      `floor: per job on the wire: pyrq ${(wire.args / jobs).toFixed(1)} arguments, ${(wire.bytes / jobs).toFixed(0)} bytes; ` +
        `bare Lua ${(bareArgs / jobs).toFixed(1)} arguments, ~${(bareBytes / jobs).toFixed(0)} bytes (batches of ${BATCH})`,
    );
    const bareRound = async (): Promise<{ ms: number; usec: number; cpu: number }> => {
      const a = await stats(c);
      const t0 = performance.now();
      await Promise.all(bareBatches.map((b) => c.evalsha(bareSha, b.keys.length, ...b.keys, ...b.args)));
      const ms = performance.now() - t0;
      const b = await stats(c);
      const d = delta(a, b, ['evalsha']);
      return { ms, usec: d.usec / jobs, cpu: d.cpu / jobs };
    };
    const fullRound = async (): Promise<{ ms: number; usec: number; cpu: number }> => {
      const a = await stats(c);
      const t0 = performance.now();
      await Promise.all(fullBatches.map((b) => c.evalsha(fullSha, b.keys.length, ...b.keys, ...b.args)));
      const ms = performance.now() - t0;
      const b = await stats(c);
      const d = delta(a, b, ['evalsha']);
      return { ms, usec: d.usec / jobs, cpu: d.cpu / jobs };
    };
    const rqOnce = async (): Promise<{ ms: number; usec: number; cpu: number; buildMs: number }> => {
      const a = await stats(c);
      const out = execFileSync(
        PYTHON,
        [RQ_SCRIPT, s.redis.url, String(jobs), QUEUE_NAMES.map((q) => `floor-${q}`).join(','), 'floor'],
        { encoding: 'utf8', cwd: s.work },
      );
      const b = await stats(c);
      const r = JSON.parse(out) as { buildS: number; executeS: number };
      const d = delta(a, b);
      return { ms: r.executeS * 1000, usec: d.usec / jobs, cpu: d.cpu / jobs, buildMs: r.buildS * 1000 };
    };

    // Redis's own account of the pyrq round: usec per call of every command the script ran.
    const [a0, b0] = first.st;
    const parts = [...b0.calls.keys()]
      .map((k) => ({
        k,
        calls: b0.calls.get(k)! - (a0.calls.get(k) ?? 0),
        usec: b0.usec.get(k)! - (a0.usec.get(k) ?? 0),
      }))
      .filter((x) => x.calls > 0 && x.k !== 'info')
      .sort((x, y) => y.usec - x.usec)
      .map(
        (x) => `${x.k} ${x.calls} calls ${(x.usec / x.calls).toFixed(2)} µs/call ${(x.usec / jobs).toFixed(2)} µs/job`,
      );
    s.log(`floor: ${jobs} jobs, ${fieldCount} job hash fields; pyrq round's commandstats: ${parts.join('; ')}`);

    // Redis's own latency tools over the interleaved rounds: every command over 1 ms in
    // SLOWLOG, and LATENCY's events over 1 ms (each script call is one command).
    await c.config('SET', 'slowlog-log-slower-than', '1000');
    await c.config('SET', 'slowlog-max-len', '1000');
    await c.config('SET', 'latency-monitor-threshold', '1');
    await c.slowlog('RESET');
    await c.call('LATENCY', 'RESET');
    const res = { pyrq: [] as number[][], full: [] as number[][], bare: [] as number[][], rq: [] as number[][] };
    const cold = { pyrq: [] as number[][], full: [] as number[][], bare: [] as number[][] };
    const row = (r: { ms: number; usec: number; cpu: number }): number[] => [r.ms, r.usec, r.cpu];
    const afterIdle = async <T>(round: () => Promise<T>): Promise<T> => {
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      return round();
    };
    for (let r = 0; r < s.runs; r++) {
      await reset();
      const x = await pyrqRound();
      await reset();
      const w = await fullRound();
      await reset();
      const y = await bareRound();
      await reset();
      // RQ's floor needs /usr/bin/python3 with rq (PYRQ_BENCH_PYTHON): without it, NaN rows.
      const z = await rqOnce().catch((e: unknown) => {
        s.log(`floor: RQ's enqueue_many not run (${PYTHON} with rq): ${String(e).split('\n')[0]}`);
        return { ms: NaN, usec: NaN, cpu: NaN, buildMs: NaN };
      });
      // The same three after a second of idleness, as a daemon's fire comes (a burst after
      // ten, a per-second schedule after one): Redis's caches have gone cold meanwhile, and
      // back-to-back rounds measured 12-18 µs a job where the same round after 1 s idle
      // measured 16-25 µs. The burst row compares with these.
      await reset();
      const xc = await afterIdle(pyrqRound);
      await reset();
      const wc = await afterIdle(fullRound);
      await reset();
      const yc = await afterIdle(bareRound);
      cold.pyrq.push(row(xc));
      cold.full.push(row(wc));
      cold.bare.push(row(yc));
      res.pyrq.push(row(x));
      res.full.push(row(w));
      res.bare.push(row(y));
      res.rq.push(row(z));
      s.log(
        `floor ${r + 1}/${s.runs}: wall ms pyrq ${x.ms.toFixed(0)} every-write ${w.ms.toFixed(0)} bare-Lua ${y.ms.toFixed(0)} RQ-pipeline ${z.ms.toFixed(0)} (+${z.buildMs.toFixed(0)} ms building in Python); ` +
          `Redis µs/job (commandstats) ${x.usec.toFixed(1)} / ${w.usec.toFixed(1)} / ${y.usec.toFixed(1)} / ${z.usec.toFixed(1)}; main-thread CPU µs/job ${x.cpu.toFixed(1)} / ${w.cpu.toFixed(1)} / ${y.cpu.toFixed(1)} / ${z.cpu.toFixed(1)}; ` +
          `after ${IDLE_MS} ms idle: wall ms ${xc.ms.toFixed(0)} / ${wc.ms.toFixed(0)} / ${yc.ms.toFixed(0)}, Redis µs/job ${xc.usec.toFixed(1)} / ${wc.usec.toFixed(1)} / ${yc.usec.toFixed(1)}`,
      );
    }
    await reset();
    const slow = (await c.slowlog('GET', 1000)) as [number, number, number, (string | Buffer)[]][];
    const bySha = new Map<string, number[]>();
    for (const [, , us, argv] of slow) {
      const what =
        String(argv[0]).toLowerCase() === 'evalsha'
          ? String(argv[1]) === bareSha
            ? 'bare Lua'
            : String(argv[1]) === fullSha
              ? 'every write'
              : 'pyrq'
          : String(argv[0]);
      bySha.set(what, [...(bySha.get(what) ?? []), us]);
    }
    s.log(
      `floor: SLOWLOG (> 1 ms): ${[...bySha].map(([w, us]) => `${w} ${us.length} calls, median ${(median(us) / 1000).toFixed(1)} ms, max ${(Math.max(...us) / 1000).toFixed(1)} ms`).join('; ')}; ` +
        `LATENCY LATEST: ${JSON.stringify(await c.call('LATENCY', 'LATEST'))}`,
    );
    await c.config('SET', 'slowlog-log-slower-than', '10000');
    await c.config('SET', 'latency-monitor-threshold', '0');
    const col = (xs: number[][], i: number) => xs.map((v) => r1(v[i]!));
    const ratio = (xs: number[][], ys: number[][], i: number) =>
      xs.map((v, j) => Math.round((v[i]! / ys[j]![i]!) * 100) / 100);
    const sc = `${jobs.toLocaleString('en-US')} jobs (${fieldCount} hash fields), floors interleaved`;
    const figs = [
      // The target is for 10,000 at one instant (a smaller --quick run is only a smoke check).
      figure(
        sc,
        'pyrq fire script: send → all replies',
        'ms',
        col(res.pyrq, 0),
        jobs >= 10_000 ? { op: 'le', value: 100 } : undefined,
      ),
      figure(sc, 'floor every write pyrq makes, no check: send → all replies', 'ms', col(res.full, 0)),
      figure(sc, 'floor bare Lua HSET+RPUSH: send → all replies', 'ms', col(res.bare, 0)),
      figure(sc, 'floor RQ enqueue_many pipeline: execute()', 'ms', col(res.rq, 0)),
      figure(sc, 'pyrq Redis time per job (EVALSHA usec)', 'µs', col(res.pyrq, 1), { op: 'le', value: 10 }),
      figure(sc, 'floor every write, no check: Redis time per job', 'µs', col(res.full, 1)),
      figure(sc, 'floor bare Lua Redis time per job', 'µs', col(res.bare, 1)),
      figure(sc, 'floor RQ pipeline Redis time per job (all commands)', 'µs', col(res.rq, 1)),
      figure(sc, 'pyrq Redis main-thread CPU per job', 'µs', col(res.pyrq, 2)),
      figure(sc, 'floor every write, no check: main-thread CPU per job', 'µs', col(res.full, 2)),
      figure(sc, 'floor bare Lua main-thread CPU per job', 'µs', col(res.bare, 2)),
      figure(sc, 'floor RQ pipeline main-thread CPU per job', 'µs', col(res.rq, 2)),
      figure(sc, 'ratio pyrq / every write (its checks), Redis time per job', '×', ratio(res.pyrq, res.full, 1)),
      figure(sc, 'ratio pyrq / every write, main-thread CPU per job', '×', ratio(res.pyrq, res.full, 2)),
      figure(sc, 'ratio pyrq / bare Lua, Redis time per job', '×', ratio(res.pyrq, res.bare, 1)),
      figure(sc, 'ratio pyrq / RQ pipeline, main-thread CPU per job', '×', ratio(res.pyrq, res.rq, 2)),
      figure(
        sc,
        `after ${IDLE_MS} ms idle (as a daemon's fire): pyrq send → all replies`,
        'ms',
        col(cold.pyrq, 0),
        jobs >= 10_000 ? { op: 'le', value: 100 } : undefined,
      ),
      figure(sc, `after ${IDLE_MS} ms idle: floor every write, send → all replies`, 'ms', col(cold.full, 0)),
      figure(sc, `after ${IDLE_MS} ms idle: floor bare Lua, send → all replies`, 'ms', col(cold.bare, 0)),
      figure(sc, `after ${IDLE_MS} ms idle: pyrq Redis time per job`, 'µs', col(cold.pyrq, 1), { op: 'le', value: 10 }),
      figure(sc, `after ${IDLE_MS} ms idle: floor every write, Redis time per job`, 'µs', col(cold.full, 1)),
      figure(sc, `after ${IDLE_MS} ms idle: floor bare Lua, Redis time per job`, 'µs', col(cold.bare, 1)),
      figure(
        sc,
        `after ${IDLE_MS} ms idle: ratio pyrq / every write, Redis time per job`,
        '×',
        ratio(cold.pyrq, cold.full, 1),
      ),
    ];
    return figs;
  } finally {
    c.disconnect();
  }
}
