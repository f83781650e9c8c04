/**
 * CLI start-up: `pyrq --version`, `pyrq --help` and `pyrq status` (reading Redis: no
 * daemon), each run `runs` times as a user would (a new Node process, no preload), through
 * bin/run.js: the bundle, or the compiled files with `--form compiled` (bench/form.ts).
 * Wall time, the process's CPU time (user + system, from /usr/bin/time: less disturbed
 * than wall time on a shared machine), and the ratio to a bare
 * `node -e 0` run alternately with it, against issue 25's targets.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { type Figure, figure } from './report.js';
import type { BenchRedis } from './redis.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'run.js');
/** Issue 25's targets: a start like a native tool's, as a multiple of a bare Node start. */
const HELP_RATIO_TARGET = 1.5;
const STATUS_RATIO_TARGET = 2.5;

/** Wall and CPU ms of one run of `node <args>`. */
function timeRun(args: string[]): { wallMs: number; cpuMs: number } {
  const started = performance.now();
  // A large maxBuffer: the default (1 MB) kills a child that prints more, with no message.
  const r = spawnSync('/usr/bin/time', ['-f', 'PYRQTIME %U %S', process.execPath, ...args], {
    env: { ...process.env, PYRQ_CONFIG: '' },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr.slice(-1000)}`);
  const m = /PYRQTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wallMs: Math.round(wallMs), cpuMs: m ? Math.round((Number(m[1]) + Number(m[2])) * 1000) : NaN };
}

export async function cliStartup(o: {
  redis: BenchRedis;
  runs: number;
  log: (msg: string) => void;
}): Promise<Figure[]> {
  // `status` on a registry of its own (database 1 of the bench's Redis) holding the shipped
  // fixtures, as a user trying pyrq would: start-up cost, not the rendering of whatever
  // the scenarios before left in database 0 (100,000 rows after the memory scenario).
  const url = `${o.redis.url.replace(/\/\d*$/, '')}/1`;
  const apply = spawnSync(
    process.execPath,
    [BIN, 'apply', '--dir', join(PACKAGE_ROOT, 'fixtures', 'schedules'), '--redis-url', url, '--quiet'],
    { env: { ...process.env, PYRQ_CONFIG: '' }, encoding: 'utf8' },
  );
  if (apply.status !== 0)
    throw new Error(
      `pyrq apply of the fixtures for the CLI scenario exited with ${apply.status}: ${apply.stderr.slice(-1000)}`,
    );
  const cases: [string, string[], number | undefined][] = [
    ['pyrq --version', [BIN, '--version'], undefined],
    ['pyrq --help', [BIN, '--help'], HELP_RATIO_TARGET],
    [
      'pyrq status (from Redis, the 13 shipped schedules)',
      [BIN, 'status', '--no-daemon', '--redis-url', url],
      STATUS_RATIO_TARGET,
    ],
  ];
  // One run of each first, not counted: `--help` records its text for the next start
  // (bin/fast-path.js), as any user's first `pyrq --help` does.
  for (const [, args] of cases) timeRun(args);
  // Alternately: `node -e 0`, then each command, `runs` times; each command's ratio is
  // taken against the floor run just before it, so a machine that gets busier or quieter
  // during the scenario moves both sides of a ratio alike.
  const floor: { wallMs: number; cpuMs: number }[] = [];
  const byCase = cases.map(() => [] as { wallMs: number; cpuMs: number; ratio: number }[]);
  for (let i = 0; i < o.runs; i++) {
    for (const [j, [, args]] of cases.entries()) {
      const f = timeRun(['-e', '0']);
      floor.push(f);
      const r = timeRun(args);
      byCase[j]!.push({ ...r, ratio: r.wallMs / Math.max(1, f.wallMs) });
    }
  }
  const out: Figure[] = [
    figure(
      'cli',
      'node -e 0 (floor), wall',
      'ms',
      floor.map((r) => r.wallMs),
    ),
    figure(
      'cli',
      'node -e 0 (floor), CPU',
      'ms',
      floor.map((r) => r.cpuMs),
    ),
  ];
  for (const [j, [name, , target]] of cases.entries()) {
    const runs = byCase[j]!;
    out.push(
      figure(
        'cli',
        `${name}, wall / node -e 0`,
        '×',
        runs.map((r) => Math.round(r.ratio * 100) / 100),
        target === undefined ? undefined : { op: 'le', value: target },
        'each run against the `node -e 0` run just before it',
      ),
    );
    out.push(
      figure(
        'cli',
        `${name}, wall`,
        'ms',
        runs.map((r) => r.wallMs),
      ),
    );
    out.push(
      figure(
        'cli',
        `${name}, CPU`,
        'ms',
        runs.map((r) => r.cpuMs),
      ),
    );
  }
  o.log(`cli: ${out.map((f) => `${f.figure} ${f.median} ms`).join('; ')}`);
  return out;
}
