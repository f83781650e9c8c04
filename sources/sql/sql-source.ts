/**
 * A polled SQL source (MySQL/MariaDB, PostgreSQL: the `driver`): desired schedules from
 * BTU's tables (`mode: btu`) or from a query (`mode: query`), with the last good read
 * kept in memory. The source's name is the driver's (`mysql`, `postgres`).
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
import type { SqlSourceConfig } from '../../src/config/config.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import type { Logger } from '../../src/log.js';
import type { Source, SourceChange, SourceError, SourceSnapshot } from '../../src/source.js';
import type { PoolOptions, SqlDriver, SqlPool } from './driver.js';
import type { ModeReader } from './mode-reader.js';
import { type ModeContext, SQL_MODES } from './modes.js';
import { specHash } from '../../src/model/spec-hash.js';
import { type ReadResult, type RowEntry, toSnapshot } from './row-entry.js';
import { PollBackoff } from './poll-backoff.js';
import { describeSqlTarget, resolveSqlTarget } from './sql-target.js';

export interface SqlSourceOptions {
  driver: SqlDriver;
  config: SqlSourceConfig;
  ctx: NormalizeContext;
  /** The Frappe site every BTU schedule runs on (required in btu mode). */
  site?: string;
  /** BTU mode: how rows run and their overlap policy (the `btu` settings); absent: direct, the context's overlap. */
  btu?: ModeContext['btu'];
  logger?: Logger;
  reader?: PoolOptions;
  /** Longest delay between retries while failing. Default 60 s (never below the poll interval). */
  maxBackoffMs?: number;
  /** The source's name (a `[[sql]]` entry's `name`); absent: the driver's (`mysql`, `postgres`). */
  name?: string;
  /** Put before every row's id (`site1.`: several SQL sources, src/config/sql-entries.ts). */
  idPrefix?: string;
  /** How settings errors name the source (`sql[0] ("site1")`); absent: the name. */
  label?: string;
}

type GoodRead = Pick<ReadResult, 'entries' | 'errors'>;

export class SqlSource implements Source {
  readonly name: string;
  /** `mysql://user@host:port/db`, without the password. */
  readonly target: string;
  readonly mode: SqlSourceConfig['mode'];
  /** The target and the mode: `mysql://root@127.0.0.1:3306/site1 (btu)`. Never the password. */
  get location(): string {
    return `${this.target} (${this.mode})`;
  }
  private readonly db: SqlPool;
  private readonly reader: ModeReader;
  private readonly backoff: PollBackoff;
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

  /** What this source puts before a row's id to make its schedule id ('' for one SQL source). */
  readonly idPrefix: string;

  constructor(opts: SqlSourceOptions) {
    const { driver, config } = opts;
    this.name = opts.name ?? driver.name;
    this.idPrefix = opts.idPrefix ?? '';
    this.mode = config.mode;
    const target = resolveSqlTarget({ name: opts.label ?? this.name, target: driver.target }, config);
    this.target = describeSqlTarget(driver, target);
    this.db = driver.connect(target, opts.reader);
    this.reader = SQL_MODES[config.mode]({
      db: this.db,
      dialect: driver,
      config,
      ctx: opts.ctx,
      source: this.name,
      site: opts.site,
      btu: opts.btu,
      logger: opts.logger,
      idPrefix: this.idPrefix,
    });
    this.backoff = new PollBackoff(this.name, this.target, [target.password], opts.logger);
    this.pollMs = config.pollIntervalMs;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
  }

  /** What `status` shows beside the source (BTU: the generation detected and why). */
  get detail(): string | undefined {
    return this.reader.detail?.();
  }

  /**
   * Ids held disabled until BTU's transaction commits (`sources/btu/await-commit.ts`): a
   * `cancel_task_schedule` stops the schedule at once, as BTU's daemons do, while the row
   * still reads enabled; the committed row decides once the hold is released.
   */
  private readonly holds = new Set<string>();

  /** Whether single ids can be re-read (BTU mode), rather than only the whole source (query mode). */
  get canReadIds(): boolean {
    return this.reader.canReadIds;
  }

  /** The schedule id of a row (a BTU Task Schedule name, as BTU's commands give it). */
  scheduleIdOf(rowId: string): string {
    return `${this.idPrefix}${rowId}`;
  }

  hold(id: string): void {
    this.holds.add(id);
  }

  release(id: string): void {
    this.holds.delete(id);
  }

  /** The committed rows of these ids now, without changing what the source hands out. Rejects on a read error. */
  async peekIds(ids: readonly string[]): Promise<Map<string, RowEntry | undefined>> {
    if (!this.reader.canReadIds) throw new Error(`${this.name} source (${this.mode} mode) cannot read single ids`);
    return this.reader.readIds(ids);
  }

