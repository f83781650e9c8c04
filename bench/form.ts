/**
 * Which pyrq the bench measures, the same for every scenario of a run (`--form`):
 *
 *   bundle    (default) pyrq as the package ships it: `npm pack` builds bundle/pyrq.cjs,
 *             and bin/run.js runs it while its manifest stamp is fresh; built here once,
 *             before the first scenario
 *   compiled  the compiled files in dist/: the bundle's stamp is removed, so bin/run.js
 *             runs them (as after `npm run build` in a checkout)
 *
 * Before `--form`, the cli scenario built the bundle half-way through a run: the
 * scenarios before it measured the compiled files and those after it the bundle, and the
 * two differ (a daemon's start-up peak with 100,000 schedules: 257-279 MB compiled,
 * 294-313 MB bundled; docs/performance.md).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

export type Form = 'bundle' | 'compiled';

export function isForm(s: string): s is Form {
  return s === 'bundle' || s === 'compiled';
}

/** Makes bin/run.js run `form` from now on; says what it did. */
export function prepareForm(form: Form, log: (msg: string) => void): void {
  if (form === 'compiled') {
    rmSync(join(PACKAGE_ROOT, 'bundle', 'pyrq.manifest-sha256'), { force: true });
    log('form: the compiled files in dist/ (bundle stamp removed)');
    return;
  }
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist', 'scripts', 'build-bundle.js')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`the bundle did not build: ${r.stderr.slice(-1000)}`);
  log(`form: the bundle, as the package ships it (${r.stdout.trim()})`);
}
