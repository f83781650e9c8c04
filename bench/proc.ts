/**
 * Processes the bench runs and watches: `pyrq` commands (wall time and peak RSS),
 * `pyrq daemon` (its log in a file, never in a pipe the bench must drain), and what
 * /proc says about them (CPU time, resident memory).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from '../src/control/client.js';
import { PACKAGE_ROOT } from '../src/paths.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'run.js');
const PRELOAD = pathToFileURL(join(PACKAGE_ROOT, 'scripts', 'max-rss.mjs')).href;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const CLK_TCK = 100;

export interface CliRun {
  code: number | null;
  wallMs: number;
  /** Peak resident set size of the process itself (VmHWM at exit), MB. */
  peakRssMb: number;
  /**
   * The figure earlier benches reported, for comparison in this release only: getrusage's
   * ru_maxrss, which on Linux includes the bench's own peak at fork (wrong).
   */
  oldMethodPeakRssMb: number;
  /** CPU time of the process (user + system, all its threads), ms; NaN when it died before its exit hook. */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/** The last number in a file the preload wrote (NaN when it is missing: the process died before its exit hook). */
function readLastNumber(file: string): number {
  try {
    const n = Number(readFileSync(file, 'utf8').trim().split('\n').pop());
    rmSync(file);
    return n;
  } catch {
    return NaN;
  }
}

/** KiB -> MB. */
function readKibAsMb(file: string): number {
  return readLastNumber(file) / 1024;
}

/** Runs `pyrq <args>` in a new Node process, as a user would. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const rssFile = join(tmpdir(), `pyrq-bench-rss-${process.pid}-${Date.now()}`);
  const oldRssFile = `${rssFile}-rusage`;
  const cpuFile = `${rssFile}-cpu`;
  const started = performance.now();
  const proc = spawn(process.execPath, ['--import', PRELOAD, BIN, ...args], {
    env: {
      ...process.env,
      PYRQ_CONFIG: '',
      ...env,
      PYRQ_MAX_RSS_FILE: rssFile,
      PYRQ_MAX_RSS_RUSAGE_FILE: oldRssFile,
      PYRQ_CPU_FILE: cpuFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += String(d)));
  proc.stderr.on('data', (d) => (stderr += String(d)));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  const wallMs = performance.now() - started;
  return {
    code,
    wallMs,
    peakRssMb: readKibAsMb(rssFile),
    oldMethodPeakRssMb: readKibAsMb(oldRssFile),
    cpuMs: readLastNumber(cpuFile) / 1000, // µs in the file
    stdout,
    stderr,
  };
}

/** utime + stime of a process, in ms of CPU. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** VmRSS and VmHWM (peak) of a process, MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export interface BenchDaemon {
  pid: number;
  socket: string;
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  waitForLog(
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs: number,
    after?: number,
  ): Promise<Record<string, unknown>>;
  ask(req: Record<string, unknown>, timeoutMs?: number): ReturnType<typeof request>;
  stop(): Promise<void>;
  /** Sends `signal` (SIGKILL: the daemon dies with no clean-up) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** A log line's time, epoch ms (pino writes it as a number or an ISO string); NaN when it has none. */
const timeOf = (l: Record<string, unknown>): number =>
  typeof l.time === 'number' ? l.time : typeof l.time === 'string' ? Date.parse(l.time) : NaN;

/**
 * Starts `pyrq daemon` with `args`, its log in a file of `work`; resolves once it says it
 * started. `env` is added to the environment (the startup scenario sets NODE_OPTIONS as
 * contrib/pyrq.service does).
 */
export async function startDaemon(
  args: string[],
  work: string,
  env: Record<string, string> = {},
): Promise<BenchDaemon> {
  const socket = join(work, `d-${Date.now()}.sock`);
  const logFile = join(work, `d-${Date.now()}.log`);
  const fd = openSync(logFile, 'w');
  // PYRQ_BENCH_DAEMON_NODE_ARGS: Node flags for the daemon only, e.g. `--cpu-prof
  // --cpu-prof-dir=/tmp/prof` to profile it (NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.PYRQ_BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // A state directory of its own: with the default (/var/lib/pyrq as root) a daemon of a
  // later scenario, on a Redis flushed in between, restored the schedules an earlier one
  // had pushed over its socket (the bench's storm then counted them as missed removals).
  const stateDir = mkdtempSync(join(work, 'state-'));
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, BIN, 'daemon', '--socket', socket, ...args], {
    env: { ...process.env, ...env, PYRQ_CONFIG: '', PYRQ_STATE_DIR: stateDir },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  const logs = (): Record<string, unknown>[] => {
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line being written
      }
    }
    return out;
  };
  const waitForLog = async (pred: (l: Record<string, unknown>) => boolean, timeoutMs: number, after = 0) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = logs().find((l) => !(timeOf(l) < after) && pred(l));
      if (hit) return hit;
      if (proc.exitCode !== null)
        throw new Error(`daemon exited with ${proc.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      if (Date.now() > deadline)
        throw new Error(
          `daemon: no matching log line within ${timeoutMs} ms; last lines: ${readFileSync(logFile, 'utf8').slice(-1500)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await waitForLog((l) => l.msg === 'pyrq daemon started', 30_000);
  return {
    pid: proc.pid!,
    socket,
    logs,
    waitForLog,
    ask: (req, timeoutMs) => request(socket, req, timeoutMs),
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Sleeps until the wall clock reads `at` (epoch ms). */
export const sleepUntil = (at: number): Promise<void> => sleep(at - Date.now());
