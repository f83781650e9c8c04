/**
 * The daemon's reconcile loop (controller-runtime's reconcileHandler): one runner that
 * every trigger goes through (a source event, a socket request, the periodic re-sync).
 *
 * - Single-flight with a dirty bit: a request while a run is in flight schedules exactly
 *   one more run after it (requests merge; a deep request wins over a shallow one).
 * - Errors are retried with capped exponential backoff; the loop never exits on its own.
 * - Every run gets a run id and a child logger (in `reconcileOnce`).
 */
import type { Logger } from '../src/log.js';
import { type ReconcileDeps, type ReconcileResult, reconcileOnce } from './reconcile-once.js';

export interface ReconcileRequest {
  /** Full re-sync: re-read sources from scratch and check every entry for drift. */
  deep?: boolean;
  /** Why (logged): "files changed", "resync", "socket upsert". */
  reason?: string;
  /**
   * Only these sources take part (a change in one source reconciles that source's ids).
   * Undefined: all sources. Entries of sources that do not take part are left alone.
   */
  sources?: string[];
  /**
   * Only these ids changed, plus whatever the sources report as changed (a file event
   * passes `[]`, a socket upsert its id): see `ReconcileOptions.scope`. Undefined: all.
   */
  scope?: string[];
  /**
   * Write only as the leader: the run writes with this daemon's lease token even if it
   * starts after the lease was lost, so Redis refuses it then. The leader's own duties
   * ask for it: the repair of a foreign write (reconcilers/foreign-writes.ts), the
   * restore of pushed schedules, the first reconcile of a leadership, the periodic and
   * the reconnect re-syncs (daemon.ts). Merged with a request without it: off (that run
   * writes as any other of a standby would, unfenced).
   */
  leaderOnly?: boolean;
}

export interface LoopOptions {
  /** Backoff after a failed run: min, max (ms). */
  backoffMs?: [number, number];
  /** Called after every successful run (health reporting). */
  onResult?: (r: ReconcileResult, req: ReconcileRequest) => void | Promise<void>;
  /** Called after every failed run (metrics). */
  onError?: (err: Error, req: ReconcileRequest) => void;
  logger?: Logger;
  /**
   * Errors that end the request instead of being retried (a write refused by fencing:
   * this daemon lost its lease, and the lease logs that once). Not logged here either.
   */
  isTerminal?: (err: Error) => boolean;
  /** While true (Redis unreachable, already logged once), failed runs are logged at debug. */
  quiet?: () => boolean;
}

export class ReconcileLoop {
  private running: Promise<void> | null = null;
  private pending: ReconcileRequest | null = null;
  private waiters: ((r: ReconcileResult | Error) => void)[] = [];
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /**
   * The last successful run. Once applied, its plan keeps no changes (the applied result
   * names the ids): a plan of 20,000 deletes held ~16 MB until the next run (issue 22).
   */
  lastResult?: ReconcileResult;
  lastError?: { at: number; message: string };
  lastRunAt?: number;

  constructor(
    private readonly deps: (req: ReconcileRequest) => ReconcileDeps,
    private readonly opts: LoopOptions = {},
  ) {}

  /** Asks for a reconcile; resolves with the result of the run that covers this request. */
  request(req: ReconcileRequest = {}): Promise<ReconcileResult> {
    if (this.stopped) return Promise.reject(new Error('reconcile loop is stopped'));
    this.pending = merge(this.pending, req);
    const p = new Promise<ReconcileResult>((resolve, reject) => {
      this.waiters.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
    });
    p.catch(() => {}); // callers that do not wait must not cause unhandled rejections
    if (!this.running) this.kick();
    return p;
  }

  private kick(): void {
    if (this.running || !this.pending || this.stopped) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const req = this.pending;
    const waiters = this.waiters;
    this.pending = null;
    this.waiters = [];
    this.running = this.runOne(req, waiters).finally(() => {
      this.running = null;
      if (this.pending && !this.retryTimer) this.kick();
    });
  }

  private async runOne(req: ReconcileRequest, waiters: ((r: ReconcileResult | Error) => void)[]): Promise<void> {
    const log = this.opts.logger;
    try {
      const deps = this.deps(req);
      const scope = req.sources;
      const sources = scope ? deps.sources.filter((s) => scope.includes(s.name)) : deps.sources;
      const result = await reconcileOnce(
        { ...deps, sources },
        { deep: req.deep, scope: req.scope, reason: req.reason },
      );
      this.failures = 0;
      this.lastResult = result.applied ? { ...result, plan: { ...result.plan, changes: [] } } : result;
      this.lastRunAt = Date.now();
      this.lastError = undefined;
      await this.opts.onResult?.(result, req);
      for (const w of waiters) w(result);
    } catch (e) {
      const err = e as Error;
      if (this.opts.isTerminal?.(err)) {
        for (const w of waiters) w(err);
        return;
      }
      this.failures++;
      this.lastError = { at: Date.now(), message: err.message };
      this.opts.onError?.(err, req);
      const [min, max] = this.opts.backoffMs ?? [250, 30_000];
      const delay = Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
      log?.[this.opts.quiet?.() ? 'debug' : 'error'](
        { err, reason: req.reason, attempt: this.failures, retryInMs: delay },
        'reconcile failed; retrying',
      );
      for (const w of waiters) w(err);
      // Retry the same request (merged with anything that arrived meanwhile) after the
      // backoff, unscoped: the sources' record of what changed went with the failed run.
      this.pending = merge(this.pending, { ...req, scope: undefined });
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.kick();
        }, delay);
        this.retryTimer.unref();
      }
    }
  }

  /** True while a run is in flight. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Stops accepting requests and waits for the run in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pending = null;
    for (const w of this.waiters) w(new Error('reconcile loop stopped'));
    this.waiters = [];
    await this.running;
  }
}

/** Two requests as one: deep if either is; all sources (or ids) if either wants all, else the union. */
function merge(a: ReconcileRequest | null, b: ReconcileRequest): ReconcileRequest {
  if (!a) return { ...b };
  const sources =
    a.sources === undefined || b.sources === undefined ? undefined : [...new Set([...a.sources, ...b.sources])];
  const scope = a.scope === undefined || b.scope === undefined ? undefined : [...new Set([...a.scope, ...b.scope])];
  const leaderOnly = a.leaderOnly === true && b.leaderOnly === true;
  return {
    deep: a.deep === true || b.deep === true,
    reason: mergeReason(a.reason, b.reason),
    sources,
    scope,
    ...(leaderOnly ? { leaderOnly } : {}),
  };
}

function mergeReason(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b || a.includes(b)) return a;
  return `${a}, ${b}`;
}
