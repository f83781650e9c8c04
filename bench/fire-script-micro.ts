/**
 * Micro-bench of the fire script (not part of `npm run bench`): what Redis spends per
 * fired job in `fire-batch.lua`, and in each of its parts, measured by removal.
 *
 *   node dist/bench/fire-script-micro.js [--jobs 2000] [--batch 250] [--rounds 7] [--full-history]
 *        [--variants all|name,name] [--paused] [--floor]
 *
 * `--floor` adds two floors measured the same way, on what the full script wrote (read
 * back: same keys, same bytes): every write pyrq makes by a bare script with no check
 * (bench/floor-writes.ts), and the job HSET + RPUSH alone.
 *
 * A private redis-server; `pyrq apply` of N schedules due together; the dispatcher's own
 * code (ScheduleCache, buildDueItem, prepareFireBatch) builds the batches exactly as the
 * daemon does (Redis's clock: TIME). Every round resets what a fire writes (job keys,
 * queues, next fire times; run lists emptied, or kept at `historyLength` with
 * `--full-history`, the steady state where every push trims), then sends every batch
 * and reads `INFO commandstats` (usec of EVALSHA) per job. Each variant is the script
 * with one part removed (a text edit, checked to match), loaded under its own SHA and
 * sent the same arguments; rounds alternate between variants so noise hits all alike.
 * Medians of the rounds are printed.
 *
 * On a busy machine times are noise (±50 %); instruction counts are not. With
 * `--callgrind DIR` the server is expected to run under callgrind collecting only inside
 * EVALSHA, dumping into DIR, e.g. a wrapper `DIR/redis-cg.sh`:
 *   exec valgrind --tool=callgrind --toggle-collect=evalShaCommand --callgrind-out-file=DIR/out.%p redis-server "$@"
 * and `PYRQ_BENCH_REDIS_SERVER=DIR/redis-cg.sh node dist/bench/fire-script-micro.js --callgrind DIR --rounds 1`:
 * each variant's round is dumped (callgrind_control -d) and its instructions per job printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { buildDueItem } from '../src/dispatch/build-items.js';
import { ScheduleCache } from '../src/dispatch/schedule-cache.js';
import { type FireItem, prepareFireBatch } from '../src/redis/commands/fire-batch.js';
import { Keys, RqKeys } from '../src/redis/keys.js';
import { scriptSource } from '../src/redis/scripts.js';
import { makeDueTogether, QUEUE_NAMES, writeScheduleFiles } from './data.js';
import { BARE_LUA, bareBatches, buildFullWriteBatches, type FloorBatch, FULL_WRITES_LUA } from './floor-writes.js';
import { runCli } from './proc.js';
import { startBenchRedis } from './redis.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '250' },
    rounds: { type: 'string', default: '7' },
    'full-history': { type: 'boolean', default: false },
    paused: { type: 'boolean', default: false },
    variants: { type: 'string', default: 'all' },
    history: { type: 'string', default: '50' },
    /** Another version of the script (a file, with the same KEYS/ARGV layout) measured beside it. */
    compare: { type: 'string' },
    /** Count instructions instead of time: the server runs under callgrind (see the header). */
    callgrind: { type: 'string' },
    /** Also measure the floors: every write pyrq made, by a bare script (bench/floor-writes.ts), and HSET + RPUSH alone. */
    floor: { type: 'boolean', default: false },
  },
});
const N = Number(values.jobs);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const HIST = Number(values.history);

/** Script text edits: [name, [pattern, replacement]...]; every pattern must match. */
type Edit = [RegExp | string, string];
const VARIANTS: [string, Edit[]][] = [
  ['full script', []],
  [
    '- compare-and-set (ZMSCORE)',
    [
      [/if expected ~= '' then\n {4}local stored/, 'if false then\n    local stored'],
      [/redis\.pcall\('ZMSCORE', nextKey, [^\n]*\)\)\n/, '{}\n'],
    ],
  ],
  [
    '- spec hash (HMGET index)',
    [
      [/call\('HMGET', indexKey, [^\n]*\)\)\n/, '{}\n'],
      [/if not v or sbyte\([^\n]*then code = -2 end/, ''],
    ],
  ],
  ['- paused check', [[/call\('EXISTS', pausedKey\) == 1/, 'false']]],
  ['- EXISTS duplicate (one per call)', [[/if call\('EXISTS', unpack\(KEYS, [^\n]*\)\) > 0 then/, 'if false then']]],
  ['- HSET job', [[/call\('HSET', jkey, unpack\(job\)\)/, 'local _ = job']]],
  ['- RPUSH queue (one per queue)', [[/call\('RPUSH', qk, [^\n]*\)\) end/, 'local _ = ids end']]],
  ['- LPUSH run record', [[/len = call\('LPUSH', rkey, rec1\)/, 'len = 0']]],
  ['- record text (constant record)', [[/recHead \.\. occ[^\n]*\n[^\n]*idTail \.\. '\}'\n/, "'{}'\n"]]],
  ['- state HSET', [[/if ns > 0 then call\('HSET', skey, unpack\(state, 1, ns\)\) end/, '']]],
  ['- ZADD next', [[/flushNext\(\)\nflushPushes\(\)/, 'flushPushes()']]],
  ['- ZADD outcomes pending', [[/for c = 1, np, CHUNK do call\('ZADD', pendingKey[^\n]*end\n/, '']]],
  ['KEYS/ARGV only', [[/^local fenceToken[\s\S]*$/m, 'return {}']]],
];