  /** The entry of `id` in the kept read (what the last reconcile applied from this source). */
  kept(id: string): RowEntry | undefined {
    return this.good?.entries.get(id);
  }

  /** Whether the last read failed (the snapshot is then stale). */
  get stale(): boolean {
    return this.backoff.failing;
  }

  async snapshot(opts: { fresh?: boolean } = {}): Promise<SourceSnapshot> {
    const fresh = opts.fresh === true;
    const watching = this.onChange !== undefined;
    // While watching and failing, the poll is already retrying with backoff: answer at once.
    if (fresh || !watching || (!this.backoff.failing && (!this.good || this.dirty))) await this.refresh(fresh);
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
    if (!this.reader.canReadIds || !this.good || this.backoff.failing) return this.refresh(false);
    try {
      const got = await this.reader.readIds(ids);
      const entries = new Map(this.good.entries);
      for (const [id, entry] of got) {
        if (entry) entries.set(entry.id, entry);
        else entries.delete(id);
      }
      this.good = { entries, errors: this.good.errors };
    } catch (e) {
      this.reader.resetSchema();
      this.backoff.fail(e, this.goodCount());
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
    const f = this.backoff.failure;
    const good = this.good ? withHolds(this.good, this.holds) : undefined;
    if (!f) return toSnapshot(this.name, good ?? { entries: new Map(), errors: [] });
    const kept = this.good
      ? `the last good schedules (${this.goodCount()}) are kept`
      : 'no schedules have been read yet';
    const err: SourceError = {
      source: this.name,
      origin: this.target,
      message: `cannot read the database (failing since ${new Date(f.since).toISOString()}): ${f.message}; ${kept} and nothing is deleted until it recovers`,
    };
    return toSnapshot(this.name, good ?? { entries: new Map(), errors: [] }, true, [err]);
  }

  private goodCount(): number | undefined {
    return this.good ? [...this.good.entries.values()].filter((e) => e.schedule).length : undefined;
  }

  /** One whole read at a time; callers during a read share it. Never rejects. */
  private refresh(fresh: boolean): Promise<void> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      if (fresh) this.reader.resetSchema(); // BTU may have been migrated since the columns were looked up
      try {
        const r = await this.reader.readAll();
        this.good = { entries: r.entries, errors: r.errors };
        this.token = r.token;
        this.dirty = false;
        this.backoff.ok();
      } catch (e) {
        this.reader.resetSchema();
        this.backoff.fail(e, this.goodCount());
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
        this.schedule(this.backoff.nextDelay(this.pollMs, this.maxBackoffMs));
      });
    }, delayMs);
    // The poll alone must not keep a process alive (the daemon has its own handles).
    this.timer.unref();
  }

  /** One poll: compare the change token, or, while failing or before any read, retry the whole read. */
  private async tick(): Promise<void> {
    const wasFailing = this.backoff.failing;
    if (wasFailing || !this.good) {
      await this.refresh(false);
      // Recovered (or first read done): the reconciler applies what changed meanwhile.
      if (!this.backoff.failing || !wasFailing) this.notify();
      return;
    }
    try {
      const t = await this.reader.token();
      if (t !== this.token) {
        this.token = t;
        this.dirty = true;
        this.notify();
      }
    } catch (e) {
      this.reader.resetSchema();
      // Newly stale: a reconcile publishes the stale state (and deletes nothing).
      if (this.backoff.fail(e, this.goodCount())) this.notify();
    }
  }

  private notify(): void {
    if (this.closed) return;
    this.onChange?.({ source: this.name });
  }
}

/** The read with every held id's schedule disabled (a held id without a schedule stays as it is). */
function withHolds(read: GoodRead, holds: ReadonlySet<string>): GoodRead {
  if (holds.size === 0) return read;
  const entries = new Map(read.entries);
  for (const id of holds) {
    const e = entries.get(id);
    if (!e?.schedule || !e.schedule.spec.enabled) continue;
    const spec = { ...e.schedule.spec, enabled: false };
    entries.set(id, { ...e, schedule: { ...e.schedule, spec, hash: specHash(spec) } });
  }
  return { entries, errors: read.errors };
}

/**
 * The source BTU's socket messages (`create_task_schedule`, `cancel_task_schedule`)
 * reload: the SQL source in BTU mode, else any SQL source (which re-reads as a whole).
 */
export function btuSourceOf(sources: readonly Source[]): SqlSource | undefined {
  return btuSourcesOf(sources)[0];
}

/**
 * Every source a BTU command acts on: each SQL source in BTU mode (one per site of a
 * bench: the command names no site), else the first SQL source (which re-reads as a whole).
 */
export function btuSourcesOf(sources: readonly Source[]): SqlSource[] {
  const sql = sources.filter((s): s is SqlSource => s instanceof SqlSource);
  const btu = sql.filter((s) => s.mode === 'btu');
  return btu.length > 0 ? btu : sql.slice(0, 1);
}
