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

/** The compiled parse worker (the tests run the sources through vitest, the worker from the build). */
const PARSE_WORKER = join(PACKAGE_ROOT, 'dist', 'sources', 'files', 'parse-worker.js');

/**
 * The parse worker's script, for `new Worker`: a file, or its code (`eval: true`) where
 * there is no file; undefined when it is not built (files are then parsed inline).
 */
export function parseWorkerScript(): { file: string } | { code: string } | undefined {
  return existsSync(PARSE_WORKER) ? { file: PARSE_WORKER } : undefined;
}

/** The compiled dispatcher thread (reconcilers/dispatcher-worker.ts). */
const DISPATCH_WORKER = join(PACKAGE_ROOT, 'dist', 'reconcilers', 'dispatcher-worker.js');

/**
 * The dispatcher thread's script, for `new Worker`, as `parseWorkerScript`; undefined
 * when it is not built (the tests that run the sources): the dispatcher then runs on the
 * main thread.
 */
export function dispatchWorkerScript(): { file: string } | { code: string } | undefined {
  return existsSync(DISPATCH_WORKER) ? { file: DISPATCH_WORKER } : undefined;
}
