/**
 * The files pyrq reads from its own package at run time (the Lua scripts, package.json,
 * the parse worker, the dispatcher thread), by their path from the package root. One module, so that a build
 * that has no package on disk (the single executable, scripts/build-bundle.ts) replaces
 * just this one with the files embedded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './paths.js';

/** The text of a file of the package: `src/redis/commands/lease.lua`, `package.json`. */
export function packageText(rel: string): string {
  return readFileSync(join(PACKAGE_ROOT, rel), 'utf8');
}

/** A compiled worker thread's script, for `new Worker`: a file, or its code (`eval: true`) where there is no file. */
type WorkerScript = { file: string } | { code: string };

const builtScript = (file: string): WorkerScript | undefined => (existsSync(file) ? { file } : undefined);

/** The parse worker's script; undefined when it is not built (the tests run the sources through vitest): files are then parsed inline. */
export function parseWorkerScript(): WorkerScript | undefined {
  return builtScript(join(PACKAGE_ROOT, 'dist', 'sources', 'files', 'parse-worker.js'));
}

/** The dispatcher thread's script (reconcilers/dispatcher-worker.ts); undefined when not built: the dispatcher then runs on the main thread. */
export function dispatchWorkerScript(): WorkerScript | undefined {
  return builtScript(join(PACKAGE_ROOT, 'dist', 'reconcilers', 'dispatcher-worker.js'));
}
