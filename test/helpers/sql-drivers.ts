import { join } from 'node:path';
import type { SqlDriver } from '../../sources/sql/driver.js';
import { mysqlDriver } from '../../sources/sql/drivers/mysql.js';
import { postgresDriver } from '../../sources/sql/drivers/postgres.js';
import { ROOT } from './cli.js';
import { createThrowawayDb } from './mysql.js';
import { createPgThrowawayDb } from './postgres.js';
import { startPostgres } from './private-postgres.js';
import type { ThrowawayDb, ThrowawayUser } from './throwaway-db.js';

/**
 * The SQL source's tests run once per driver (`describe.each(SQL_TEST_DRIVERS)`): one
 * suite, two databases. This table holds what differs between them: how to get a
 * throwaway database, the BTU fixture, and the servers' own wording of a few errors.
 * Test statements are written in MySQL's spelling; the PostgreSQL helper translates them.
 */
export type TestDb = ThrowawayDb;
export type TestUser = ThrowawayUser;

export interface SqlTestDriver {
  /** The driver's (and source's) name: `mysql`, `postgres`. */
  name: 'mysql' | 'postgres';
  driver: SqlDriver;
  /** The URL scheme with its colon. */
  scheme: string;
  /** A throwaway database holding BTU's tables and rows (`fixture: false`: empty). */
  createDb(opts?: { fixture?: boolean }): Promise<TestDb>;
  /**
   * A throwaway database with BTU's tables on a server that checks passwords (MariaDB
   * does; the machine's PostgreSQL trusts local connections, so a private one is started).
   */
  createPasswordDb(): Promise<{ db: TestDb; close(): Promise<void> }>;
  /** What the server says to a user whose SELECT grant was revoked. */
  denied: RegExp;
  /** What the server says to a wrong password. */
  wrongPassword: RegExp;
  /** What pyrq reports when the server wants a password and none is set. */
  noPassword: RegExp;
  /** A statement returning `{iso, ac}`: the session's isolation level and whether each statement commits on its own. */
  sessionProbe: { sql: string; expected: Record<string, unknown> };
  /** `CREATE TABLE jobs ...` for query mode, in this database's types. */
  jobsTable: string;
  /**
   * `native_jobs`: one row in the column types people would pick on this database
   * (MySQL BIT/JSON/DATETIME, PostgreSQL boolean/jsonb/timestamptz), all meaning: id
   * 9007199254740993, at 2099-01-02T03:04:05Z (timezone Europe/Berlin), enabled, kwargs
   * {"n": 1}, ttl 600.
   */
  nativeJobsTable: string;
  /** A statement that runs for about a second. */
  sleepSql: string;
}

const FIXTURES = join(ROOT, 'fixtures');
const JOBS_ROWS = `INSERT INTO jobs VALUES ('report', 'app.tasks.report', '0 7 * * *', 'Europe/Berlin', 1, '{"format": "pdf"}'), ('cleanup', 'app.tasks.cleanup', '*/10 * * * *', NULL, 0, NULL), ('broken', 'app.tasks.x', '0 7 * * *', NULL, 1, '{"a": ')`;

export const SQL_TEST_DRIVERS: SqlTestDriver[] = [
  {
    name: 'mysql',
    driver: mysqlDriver,
    scheme: 'mysql:',
    createDb: (opts = {}) =>
      createThrowawayDb({ sqlFile: opts.fixture === false ? undefined : join(FIXTURES, 'btu.sql') }),
    createPasswordDb: async () => {
      const db = await createThrowawayDb({ sqlFile: join(FIXTURES, 'btu.sql') });
      return { db, close: () => db.drop() };
    },
    denied: /command denied to user/,
    wrongPassword: /Access denied for user/,
    noPassword: /Access denied for user .*\(using password: NO\)/,
    sessionProbe: {
      sql: 'SELECT @@SESSION.tx_isolation AS iso, @@SESSION.autocommit AS ac',
      expected: { iso: 'READ-COMMITTED', ac: '1' },
    },
    jobsTable: `CREATE TABLE jobs (job_key VARCHAR(64) PRIMARY KEY, handler VARCHAR(200) NOT NULL, cron_expr VARCHAR(64), tz VARCHAR(64), active TINYINT(1) NOT NULL DEFAULT 1, params LONGTEXT);
      ${JOBS_ROWS}`,
    // DATETIME is wall time, read in the row's timezone: 04:04:05 in Berlin is 03:04:05Z.
    nativeJobsTable: `CREATE TABLE native_jobs (id BIGINT PRIMARY KEY, fn VARCHAR(200), run_at DATETIME(6), tz VARCHAR(64), on_off BIT(1), params JSON, ttl BIGINT);
      INSERT INTO native_jobs VALUES (9007199254740993, 'app.t.f', '2099-01-02 04:04:05', 'Europe/Berlin', b'1', '{"n": 1}', 600)`,
    sleepSql: 'SELECT SLEEP(1) AS s',
  },
  {
    name: 'postgres',
    driver: postgresDriver,
    scheme: 'postgres:',
    createDb: (opts = {}) =>
      createPgThrowawayDb({ sqlFile: opts.fixture === false ? undefined : join(FIXTURES, 'btu.postgres.sql') }),
    createPasswordDb: async () => {
      const server = await startPostgres();
      try {
        const db = await createPgThrowawayDb({ sqlFile: join(FIXTURES, 'btu.postgres.sql'), serverUrl: server.url });
        return {
          db,
          close: async () => {
            await db.drop();
            await server.close();
          },
        };
      } catch (e) {
        await server.close();
        throw e;
      }
    },
    denied: /permission denied for table/,
    wrongPassword: /password authentication failed for user/,
    noPassword: /the server asks for a password for user "pyrq_u_\w+" and none is set/,
    // PostgreSQL has no autocommit switch: a statement outside BEGIN is its own
    // transaction, which shows as now() (transaction start) = statement_timestamp().
    sessionProbe: {
      sql: "SELECT current_setting('transaction_isolation') AS iso, now() = statement_timestamp() AS ac",
      expected: { iso: 'read committed', ac: true },
    },
    jobsTable: `CREATE TABLE jobs (job_key VARCHAR(64) PRIMARY KEY, handler VARCHAR(200) NOT NULL, cron_expr VARCHAR(64), tz VARCHAR(64), active SMALLINT NOT NULL DEFAULT 1, params TEXT);
      ${JOBS_ROWS}`,
    // timestamptz is an instant: 04:04:05+01 is 03:04:05Z whatever the row's timezone.
    nativeJobsTable: `CREATE TABLE native_jobs (id BIGINT PRIMARY KEY, fn VARCHAR(200), run_at TIMESTAMPTZ, tz VARCHAR(64), on_off BOOLEAN, params JSONB, ttl BIGINT);
      INSERT INTO native_jobs VALUES (9007199254740993, 'app.t.f', '2099-01-02 04:04:05+01', 'Europe/Berlin', true, '{"n": 1}', 600)`,
    sleepSql: 'SELECT pg_sleep(1) AS s',
  },
];
