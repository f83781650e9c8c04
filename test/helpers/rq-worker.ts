import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** Debian's rq (python3-rq, RQ 1.13); `rq` on PATH may belong to another interpreter. */
export const RQ = process.env.PYRQ_TEST_RQ ?? '/usr/bin/rq';
export const FIXTURE_PYTHONPATH = join(ROOT, 'fixtures', 'python');

export interface WorkerRun {
  code: number | null;
  output: string;
}

/**
 * Runs a real `rq worker --burst` over `queues` until they are empty. Task functions from
 * fixtures/python record what they ran as JSON files in `outDir`.
 */
export function burstWorker(
  url: string,
  queues: string[],
  outDir: string,
  opts: { timeoutMs?: number; withScheduler?: boolean } = {},
): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      RQ,
      [
        'worker',
        '--burst',
        // RQ's scheduler first moves due jobs of the ScheduledJobRegistry (retries with a wait) back to their queue.
        ...(opts.withScheduler ? ['--with-scheduler'] : []),
        '--url',
        url,
        '--name',
        `pyrq-test-${process.pid}-${Date.now()}`,
        ...queues,
      ],
      {
        env: { ...process.env, PYTHONPATH: FIXTURE_PYTHONPATH, PYRQ_FIXTURE_OUT: outDir },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(new Error(`cannot run ${RQ}: install python3-rq`));
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output });
      },
    );
    child.stdin?.end();
  });
}

/** One call recorded by `pyrq_fixtures.tasks.record`. */
export interface TaskCall {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  job_id: string | null;
  meta: Record<string, any> | null;
  ran_at: number;
}

/** Every call recorded in `outDir`, ordered by the time it ran. */
export function taskCalls(outDir: string): TaskCall[] {
  let names: string[];
  try {
    names = readdirSync(outDir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((n) => JSON.parse(readFileSync(join(outDir, n), 'utf8')) as TaskCall)
    .sort((a, b) => a.ran_at - b.ran_at);
}

/** A `rq worker` left running (not burst), for jobs that must still run when the test acts. */
export interface RunningWorker {
  /** The worker's name (`rq:worker:<name>`, and the `worker_name` of the jobs it runs). */
  name: string;
  output(): string;
  /** Kills the worker and its work horse (its own process group). */
  stop(): Promise<void>;
}

/** Starts a `rq worker` over `queues` in the background; `stop()` it at the end of the test. */
export function startWorker(url: string, queues: string[], outDir: string): RunningWorker {
  const name = `pyrq-test-${process.pid}-${Date.now()}`;
  const child = spawn(RQ, ['worker', '--url', url, '--name', name, ...queues], {
    env: { ...process.env, PYTHONPATH: FIXTURE_PYTHONPATH, PYRQ_FIXTURE_OUT: outDir },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}
