/**
 * The MySQL/MariaDB source: desired schedules from BTU's tables (`mode: btu`) or from a
 * query (`mode: query`), with the last good read kept in memory.
 *
 * Failure is stale, not empty: when a read fails (server down, access revoked, a query
 * error) the snapshot is the last good one marked `stale` with the error, so the plan
 * deletes nothing; with no good read yet it is stale and empty. The poll then retries
 * with backoff and, once a read succeeds, says "changed" so the reconciler applies what
 * was edited meanwhile.
 *
 * Reads and caching:
 * - without `watch` (pyrq diff/apply), every `snapshot()` reads the database;
 * - while watching, `snapshot()` reuses the last read until the poll sees the change
 *   token move (or `reloadIds` patched it), so a reconcile caused by another source costs
 *   no query; `snapshot({fresh: true})` (the periodic re-sync) always reads;
 * - `reloadIds` re-reads some ids now (BTU's create/cancel socket messages) and patches
 *   the kept read; the daemon reconciles afterwards.
 */
import type { MysqlConfig } from '../../src/config/config.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import type { Logger } from '../../src/log.js';
import type { Source, SourceChange, SourceError, SourceSnapshot } from '../../src/source.js';
import { BtuReader } from './btu-reader.js';
import type { ModeReader } from './mode-reader.js';
import { MysqlReader, type ReaderOptions } from './mysql-reader.js';
import { describeTarget, resolveTarget } from './mysql-target.js';
import { QueryReader } from './query-reader.js';
import { MYSQL_SOURCE, type ReadResult, toSnapshot } from './row-entry.js';
import { SourceHealth } from './source-health.js';

export interface MysqlSourceOptions {
  config: MysqlConfig;
  ctx: NormalizeContext;
  /** The Frappe site every BTU schedule runs on (required in btu mode). */
  site?: string;
  logger?: Logger;
  reader?: ReaderOptions;
  /** Longest delay between retries while failing. Default 60 s (never below the poll interval). */
  maxBackoffMs?: number;
}

type GoodRead = Pick<ReadResult, 'entries' | 'errors'>;

export class MysqlSource implements Source {
  readonly name = MYSQL_SOURCE;
  /** `mysql://user@host:port/db`, without the password. */
  readonly target: string;
  private readonly db: MysqlReader;
  private readonly mode: ModeReader;
  private readonly health: SourceHealth;
  private readonly pollMs: number;
  private readonly maxBackoffMs: number;
  private good?: GoodRead;
  private token?: string;
  private dirty = false;
  private onChange?: (change: SourceChange) => void;
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private ticking?: Promise<void>;
  private closed = false;

  constructor(private readonly opts: MysqlSourceOptions) {
    const target = resolveTarget(opts.config);
    this.target = describeTarget(target);
    this.db = new MysqlReader(target, opts.reader);
    this.health = new SourceHealth(this.target, [target.password], opts.logger);
    this.pollMs = opts.config.pollIntervalMs;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    if (opts.config.mode === 'query') {
      this.mode = new QueryReader(this.db, opts.config.query ?? '', opts.ctx);
    } else {
      if (!opts.site) throw new Error('MysqlSource: btu mode needs a site');
      this.mode = new BtuReader(this.db, { ctx: opts.ctx, site: opts.site });
    }
  }

  /** Whether the last read failed (the snapshot is then stale). */
  get stale(): boolean {
    return this.health.failing;
  }

  async snapshot(opts: { fresh?: boolean } = {}): Promise<SourceSnapshot> {
    const fresh = opts.fresh === true;
    const watching = this.onChange !== undefined;
    // While watching and failing, the poll is already retrying with backoff: answer at once.
    if (fresh || !watching || (!this.health.failing && (!this.good || this.dirty))) await this.refresh(fresh);
    return this.current();
  }

  async watch(onChange: (change: SourceChange) => void): Promise<void> {
    this.onChange = onChange;
    if (this.timer) clearTimeout(this.timer); // watching again replaces the callback, not adds a poll
    this.schedule(this.pollMs);
  }

  /**
   * Re-reads these ids now and updates the kept read: a deleted row becomes absent, a
   * disabled one disabled. Falls back to a whole read in query mode, before the first
   * good read, or while failing. Never rejects: a failure makes the source stale.
   */
  async reloadIds(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    if (this.inflight) await this.inflight;
    if (!this.mode.canReadIds || !this.good || this.health.failing) return this.refresh(false);
    try {
      const got = await this.mode.readIds(ids);
      const entries = new Map(this.good.entries);
      for (const [id, entry] of got) {
        if (entry) entries.set(entry.id, entry);
        else entries.delete(id);
      }
      this.good = { entries, errors: this.good.errors };
    } catch (e) {
      this.mode.resetSchema();
      this.health.fail(e, this.goodCount());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onChange = undefined;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([this.inflight, this.ticking]);
    await this.db.close();
  }

  private current(): SourceSnapshot {
    const f = this.health.failure;
    if (!f) return toSnapshot(this.good ?? { entries: new Map(), errors: [] });
    const kept = this.good ? `the last good schedules (${this.goodCount()}) are kept` : 'no schedules have been read yet';
    const err: SourceError = {
      source: MYSQL_SOURCE,
      origin: this.target,
      message: `cannot read the database (failing since ${new Date(f.since).toISOString()}): ${f.message}; ${kept} and nothing is deleted until it recovers`,
    };
    return toSnapshot(this.good ?? { entries: new Map(), errors: [] }, true, [err]);
  }

  private goodCount(): number | undefined {
    return this.good ? [...this.good.entries.values()].filter((e) => e.schedule).length : undefined;
  }

  /** One whole read at a time; callers during a read share it. Never rejects. */
  private refresh(fresh: boolean): Promise<void> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      if (fresh) this.mode.resetSchema(); // BTU may have been migrated since the columns were looked up
      try {
        const r = await this.mode.readAll();
        this.good = { entries: r.entries, errors: r.errors };
        this.token = r.token;
        this.dirty = false;
        this.health.ok();
      } catch (e) {
        this.mode.resetSchema();
        this.health.fail(e, this.goodCount());
      }
    })().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.health.nextDelay(this.pollMs, this.maxBackoffMs));
      });
    }, delayMs);
    // The poll alone must not keep a process alive (the daemon has its own handles).
    this.timer.unref();
  }

  /** One poll: compare the change token, or, while failing or before any read, retry the whole read. */
  private async tick(): Promise<void> {
    const wasFailing = this.health.failing;
    if (wasFailing || !this.good) {
      await this.refresh(false);
      // Recovered (or first read done): the reconciler applies what changed meanwhile.
      if (!this.health.failing || !wasFailing) this.notify();
      return;
    }
    try {
      const t = await this.mode.token();
      if (t !== this.token) {
        this.token = t;
        this.dirty = true;
        this.notify();
      }
    } catch (e) {
      this.mode.resetSchema();
      // Newly stale: a reconcile publishes the stale state (and deletes nothing).
      if (this.health.fail(e, this.goodCount())) this.notify();
    }
  }

  private notify(): void {
    if (this.closed) return;
    this.onChange?.({ source: MYSQL_SOURCE });
  }
}
