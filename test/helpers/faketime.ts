import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * libfaketime's preload library, found where distributions put it (Debian and Ubuntu:
 * /usr/lib/<multiarch>/faketime/, any architecture; others: /usr/lib/faketime/ or
 * /usr/local/lib/faketime/), or named by PYRQ_TEST_LIBFAKETIME. Missing, it throws: a
 * test that needs it fails, it never skips.
 */
export function libfaketime(): string {
  const named = process.env.PYRQ_TEST_LIBFAKETIME;
  if (named) {
    if (!existsSync(named)) throw new Error(`PYRQ_TEST_LIBFAKETIME=${named}: no such file`);
    return named;
  }
  const dirs = ['/usr/lib/faketime', '/usr/local/lib/faketime', '/usr/lib64/faketime'];
  for (const root of ['/usr/lib', '/usr/lib64'])
    if (existsSync(root))
      for (const d of readdirSync(root)) if (/-linux-/.test(d)) dirs.push(join(root, d, 'faketime'));
  const found = dirs.map((d) => join(d, 'libfaketime.so.1')).find((f) => existsSync(f));
  if (!found)
    throw new Error(
      `libfaketime not found (looked in ${dirs.join(', ')}); install libfaketime or set PYRQ_TEST_LIBFAKETIME`,
    );
  return found;
}

/**
 * The environment that runs a process with its clock shifted by `offset` (faketime's
 * syntax: '+3s', '-2s'). Preloaded into the process itself: the `faketime` command forks,
 * so a SIGKILL would hit it and leave the real process running.
 */
export function fakeTimeEnv(offset: string): Record<string, string> {
  return { LD_PRELOAD: libfaketime(), FAKETIME: offset };
}
