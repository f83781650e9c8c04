import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/control/client.js';
import { BIN, ROOT } from './cli.js';

/** A `pyrq daemon` child process with its JSON log lines collected. */
export interface DaemonProcess {
  proc: ChildProcess;
  socket: string;
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves when a log line matches (or rejects after timeoutMs). */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  ask(req: Record<string, unknown>, timeoutMs?: number): ReturnType<typeof request>;
  exited: Promise<number | null>;
}

export async function startDaemon(
  args: string[],
  opts: { socket: string; env?: Record<string, string>; waitReady?: boolean } = { socket: '' },
): Promise<DaemonProcess> {
  // A state directory of its own unless the test gives one: a state file left by another
  // test (a private Redis on a reused port) must never be restored into this one's Redis.
  const stateDir = opts.env?.PYRQ_STATE_DIR === undefined ? mkdtempSync(join(tmpdir(), 'pyrq-state-')) : undefined;
  const proc = spawn(process.execPath, [BIN, 'daemon', '--socket', opts.socket, ...args], {
    cwd: ROOT,
    env: { ...process.env, PYRQ_CONFIG: '', ...(stateDir ? { PYRQ_STATE_DIR: stateDir } : {}), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (stateDir) proc.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));
  const logs: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) !== -1) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      let l: Record<string, unknown>;
      try {
        l = JSON.parse(line);
      } catch {
        continue;
      }
      logs.push(l);
      for (const w of [...waiters]) {
        if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  proc.stderr.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const d: DaemonProcess = {
    proc,
    socket: opts.socket,
    logs,
    stderr: () => err,
    exited,
    waitForLog(pred, timeoutMs = 10_000) {
      const hit = logs.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (l: Record<string, unknown>) => (clearTimeout(t), resolve(l)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `no matching log line within ${timeoutMs} ms; stderr: ${err.slice(-2000)}; last logs: ${JSON.stringify(logs.slice(-5))}`,
            ),
          );
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
    ask: (req, timeoutMs) => request(opts.socket, req, timeoutMs),
  };
  if (opts.waitReady !== false) {
    await Promise.race([
      d.waitForLog((l) => l.msg === 'pyrq daemon started', 15_000),
      exited.then((code) => {
        throw new Error(`daemon exited with ${code} before it started: ${err}`);
      }),
    ]);
    if (!existsSync(opts.socket)) throw new Error('daemon started but its socket is missing');
  }
  return d;
}

/** Polling with a timeout and a message (eventually.ts), here too for the tests that import it from here. */
export { eventually } from './eventually.js';
