/**
 * Scale: a cold `pyrq apply` of N schedules from files into an empty registry (a new
 * process, as a user runs it: wall time and its own peak RSS, VmHWM), then no-op reconciles of the same
 * files, which must cost one read of the index and no writes:
 *
 * - the daemon's event path: a file event (a file touched, content unchanged) and the
 *   scoped `reconcileOnce` the daemon runs for it, with a warm file source; in this
 *   process, so its Redis round trips are counted;
 * - a full (unscoped) reconcile with a warm source, and the daemon's periodic deep
 *   re-sync (files re-read from scratch, every entry checked);
 * - `pyrq apply` again, in a new process (every file parsed again).
 */
import { utimesSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { DEFAULT_CONTEXT } from '../src/model/normalize.js';
import { Keys } from '../src/redis/keys.js';
import { Registry } from '../src/registry/registry.js';
import { FileSource } from '../sources/files/file-source.js';
import { reconcileOnce } from '../reconcilers/reconcile-once.js';
import { countCommands } from './counting.js';
import { bareApplyWrites } from './floor-apply-writes.js';
import { type ParseFloor, parseFloor } from './floor-parse.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure, median } from './report.js';
import { runCli } from './proc.js';

export interface ApplyScenario {
  redis: BenchRedis;
  admin: Redis;
  dir: string;
  /** The files' paths, relative to `dir`. */
  files: string[];
  /** Schedules in the files (all valid). */
  count: number;
  runs: number;
  log: (msg: string) => void;
}

/** The registry's key names under the default prefix, which the bench's applies use. */
const KEYS = new Keys();

const N = (n: number) => n.toLocaleString('en-US');

/** What apply-changes.lua calls (counted inside EVALSHA), and INFO itself. */
const SCRIPT_COMMANDS = new Set(['get', 'hmget', 'hset', 'hsetnx', 'hdel', 'zadd', 'zrem', 'del', 'publish', 'info']);

/**
 * Redis's time in the commands clients sent (INFO commandstats usec) and its main
 * thread's CPU, µs. commandstats counts a command a script runs under its own name as
 * well as inside the script's EVALSHA: summing every row counted the apply's HSETs,
 * ZADDs and HGETs twice (rounds 1-6 printed ~1.6x Redis's real time in this row). So:
 * the scripts (their commands included), plus every command no script of the apply runs.
 */
async function redisTime(c: Redis): Promise<{ usec: number; cpu: number }> {
  const info = await c.info('commandstats');
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm))
    if (m[1] === 'evalsha' || m[1] === 'eval' || !SCRIPT_COMMANDS.has(m[1]!)) usec += Number(m[2]);
  const cpu = await c.info('cpu');
  const u = Number(/used_cpu_user_main_thread:([\d.]+)/.exec(cpu)![1]);
  const sy = Number(/used_cpu_sys_main_thread:([\d.]+)/.exec(cpu)![1]);
  return { usec, cpu: (u + sy) * 1e6 };
}

/** `a[i] / b[i]` for each run, as `1.21x (1.15-1.32)`: median, then range. */
function pairRatios(a: readonly number[], b: readonly number[]): string {
  const r = a.map((x, i) => x / b[i]!);
  return `${median(r).toFixed(2)}x (${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)})`;
}

/**
 * When the apply's first schedule write lands (ms after `t0`): the index's EXISTS polled
 * every 10 ms from the bench's own connection (the apply may record its source status
 * first) (~100 tiny commands a second beside the apply's 200 scripts).
 * NaN if none was seen before `stop`.
 */
