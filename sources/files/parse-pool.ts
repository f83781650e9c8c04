/**
 * Parse workers for a large read: a cold `pyrq apply`, the daemon's start and its deep
 * re-sync each parse every file. Parsing, validation and hashing are pure and CPU-bound
 * (100,000 schedules cost ~6 s of one core, YAML most of it), so with more than one core
 * the files are spread over worker threads; the main thread keeps stat'ing, caching and
 * assembling. A small read (one edited file) stays on the main thread, where a worker's
 * start-up (~50 ms) would cost more than it saves.
 *
 * A worker that fails is not an error of the source: its files are parsed inline.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { NormalizeContext } from '../../src/model/normalize.js';
import { parseWorkerScript } from '../../src/package-files.js';
import { type FileResult, type PackedFileResult, unpackFileResult } from './parse-result.js';
import type { ParseRequest, ParseWorkerData } from './parse-worker.js';

/** Fewer files than this to parse: not worth starting threads. */
export const POOL_MIN_FILES = 24;
const MAX_THREADS = 4;
/** Files per thread at least, so a pool is never mostly start-up. */
const FILES_PER_THREAD = 12;
/**
 * Young generation of a worker. A parse thread keeps nothing from one file to the next,
 * so a small nursery costs little: 32 MB made each thread's heap the largest part of a
 * cold apply's peak (100,000 schedules: 315-318 MB with 32, 282-296 MB with 8; user CPU
 * the same within the noise, 6.9-7.8 s).
 */
const YOUNG_GENERATION_MB = 8;
/**
 * Old generation of a worker. What a parse thread keeps is its code and its memos (~18 MB
 * after a full GC, 100,000 schedules read); left to itself V8 let each thread's heap grow
 * to 50-60 MB of garbage before collecting, and the two threads were ~100 MB of the
 * daemon's start-up peak (the first deep read: 100,000 schedules, VmHWM 351 MB; with this
 * cap 295-296 MB; 19 instead of 7 mark-compacts per apply, ~0.1 s of CPU). A file too
 * large for it (a worker out of memory) is parsed inline, as after any worker failure.
 */
const OLD_GENERATION_MB = 40;

/** A parse thread's heap limits (the bench's parse floor starts its threads with them too). */
export const PARSE_THREAD_LIMITS = {
  maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
  maxOldGenerationSizeMb: OLD_GENERATION_MB,
} as const;

/** A worker's answer: the result, and the digest of the bytes it parsed (parse-result.ts `contentDigest`). */
export interface ParsedFile {
  result: FileResult;
  digest?: string;
}

interface Pending {
  rel: string;
  resolve(r: ParsedFile): void;
  reject(e: Error): void;
}

class Thread {
  readonly pending = new Map<number, Pending>();
  failed?: Error;

  constructor(readonly worker: Worker) {
    worker.on('message', ({ seq, result, digest }: { seq: number; result: PackedFileResult; digest?: string }) => {
      const p = this.pending.get(seq);
      this.pending.delete(seq);
      poolStats.parsed++;
      if (p) p.resolve({ result: unpackFileResult(result, p.rel), digest });
    });
    const fail = (e: Error) => {
      this.failed ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`parse worker exited with code ${code}`)));
  }
}

/** Pools started and files parsed on their threads, by this process (tests check these). */
export const poolStats = { started: 0, parsed: 0 };

export class ParsePool {
  private readonly threads: Thread[];
  private seq = 0;

  private constructor(n: number, script: { file: string } | { code: string }, data: ParseWorkerData) {
    poolStats.started++;
    this.threads = Array.from(
      { length: n },
      () =>
        new Thread(
          new Worker('file' in script ? script.file : script.code, {
            eval: 'code' in script,
            workerData: data,
            resourceLimits: PARSE_THREAD_LIMITS,
          }),
        ),
    );
  }

  /**
   * A pool for parsing `files` files, or undefined when inline parsing is the better
   * choice. `threads` caps the threads (default: the cores, at most 4; 0 or 1: inline);
   * `workerFile` replaces the worker (tests); `now`: the threads also work out next fire
   * times after it (TextSchedule.nextFireHint).
   */
  static forFiles(
    source: string,
    ctx: NormalizeContext,
    files: number,
    opts: { threads?: number; workerFile?: string; now?: number } = {},
  ): ParsePool | undefined {
    if (files < POOL_MIN_FILES) return undefined;
    const n = Math.min(opts.threads ?? availableParallelism(), MAX_THREADS, Math.floor(files / FILES_PER_THREAD));
    if (n < 2) return undefined;
    // A context whose allowlist cannot be rebuilt from its patterns cannot cross to a thread.
    if (ctx.allowFunction && !ctx.allowPatterns) return undefined;
    const script = opts.workerFile
      ? existsSync(opts.workerFile)
        ? { file: opts.workerFile }
        : undefined
      : parseWorkerScript();
    if (!script) return undefined;
    const { allowFunction: _fn, ...plain } = ctx;
    return new ParsePool(n, script, { source, ctx: plain, now: opts.now });
  }

  /** Reads and parses `full` (shown as `rel`) on the least busy thread. Rejects when that thread fails. */
  parse(rel: string, full: string): Promise<ParsedFile> {
    const live = this.threads.filter((t) => !t.failed);
    if (live.length === 0) return Promise.reject(this.threads[0]!.failed!);
    const t = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      t.pending.set(seq, { rel, resolve, reject });
      t.worker.postMessage({ seq, rel, full } satisfies ParseRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
