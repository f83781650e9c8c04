/**
 * The daemon's dispatcher on a thread of its own (worker_threads; the thread's side is
 * dispatcher-worker.ts). With 100,000 schedules the main thread's heap is large, and its
 * full collections and scavenges (100-330 ms on a busy machine), a file storm's long
 * reconciles and the handling of parse results held per-second fires up to 600 ms late
 * (docs/performance.md, "File storm"). The thread has its own isolate and heap, its own
 * Redis connections and its own logger: nothing on the main thread delays a fire.
 *
 * The main thread keeps what belongs to the daemon: the lease (each fire batch carries
 * its token, given at every start; a refusal comes back as a message and steps the lease
 * down), the metrics (one compact summary per tick, src/dispatch/fire-summary.ts), the
 * signals (SIGUSR2 is passed on, to reopen the log file).
 *
 * A thread that cannot start, or dies, is not a silent stop of firing: it is logged as an
 * error and the dispatcher runs on the main thread from then on (as before the thread
 * existed), started at once if it was running.
 */
import { Worker } from 'node:worker_threads';
import type { FenceGuard } from '../src/redis/commands/fence.js';
import type { FireSummary } from '../src/dispatch/fire-summary.js';
import { fullGc } from '../src/gc.js';
import type { Logger } from '../src/log.js';
import type { Dispatcher } from './dispatcher.js';
import type { DispatcherWorkerData, FromWorker, ToWorker } from './dispatcher-worker.js';

/** What the daemon uses of a dispatcher, on whichever thread it runs. */
export interface DaemonDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  collectGarbageWhenIdle(): void;
  /** Releases what outlives a stop (the thread). */
  close?(): Promise<void>;
}

/** The metrics' side (src/http/metrics.ts). */
export interface FireSummaryObserver {
  observeFireSummary(s: FireSummary): void;
  observeTick(durationMs: number): void;
}

export interface DispatcherThreadOptions {
  script: { file: string } | { code: string };
  data: DispatcherWorkerData;
  logger: Logger;
  fence: FenceGuard;
  observer?: FireSummaryObserver;
  /** The dispatcher on the main thread, should the thread fail. */
  inThread: () => Dispatcher;
  /** Pass SIGUSR2 on to the thread (its logger writes to a file of its own that logrotate rotates). */
  reopenOnSigusr2?: boolean;
}

/**
 * The dispatcher thread's young generation. Left to V8 it grows to 48 MB (16 MB semi-
 * spaces) while the thread warms its cache of what is due in the next ten minutes
 * (~20,000 specs and payloads with 100,000 schedules), and stays that size: the daemon's
 * RSS 8 s after start was 326-327 MB; with 12 MB, 294-307 MB (3 runs each, alternately).
 * What lives here is the cache (old generation); the young one holds a tick's garbage.
 */
const YOUNG_GENERATION_MB = 12;

/** Full collections of the main thread's heap after bulk work: at most one per this long. */
const MAIN_GC_INTERVAL_MS = 2000;
/**
 * And once more this long after the last request: the collection asked for after a bulk
 * reconcile runs while the storm's later reconciles still hold their plans; nothing on
 * the main thread runs in idle time to collect what they leave (the dispatcher's idle
 * loop did that before it had a thread). Measured: a 100,000-file storm ended +123 MB
 * above its start in 1 run of 5 without it.
 */
