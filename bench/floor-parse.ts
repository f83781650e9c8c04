/**
 * The floor of a cold apply's parse: the same files parsed by the same code
 * (`parseFileResult` + `packFileResult`, what a parse thread runs; the compiled files of
 * dist/, not the bundle) on fresh worker threads with the parse pool's heap limits, with
 * nothing else of pyrq around it: no CLI start, no Redis, no plan, no writes.
 *
 * - two threads, the files dealt alternately (the pool's split on two cores): the parse
 *   phase of an apply at best;
 * - one thread, every file: what the second thread buys on this machine (two threads of
 *   CPU-bound JavaScript do not run twice as fast as one on every host);
 * - one thread, the format parsers alone (JSON, YAML, TOML bytes to objects; no
 *   validation, normalisation, hashing or next fire time).
 *
 * Each is timed inside its threads, from the first file read to the last file parsed (the
 * slower thread's time): the threads' own start, which loads the compiled modules here and
 * the bundle's worker code in an apply (~0.15 s), is left out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DEFAULT_CONTEXT } from '../src/model/normalize.js';
import { parseScheduleFile } from '../sources/files/parse-file.js';
import { PARSE_THREAD_LIMITS } from '../sources/files/parse-pool.js';
import { packFileResult, parseFileResult } from '../sources/files/parse-result.js';

interface Job {
  dir: string;
  files: string[];
  mode: 'full' | 'formats';
  now: number;
}

if (!isMainThread && (workerData as { floorParse?: Job } | undefined)?.floorParse) {
  const { dir, files, mode, now } = (workerData as { floorParse: Job }).floorParse;
  let schedules = 0;
  const t0 = performance.now();
  for (const rel of files) {
    const bytes = readFileSync(join(dir, rel));
    if (mode === 'full')
      schedules += packFileResult(parseFileResult('files', rel, bytes, DEFAULT_CONTEXT, now)).ids.length;
    else {
      const r = parseScheduleFile(rel, bytes);
      if (r.ok) schedules += r.entries.length;
    }
  }
  parentPort!.postMessage({ schedules, ms: performance.now() - t0 });
}

/** The slowest of `threads` threads' parse time over `files` (dealt alternately), ms; and the schedules they read. */
async function run(
  dir: string,
  files: readonly string[],
  threads: number,
  mode: Job['mode'],
): Promise<{ ms: number; schedules: number }> {
  const answers = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const job: Job = { dir, files: files.filter((_, i) => i % threads === t), mode, now: Date.now() };
      return new Promise<{ schedules: number; ms: number }>((resolve, reject) => {
        const w = new Worker(fileURLToPath(import.meta.url), {
          workerData: { floorParse: job },
          resourceLimits: PARSE_THREAD_LIMITS,
        });
        w.once('message', (a: { schedules: number; ms: number }) => {
          resolve(a);
          void w.terminate();
        });
        w.once('error', reject);
      });
    }),
  );
  return {
    ms: Math.max(...answers.map((a) => a.ms)),
    schedules: answers.reduce((n, a) => n + a.schedules, 0),
  };
}

export interface ParseFloor {
  twoThreadsS: number;
  oneThreadS: number;
  formatsOnlyS: number;
}

/** One round of each floor (alternated by the caller's rounds), checking every schedule was read. */
export async function parseFloor(dir: string, files: readonly string[], count: number): Promise<ParseFloor> {
  const check = (what: string, r: { ms: number; schedules: number }) => {
    if (r.schedules !== count) throw new Error(`parse floor (${what}): ${r.schedules} of ${count} schedules read`);
    return Math.round(r.ms) / 1000;
  };
  return {
    twoThreadsS: check('two threads', await run(dir, files, 2, 'full')),
    oneThreadS: check('one thread', await run(dir, files, 1, 'full')),
    formatsOnlyS: check('formats only', await run(dir, files, 1, 'formats')),
  };
}