function variantSource(base: string, edits: Edit[]): string {
  let s = base;
  for (const [from, to] of edits) {
    const next = s.replace(from, to);
    if (next === s) throw new Error(`edit ${String(from)} did not match the script`);
    s = next;
  }
  return s;
}

/** EVALSHA usec (INFO commandstats: wall time in the command) and the main thread's CPU time (µs, user + sys). */
async function evalshaUsec(c: Redis): Promise<{ usec: number; cpu: number }> {
  const info = await c.info('commandstats');
  const m = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(info);
  const cpu = await c.info('cpu');
  const u = Number(/used_cpu_user_main_thread:([\d.]+)/.exec(cpu)![1]);
  const sy = Number(/used_cpu_sys_main_thread:([\d.]+)/.exec(cpu)![1]);
  return { usec: m ? Number(m[2]) : 0, cpu: (u + sy) * 1e6 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const redis = await startBenchRedis();
  const c = redis.client();
  const keys = new Keys();
  try {
    const dir = join(mkdtempSync(join(tmpdir(), 'pyrq-micro-')), 'schedules');
    writeScheduleFiles(dir, makeDueTogether(N, 10));
    const applied = await runCli(['apply', '--dir', dir, '--redis-url', redis.url]);
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr.slice(-1000)}`);
    // Every schedule due at one past instant T (so TIME is after every occurrence).
    const T = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;
    const ids = await c.zrange(keys.next, 0, -1);
    const cache = new ScheduleCache(c, keys, {});
    const problems = await cache.load(ids);
    if (problems.length > 0) throw new Error(`cannot load: ${problems[0]!.message}`);
    const items: FireItem[] = ids.map((id) => buildDueItem(id, cache.get(id)!, T, T));
    const jobKeys = items.flatMap((it) =>
      it.ops.flatMap((op) => (op.kind === 'enqueue' ? [RqKeys.job(op.jobId)] : [])),
    );
    const batches = [];
    for (let i = 0; i < items.length; i += BATCH)
      batches.push(
        prepareFireBatch(keys, items.slice(i, i + BATCH), {
          historyLength: HIST,
          trigger: 'schedule',
          redisClock: true,
        }),
      );
    if (values.paused) await c.hset(keys.paused, 'some-other-schedule', '{}');
    const base = scriptSource('fire-batch');
    const chosen = VARIANTS.filter(
      ([n], i) => i === 0 || values.variants === 'all' || values.variants.split(',').some((v) => n.includes(v)),
    );
    const shas = new Map<string, string>();
    for (const [name, edits] of chosen) shas.set(name, (await c.script('LOAD', variantSource(base, edits))) as string);
    if (values.compare) {
      chosen.unshift([`compare: ${values.compare}`, []]);
      shas.set(chosen[0]![0], (await c.script('LOAD', readFileSync(values.compare, 'utf8'))) as string);
    }
    const filler = Array.from(
      { length: HIST },
      (_, i) =>
        `{"occurrence":${T - 1000 * i},"at":${T},"latenessMs":0,"trigger":"schedule","outcome":"enqueued","jobId":"x"}`,
    );

    const reset = async (): Promise<void> => {
      const p = c.pipeline();
      for (let i = 0; i < jobKeys.length; i += 1000) p.del(...jobKeys.slice(i, i + 1000));
      for (const q of QUEUE_NAMES) p.del(RqKeys.queue(q));
      p.del(keys.outcomesPending);
      for (const id of ids) {
        p.zadd(keys.next, T, id);
        p.del(keys.runs(id));
        if (values['full-history']) p.rpush(keys.runs(id), ...filler);
      }
      await p.exec();
    };
    // The floors: a round of the full script, then what it wrote, read back (same bytes).
    const floors: { name: string; sha: string; batches: FloorBatch[] }[] = [];
    if (values.floor) {
      if (values['full-history'])
        throw new Error('--floor reads back one run record per schedule: not with --full-history');
      await reset();
      await Promise.all(
        batches.map((b) =>
          c.evalsha(
            shas.get('full script')!,
            b.keys.length,
            ...b.keys,
            ...b.args.map((a) => (typeof a === 'number' ? String(a) : a)),
          ),
        ),
      );
      floors.push(
        {
          name: 'floor: every write, no check',
          sha: (await c.script('LOAD', FULL_WRITES_LUA)) as string,
          batches: await buildFullWriteBatches(c, keys, items, BATCH),
        },
        {
          name: 'floor: job HSET + RPUSH only',
          sha: (await c.script('LOAD', BARE_LUA)) as string,
          batches: await bareBatches(c, items, BATCH),
        },
      );
      for (const f of floors) chosen.push([f.name, []]);
    }
    const results = new Map<string, number[]>(chosen.map(([n]) => [n, []]));
    const cpus = new Map<string, number[]>(chosen.map(([n]) => [n, []]));
    const irs = new Map<string, number[]>(chosen.map(([n]) => [n, []]));
    const cgDir = values.callgrind;
    const dumpIr = (): number => {
      execFileSync('callgrind_control', ['-d', String(redis.pid)], { stdio: 'ignore' });
      const files = readdirSync(cgDir!).filter((f) => f.startsWith(`out.${redis.pid}.`));
      const last = files.sort((x, y) => Number(x.split('.').pop()) - Number(y.split('.').pop())).pop()!;
      const text = readFileSync(join(cgDir!, last), 'utf8');
      return Number(/^(?:summary|totals): (\d+)/m.exec(text)![1]);
    };
    if (cgDir) dumpIr();
    const jobs = items.reduce((n, it) => n + it.ops.filter((o) => o.kind === 'enqueue').length, 0);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name] of chosen) {
        await reset();
        const before = await evalshaUsec(c);
        const fl = floors.find((f) => f.name === name);
        const sha = fl ? fl.sha : shas.get(name)!;
        const pending = (fl ? fl.batches : batches).map((b) =>
          c.evalsha(sha, b.keys.length, ...b.keys, ...b.args.map((a) => (typeof a === 'number' ? String(a) : a))),
        );
        const replies = (await Promise.all(pending)) as number[][];
        const after = await evalshaUsec(c);
        if (name === 'full script' || name.startsWith('compare')) {
          const enq = replies.flatMap((x) => x.slice(0, -1)).reduce((s, x) => s + (x > 0 ? x : 0), 0);
          if (enq !== jobs)
            throw new Error(`full script enqueued ${enq} of ${jobs}: ${JSON.stringify(replies[0]!.slice(0, 5))}`);
        }
        results.get(name)!.push((after.usec - before.usec) / jobs);
        cpus.get(name)!.push((after.cpu - before.cpu) / jobs);
        if (cgDir) irs.get(name)!.push(dumpIr() / jobs);
      }
    }
    const full = median(results.get('full script')!);
    const fullCpu = median(cpus.get('full script')!);
    if (cgDir) {
      const fullIr = median(irs.get('full script')!);
      process.stdout.write(`instructions inside EVALSHA per job (callgrind; deterministic):\n`);
      for (const [name] of chosen) {
        const m = median(irs.get(name)!);
        process.stdout.write(
          `${name.padEnd(36)} ${m.toFixed(0).padStart(8)} ${(name === 'full script' ? '' : (fullIr - m).toFixed(0)).padStart(7)}\n`,
        );
      }
    }
    process.stdout.write(
      `${jobs} jobs, batches of ${BATCH}, ${ROUNDS} rounds, history ${values['full-history'] ? `full (${HIST})` : 'empty'}${values.paused ? ', paused hash non-empty' : ''}\n`,
    );
    process.stdout.write(
      `${'variant'.padEnd(36)} ${'usec/job'.padStart(8)} ${'saves'.padStart(6)} ${'min–max'.padStart(12)}   ${'CPU/job'.padStart(8)} ${'saves'.padStart(6)} ${'min–max'.padStart(12)}\n`,
    );
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`.padStart(12);
    for (const [name] of chosen) {
      const xs = results.get(name)!;
      const ys = cpus.get(name)!;
      const m = median(xs);
      const mc = median(ys);
      const isFull = name === 'full script';
      process.stdout.write(
        `${name.padEnd(36)} ${m.toFixed(2).padStart(8)} ${(isFull ? '' : (full - m).toFixed(2)).padStart(6)} ${range(xs)}   ${mc.toFixed(2).padStart(8)} ${(isFull ? '' : (fullCpu - mc).toFixed(2)).padStart(6)} ${range(ys)}\n`,
      );
    }
  } finally {
    c.disconnect();
    await redis.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