const MAIN_GC_TRAILING_MS = 5000;

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export class DispatcherThread implements DaemonDispatcher {
  private worker?: Worker;
  private fallback?: Dispatcher;
  /** The daemon wants the loop running (between start and stop). */
  private running = false;
  private closing = false;
  private seq = 0;
  private readonly replies = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private lastMainGc = -Infinity;
  private mainGcTimer?: NodeJS.Timeout;
  private trailingGcTimer?: NodeJS.Timeout;
  private readonly onSigusr2 = () => this.post({ type: 'reopen' });

  constructor(private readonly o: DispatcherThreadOptions) {
    if (o.reopenOnSigusr2) process.on('SIGUSR2', this.onSigusr2);
  }

  /** The thread's id while one runs (tests, logs). */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  async start(): Promise<void> {
    this.running = true;
    if (!this.fallback && !this.worker) this.spawn();
    if (this.fallback) return this.fallback.start();
    await this.request({ type: 'start', seq: ++this.seq, token: this.o.fence.token() });
  }

  /** Stops the loop after the tick in flight (if any); the thread stays, for the next leadership. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.fallback) return this.fallback.stop();
    if (this.worker) await this.request({ type: 'stop', seq: ++this.seq });
  }

  /**
   * After bulk work (a deep re-sync, thousands of changes): the main thread's heap holds
   * the garbage; it no longer shares a thread with fires, so it is collected soon (at most
   * every 2 s). The dispatcher thread collects its own in its idle time.
   */
  collectGarbageWhenIdle(): void {
    if (this.fallback) return this.fallback.collectGarbageWhenIdle();
    this.post({ type: 'gc' });
    if (this.trailingGcTimer) clearTimeout(this.trailingGcTimer);
    this.trailingGcTimer = this.collectMainIn(MAIN_GC_TRAILING_MS, () => (this.trailingGcTimer = undefined));
    this.mainGcTimer ??= this.collectMainIn(
      Math.max(0, this.lastMainGc + MAIN_GC_INTERVAL_MS - performance.now()),
      () => (this.mainGcTimer = undefined),
    );
  }

  /** A full collection of the main thread's heap in `ms` (`done` first forgets the timer). */
  private collectMainIn(ms: number, done: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      done();
      this.lastMainGc = performance.now();
      fullGc();
    }, ms);
    t.unref();
    return t;
  }

  /** Ends the thread (the daemon's stop, after `stop`). */
  async close(): Promise<void> {
    this.closing = true;
    process.off('SIGUSR2', this.onSigusr2);
    if (this.mainGcTimer) clearTimeout(this.mainGcTimer);
    if (this.trailingGcTimer) clearTimeout(this.trailingGcTimer);
    await this.fallback?.stop();
    const w = this.worker;
    if (!w) return;
    await this.request({ type: 'close', seq: ++this.seq }).catch(() => undefined);
    await w.terminate();
    this.worker = undefined;
  }

  private spawn(): void {
    const { script, data, logger } = this.o;
    let w: Worker;
    try {
      w = new Worker('file' in script ? script.file : script.code, {
        eval: 'code' in script,
        workerData: data,
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
    } catch (err) {
      this.failed(err, undefined, false); // start() goes on with the fallback
      return;
    }
    this.worker = w;
    let exitError: unknown;
    w.on('message', (m: FromWorker) => this.onMessage(m));
    w.on('error', (err) => (exitError = err));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      if (!this.closing) this.failed(exitError ?? new Error(`exited with code ${code}`), w.threadId, true);
    });
    logger.debug({ threadId: w.threadId }, 'dispatcher thread started');
  }

  /** The thread could not start or died: fire from the main thread from now on. */
  private failed(err: unknown, threadId: number | undefined, startNow: boolean): void {
    this.o.logger.error(
      { err, threadId },
      'dispatcher thread failed; the dispatcher runs on the main thread from now on (fires may be delayed by its work)',
    );
    this.fallback = this.o.inThread();
    const waiting = [...this.replies.values()];
    this.replies.clear();
    // A start that was waiting for the thread is a start of the fallback; a stop has nothing left to stop.
    const started = this.running && startNow ? this.fallback.start() : Promise.resolve();
    for (const r of waiting) started.then(r.resolve, r.reject);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'reply': {
        const r = this.replies.get(m.seq);
        this.replies.delete(m.seq);
        if (m.error === undefined) r?.resolve();
        else r?.reject(new Error(m.error));
        return;
      }
      case 'fenced':
        this.o.fence.refused();
        return;
      case 'fires':
        this.o.observer?.observeFireSummary(m.summary);
        if (m.tickMs !== undefined) this.o.observer?.observeTick(m.tickMs);
        return;
      case 'log':
        this.relay(m.line);
        return;
      case 'ready':
        return;
    }
  }

  /** A line of the thread's logger, when it has no destination of its own: through the daemon's logger. */
  private relay(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, msg, time: _t, pid: _p, hostname: _h, ...fields } = rec;
    const method = LEVELS[level as number] ?? 'info';
    this.o.logger[method](fields, typeof msg === 'string' ? msg : '');
  }

  private request(m: Extract<ToWorker, { seq: number }>): Promise<void> {
    const w = this.worker;
    if (!w) return this.fallback && m.type === 'start' ? this.fallback.start() : Promise.resolve();
    return new Promise((resolve, reject) => {
      this.replies.set(m.seq, { resolve, reject });
      w.postMessage(m);
    });
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }
}
