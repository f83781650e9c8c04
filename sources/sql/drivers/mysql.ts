/**
 * The MySQL/MariaDB driver: a small mysql2 pool, with prepared statements only
 * (`execute`: values are always bound, never spliced into SQL), backtick quoting and
 * `?` placeholders.
 *
 * Every read sees other sessions' latest commits. The classic failure (other schedulers
 * have shipped it) is a pooled connection left inside a transaction: under InnoDB's
 * default REPEATABLE READ that transaction keeps its first snapshot forever, and edits
 * made in the web UI are never seen. So each connection, before its first use, is set to
 * `autocommit = 1` (every SELECT is its own transaction, whatever the server's
 * `autocommit` default) and `READ COMMITTED` (even a statement inside a transaction reads
 * the latest committed rows). Nothing here ever opens a transaction.
 *
 * A pooled connection that died while idle (server restart, wait_timeout) fails its next
 * statement; that statement is retried once on a fresh connection, so a restart costs one
 * reconnect, not a stale source.
 */
import { createRequire } from 'node:module';
import type { Pool, PoolConnection } from 'mysql2/promise';
import {
  type PoolOptions,
  type ReadRows,
  retryOnceIfDead,
  type SqlDriver,
  type SqlPool,
  type SqlTarget,
  type SqlValue,
} from '../driver.js';

// mysql2 (~15 ms to load) is required when the first pool opens, not when the driver
// table is: most `pyrq apply` runs and daemon starts have no MySQL source.
const createPool = (...args: Parameters<typeof import('mysql2/promise').createPool>): Pool =>
  (createRequire(import.meta.url)('mysql2/promise') as typeof import('mysql2/promise')).createPool(...args);

const SESSION_SETUP = ['SET SESSION autocommit = 1', 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'];
/** Errors that mean "this connection is dead", not "the server is down" or "the SQL is wrong". */
const DEAD_CONNECTION = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
]);

export const mysqlDriver: SqlDriver = {
  name: 'mysql',
  label: 'MySQL/MariaDB',
  target: { schemes: ['mysql:', 'mariadb:'], socketParam: 'socket', defaultPort: 3306, defaultUser: 'root' },
  quote: (id) => `\`${id.replaceAll('`', '``')}\``,
  placeholder: () => '?',
  columnsSql: (count) =>
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${Array(count).fill('?').join(', ')})`,
  connect: (target, opts) => new MysqlPool(target, opts),
};

class MysqlPool implements SqlPool {
  private readonly pool: Pool;
  private readonly prepared = new WeakSet<object>();
  private readonly queryTimeoutMs: number;

  constructor(target: SqlTarget, opts: PoolOptions = {}) {
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
    this.pool = createPool({
      host: target.socketPath ? undefined : target.host,
      port: target.socketPath ? undefined : target.port,
      socketPath: target.socketPath,
      user: target.user,
      password: target.password,
      database: target.database,
      connectionLimit: opts.connectionLimit ?? 2,
      maxIdle: opts.connectionLimit ?? 2,
      idleTimeout: 60_000,
      connectTimeout: opts.connectTimeoutMs ?? 5_000,
      enableKeepAlive: true,
      charset: 'utf8mb4',
      // `modified` is datetime(6): as text it compares exactly (a JS Date drops microseconds),
      // and DATETIME values in query mode keep their wall time.
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  }

  /** Runs one prepared statement and returns its rows and column names. */
  async read<T = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<ReadRows<T>> {
    return retryOnceIfDead(
      () => this.attempt<T>(sql, params),
      (e) => DEAD_CONNECTION.has((e as { code?: string }).code ?? ''),
    );
  }

  private async attempt<T>(sql: string, params: readonly SqlValue[]): Promise<ReadRows<T>> {
    const conn = await this.pool.getConnection();
    let reusable = false;
    try {
      await this.prepare(conn);
      const [rows, fields] = await conn.execute({ sql, timeout: this.queryTimeoutMs }, [...params]);
      reusable = true;
      return { rows: rows as T[], columns: (fields ?? []).map((f) => f.name) };
    } finally {
      // A connection whose statement failed may be in any state: never give it back.
      if (reusable) conn.release();
      else conn.destroy();
    }
  }

  private async prepare(conn: PoolConnection): Promise<void> {
    const core = conn.connection as unknown as object;
    if (this.prepared.has(core)) return;
    for (const stmt of SESSION_SETUP) await conn.query(stmt);
    this.prepared.add(core);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
