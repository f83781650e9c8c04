/**
 * CLI start-up: `pyrq --help` and `pyrq status` (reading Redis: no daemon), each run
 * `runs` times as a user would (a new Node process, no preload); wall time and the
 * process's CPU time (user + system, from /usr/bin/time: less disturbed than wall time on
 * a shared machine). `node -e 0` beside them is the floor.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { type Figure, figure } from './report.js';
import type { BenchRedis } from './redis.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'run.js');

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
  const cases: [string, string[]][] = [
    ['node -e 0 (floor)', ['-e', '0']],
    ['pyrq --help', [BIN, '--help']],
    ['pyrq status (from Redis, the 13 shipped schedules)', [BIN, 'status', '--no-daemon', '--redis-url', url]],
  ];
  const out: Figure[] = [];
  for (const [name, args] of cases) {
    const runs = Array.from({ length: o.runs }, () => timeRun(args));
    const target = name.startsWith('pyrq') ? { op: 'le' as const, value: 250 } : undefined;
    out.push(
      figure(
        'cli',
        `${name}, wall`,
        'ms',
        runs.map((r) => r.wallMs),
        target,
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
