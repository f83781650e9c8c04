import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Debian's interpreter, which has python3-rq installed. `python3` on PATH may be a
 * pyenv build without RQ, so never rely on PATH for this.
 */
export const PYTHON = process.env.PYRQ_TEST_PYTHON ?? '/usr/bin/python3';

/** Runs a Python snippet and returns its stdout; rejects with stderr on failure. */
export async function python(
  code: string,
  opts: { input?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<string> {
  const p = run(PYTHON, ['-c', code], {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (opts.input !== undefined) {
    p.child.stdin?.end(opts.input);
  }
  const { stdout } = await p;
  return stdout;
}
