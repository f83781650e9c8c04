/**
 * The seam between the polled SQL source and one database client library. Everything
 * else in `sources/sql/` (the poll, staleness, backoff, caching, row mapping) and the
 * modes (`sources/btu/`, `query-reader.ts`) is written against this interface only.
 *
 * A driver is a module exporting one `SqlDriver`, registered by a row in
 * `drivers/index.ts`; its `name` is the source's name (recorded on every registry
 * entry it owns) and its section in the settings (`mysql.url`, `postgres.url`).
 */
/** A value bound to a placeholder. Never spliced into SQL text. */
export type SqlValue = string | number | null;

export interface ReadRows<T> {
  rows: T[];
  /** Column names in result order (a query-mode query is checked against them). */
  columns: string[];
}

export interface PoolOptions {
  /** Connection attempt limit. Default 5 s: an unreachable server is reported quickly. */
  connectTimeoutMs?: number;
  /** Per-statement limit; a statement over it fails and its connection is dropped. Default 30 s. */
  queryTimeoutMs?: number;
  /** Pool size. Default 2: the change poll and a full read may overlap. */
  connectionLimit?: number;
}

/**
 * A small pool of read-only connections to one database. `read` runs one statement with
 * bound values and always sees the latest commits of other sessions (never a snapshot
 * kept from an earlier statement). A connection that died while idle (server restart,
 * killed session) costs one retry on a fresh connection, not a failed read.
 */
export interface SqlPool {
  read<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<ReadRows<T>>;
  close(): Promise<void>;
}

/** Where to connect, resolved from the settings (see `sql-target.ts`). */
export interface SqlTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** Unix socket (MySQL: the socket file; PostgreSQL: the socket directory); host is then not used. */
  socketPath?: string;
}

/** How a driver writes SQL: what the modes need to build statements that run on it. */
export interface SqlDialect {
  /** An identifier as SQL text: `tabBTU Task` -> `` `tabBTU Task` `` or `"tabBTU Task"`. */
  quote(identifier: string): string;
  /** The placeholder of the n-th bound value (1-based): `?` or `$1`. */
  placeholder(n: number): string;
  /**
   * A statement returning one row `{t, c}` per column of the tables named by the bound
   * values 1..count, as unqualified statements on this connection would resolve them.
   * Tables that do not exist return no rows.
   */
  columnsSql(count: number): string;
}

/** Settings-level facts about a driver's URL, used by `resolveSqlTarget`. */
export interface TargetSpec {
  /** Accepted URL schemes, with the colon (`mysql:`); the first is the one `describe` prints. */
  schemes: readonly string[];
  /** The URL parameter naming a Unix socket (`socket`, `host`). */
  socketParam: string;
  defaultPort: number;
  defaultUser: string;
}

export interface SqlDriver extends SqlDialect {
  /** Source name and settings section: `mysql`, `postgres`. */
  readonly name: string;
  /** For people: `MySQL/MariaDB`, `PostgreSQL`. */
  readonly label: string;
  readonly target: TargetSpec;
  /** Opens a pool (lazily: nothing connects until the first read). */
  connect(target: SqlTarget, opts?: PoolOptions): SqlPool;
}

/**
 * `SqlPool.read`'s retry rule, for every driver: run `attempt`, and once more when it
 * failed on a connection that died while idle (`isDead`: the driver's own error codes).
 * Any other failure, or a second one, is the read's failure.
 */
export async function retryOnceIfDead<T>(attempt: () => Promise<T>, isDead: (e: unknown) => boolean): Promise<T> {
  try {
    return await attempt();
  } catch (e) {
    if (!isDead(e)) throw e;
    return attempt();
  }
}