function firstWrite(admin: Redis, t0: number): { stop(): Promise<number> } {
  let at = NaN;
  let running = true;
  const loop = (async () => {
    while (running && Number.isNaN(at)) {
      if ((await admin.exists(KEYS.index)) > 0) at = performance.now() - t0;
      else await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return at;
    },
  };
}

/**
 * `pyrq apply` as an operator runs it (the plan printed as text), into an empty registry.
 * With `jsonDir`, the same schedules again as JSON files only: what the file formats
 * cost (YAML parsing is most of the difference).
 */
export async function coldApply(s: ApplyScenario & { jsonDir?: string }): Promise<Figure[]> {
  // The floors of the mixed-format apply, per run: the apply process's CPU (parse, validate,
  // plan, encode: every thread) and Redis's own time for the writes (INFO commandstats,
  // every command but INFO; and its main thread's CPU, which also counts reading them).
  const cpu: number[] = [];
  const redisUsec: number[] = [];
  const redisCpu: number[] = [];
  /** From the apply's start to its first write (start, parse, plan), and from there to its exit (the writes). */
  const beforeWrites: number[] = [];
  const writing: number[] = [];
  /** Redis's script time for the bare writes of what each apply wrote (bench/floor-apply-writes.ts). */
  const bare: number[] = [];
  const once = async (dir: string, what: string, wall: number[], rss: number[], oldRss: number[]) => {
    for (let i = 0; i < s.runs; i++) {
      await s.admin.flushall();
      const before = await redisTime(s.admin);
      const t0 = performance.now();
      const first = firstWrite(s.admin, t0);
      const r = await runCli(['apply', '--dir', dir, '--redis-url', s.redis.url]);
      const firstMs = await first.stop();
      const after = await redisTime(s.admin);
      if (what !== 'JSON files') {
        cpu.push(Math.round(r.cpuMs) / 1000);
        redisUsec.push(Math.round((after.usec - before.usec) / 1000) / 1000);
        redisCpu.push(Math.round((after.cpu - before.cpu) / 1000) / 1000);
        beforeWrites.push(Math.round(firstMs) / 1000);
        writing.push(Math.round(r.wallMs - firstMs) / 1000);
      }
      const applied = await s.admin.hlen(KEYS.index);
      if (r.code !== 0 || applied !== s.count)
        throw new Error(`cold apply: exit ${r.code}, ${applied} of ${s.count} applied: ${r.stderr.slice(-1000)}`);
      // The writes' own floor, right after each apply (a pair in one window of the host's
      // speed; round 8 ran all applies, then all bare runs, and compared their medians):
      // the same entries written again by a script that only writes.
      if (what !== 'JSON files') bare.push(...(await bareApplyWrites(s.admin, 1)));
      wall.push(r.wallMs / 1000);
      rss.push(r.peakRssMb);
      oldRss.push(r.oldMethodPeakRssMb);
      s.log(
        `cold apply (${what}) ${i + 1}/${s.runs}: ${(r.wallMs / 1000).toFixed(2)} s (CPU ${(r.cpuMs / 1000).toFixed(2)} s; Redis ${((after.usec - before.usec) / 1e6).toFixed(2)} s in commands, ${((after.cpu - before.cpu) / 1e6).toFixed(2)} s main-thread CPU), peak RSS ${r.peakRssMb.toFixed(0)} MB (old, wrong method: ${r.oldMethodPeakRssMb.toFixed(0)} MB; this process: ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB)`,
      );
    }
  };
  const wall: number[] = [];
  const rss: number[] = [];
  const oldRss: number[] = [];
  const jsonWall: number[] = [];
  const jsonRss: number[] = [];
  const jsonOldRss: number[] = [];
  if (s.jsonDir) await once(s.jsonDir, 'JSON files', jsonWall, jsonRss, jsonOldRss);
  await once(s.dir, 'JSON, YAML, TOML', wall, rss, oldRss);
  s.log(
    `bare writes of the same ${N(s.count)} entries (HSET, HSET, ZADD per entry; no checks): Redis ${bare.map((b) => b.toFixed(2)).join(', ')} s`,
  );
  // The parse's own floor: the same files on fresh threads, nothing else of pyrq around them.
  const floors: ParseFloor[] = [];
  for (let i = 0; i < s.runs; i++) {
    floors.push(await parseFloor(s.dir, s.files, s.count));
    const f = floors.at(-1)!;
    s.log(
      `parse floor ${i + 1}/${s.runs}: two threads ${f.twoThreadsS.toFixed(2)} s, one thread ${f.oneThreadS.toFixed(2)} s, format parsers alone (one thread) ${f.formatsOnlyS.toFixed(2)} s`,
    );
  }
  const cores = availableParallelism();
  const cpuFloor = cpu.map((c, i) => Math.round(((c + redisCpu[i]!) / cores) * 1000) / 1000);
  const sc = `cold \`pyrq apply\`, ${N(s.count)} schedules`;
  // The peak is the apply process's own (VmHWM). Earlier benches reported getrusage's
  // ru_maxrss, which includes the bench's own peak at fork: printed beside it, for this
  // release only, so the earlier figures can be corrected.
  const out = [
    figure(sc, 'wall time (new process)', 's', wall, { op: 'le', value: 4 }),
    // "Every run", not only the median: the slowest run against the same target.
    figure(sc, 'wall time, slowest run', 's', [Math.max(...wall)], { op: 'le', value: 4 }),
    figure(sc, 'floor: apply process CPU (user + sys, all threads)', 's', cpu),
    figure(sc, "floor: Redis's time for the writes (scripts' commandstats usec)", 's', redisUsec),
    figure(sc, "floor: Redis's main-thread CPU during the apply", 's', redisCpu),
    figure(
      sc,
      "floor: Redis's time for a bare script writing the same entries (bench/floor-apply-writes.ts)",
      's',
      bare,
      undefined,
      `pyrq's writes / bare, run by run: ${pairRatios(redisUsec, bare)}`,
    ),
    figure(sc, 'phase: start, parse and plan (until the first write)', 's', beforeWrites),
    figure(sc, 'phase: the writes (first write to exit)', 's', writing),
    figure(
      sc,
      `floor: parse alone, two threads (bench/floor-parse.ts)`,
      's',
      floors.map((f) => f.twoThreadsS),
      undefined,
      `one thread / two: ${(median(floors.map((f) => f.oneThreadS)) / median(floors.map((f) => f.twoThreadsS))).toFixed(2)}x`,
    ),
    figure(
      sc,
      'floor: parse alone, one thread',
      's',
      floors.map((f) => f.oneThreadS),
    ),
    figure(
      sc,
      'floor: the format parsers alone (bytes to objects), one thread',
      's',
      floors.map((f) => f.formatsOnlyS),
    ),
    figure(sc, `floor: every CPU-second on ${cores} cores at once ((apply CPU + Redis CPU) / ${cores})`, 's', cpuFloor),
    figure(sc, 'peak RSS (VmHWM of the apply process)', 'MB', rss, { op: 'le', value: 300 }),
    figure(sc, 'peak RSS, OLD WRONG METHOD (ru_maxrss: includes the bench at fork)', 'MB', oldRss),
  ];
  if (s.jsonDir) {
    out.push(
      figure(sc, 'wall time, JSON files only', 's', jsonWall),
      figure(sc, 'peak RSS, JSON files only', 'MB', jsonRss),
      figure(sc, 'peak RSS, JSON files only, OLD WRONG METHOD (ru_maxrss)', 'MB', jsonOldRss),
    );
  }
  return out;
}

/** Expects the registry to hold exactly what the files say (run after coldApply). */
export async function noopReconcile(s: ApplyScenario): Promise<Figure[]> {
  const conn = s.redis.client();
  const counter = countCommands(conn);
  const registry = new Registry(conn);
  const source = new FileSource({ dir: s.dir, ctx: DEFAULT_CONTEXT });
  const ms: number[] = [];
  const trips: number[] = [];
  const cmds: number[] = [];
  const fullMs: number[] = [];
  const fullTrips: number[] = [];
  const fullCmds: number[] = [];
  const deepMs: number[] = [];
  const deepTrips: number[] = [];
  const measure = async (
    what: string,
    opts: { deep?: boolean; scope?: string[] },
    into: number[],
    rts: number[],
    cs?: number[],
  ) => {
    counter.reset();
    const t0 = performance.now();
    const r = await reconcileOnce({ sources: [source], registry }, opts);
    into.push((performance.now() - t0) / 1000);
    if (r.plan.changes.length !== 0) throw new Error(`${what} planned ${r.plan.changes.length} changes`);
    rts.push(counter.roundTrips);
    cs?.push(counter.commands);
    s.log(`${what}: ${into.at(-1)!.toFixed(3)} s, ${counter.roundTrips} round trips, ${counter.commands} commands`);
  };
  try {
    await source.snapshot(); // the daemon's file source is warm: it read every file at start
    for (let i = 0; i < s.runs; i++) {
      // A file event that changed nothing: the file is re-read, its ids are planned.
      const file = join(s.dir, s.files[(i * 7) % s.files.length]!);
      const later = new Date(Date.now() + (i + 1) * 1000);
      utimesSync(file, later, later);
      await measure(`no-op reconcile (event path) ${i + 1}/${s.runs}`, { scope: [] }, ms, trips, cmds);
    }
    for (let i = 0; i < s.runs; i++)
      await measure(`full reconcile ${i + 1}/${s.runs}`, {}, fullMs, fullTrips, fullCmds);
    for (let i = 0; i < s.runs; i++)
      await measure(`deep re-sync ${i + 1}/${s.runs}`, { deep: true }, deepMs, deepTrips);
  } finally {
    await source.close();
    conn.disconnect();
  }
  const cli: number[] = [];
  const cliCmds: number[] = [];
  for (let i = 0; i < s.runs; i++) {
    const before = await s.redis.commandCalls(s.admin);
    const r = await runCli(['apply', '--dir', s.dir, '--redis-url', s.redis.url]);
    const after = await s.redis.commandCalls(s.admin);
    if (r.code !== 0) throw new Error(`no-op apply: exit ${r.code}: ${r.stderr.slice(-1000)}`);
    let calls = 0;
    for (const [cmd, n] of after) calls += n - (before.get(cmd) ?? 0);
    cli.push(r.wallMs / 1000);
    cliCmds.push(calls - 1); // the INFO that took `before`
    s.log(`no-op pyrq apply ${i + 1}/${s.runs}: ${(r.wallMs / 1000).toFixed(2)} s, ${calls - 1} commands`);
  }
  const sc = `no-op reconcile, ${N(s.count)} schedules`;
  return [
    // The target is held against the full reconcile: every one of the N schedules planned
    // against the registry, as the daemon's reconcile does when it cannot scope.
    figure(sc, 'full reconcile, warm source (all planned)', 's', fullMs, { op: 'le', value: 1 }),
    figure(sc, 'full reconcile: Redis round trips', '', fullTrips, undefined, `${fullCmds[0]} commands`),
    figure(
      sc,
      'daemon, after a file event (scoped)',
      's',
      ms,
      undefined,
      `${trips[0]} round trips, ${cmds[0]} commands`,
    ),
    figure(sc, 'deep re-sync (files re-read, entries checked)', 's', deepMs, undefined, `${deepTrips[0]} round trips`),
    figure(
      sc,
      '`pyrq apply` again (new process: parses every file)',
      's',
      cli,
      undefined,
      `${cliCmds[0]} Redis commands (server count)`,
    ),
  ];
}
