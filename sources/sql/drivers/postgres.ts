/**
 * The PostgreSQL driver: a small node-postgres (`pg`) pool, values always bound (`$1`),
 * identifiers quoted with `"`.
 *
 * Every read sees other sessions' latest commits: PostgreSQL has no autocommit switch to
 * get wrong. A statement sent outside BEGIN is its own transaction with its own snapshot,
 * and nothing here ever sends BEGIN, so even a server or role whose
 * `default_transaction_isolation` is REPEATABLE READ cannot pin an old snapshot. (No
 * session settings are sent, and no startup parameter but `application_name`, so pyrq
 * also works through PgBouncer, which refuses unknown startup parameters.)
 *
 * Values come back as the MySQL driver returns them, so the row mappers see the same
 * shapes: `timestamp`, `date` and `time` as their text (`2025-11-20 16:05:00.553019`:
 * exact to the microsecond, wall time), `timestamptz` as text with a `+HH:MM` offset (an
 * instant), `json`/`jsonb` as their text (parsed by pyrq, big integers exact), `bigint` and
 * `numeric` as text (pg's default). `boolean` stays a boolean.
 *
 * A pooled connection that died while idle (server restart, `pg_terminate_backend`)
 * fails its next statement, which is retried once on a fresh connection; a dead idle
 * connection is also reported by pg as a pool `error` event, which only drops it.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import {
  type PoolOptions,
  type ReadRows,
  retryOnceIfDead,
  type SqlDriver,
  type SqlPool,
  type SqlTarget,
  type SqlValue,
} from '../driver.js';

// pg (and its own dependencies, ~25 ms to load) is required when the first pool opens,
// not when the driver table is: every `pyrq apply` or daemon start reads that table, and
// most have no PostgreSQL source.
let lib: typeof pg | undefined;
const pgLib = (): typeof pg => (lib ??= createRequire(import.meta.url)('pg') as typeof pg);

const OID = {
  json: 114,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  timetz: 1266,
  jsonb: 3802,
} as const;
const AS_TEXT = new Set<number>([OID.json, OID.jsonb, OID.date, OID.time, OID.timetz, OID.timestamp]);
const asText = (v: string) => v;
/** `2026-12-01 09:00:00+01` -> `2026-12-01 09:00:00+01:00`: the form pyrq's timestamp parser reads. */
const timestamptz = (v: string) => v.replace(/([+-]\d{2})$/, '$1:00');

function typeParser(oid: number, format?: string): (v: string) => unknown {
  if (oid === OID.timestamptz) return timestamptz;
  if (AS_TEXT.has(oid)) return asText;
  const { types } = pgLib();
  return format === 'binary' ? types.getTypeParser(oid, 'binary') : types.getTypeParser(oid);
}

/**
 * SQLSTATEs and errors that mean "this connection is dead", not "the server is down" or
 * "the SQL is wrong": 57P01 admin_shutdown (the session was terminated), 57P02
 * crash_shutdown, and the client's own errors for a socket that closed under it.
 */
const DEAD_CONNECTION = new Set(['57P01', '57P02', 'ECONNRESET', 'EPIPE']);
const DEAD_MESSAGE = /^Connection terminated|Client has encountered a connection error and is not queryable/;

function isDeadConnection(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return DEAD_CONNECTION.has(err.code ?? '') || DEAD_MESSAGE.test(err.message ?? '');
}

export const postgresDriver: SqlDriver = {
  name: 'postgres',
  label: 'PostgreSQL',
  target: { schemes: ['postgres:', 'postgresql:'], socketParam: 'host', defaultPort: 5432, defaultUser: 'postgres' },
  quote: (id) => `"${id.replaceAll('"', '""')}"`,
  placeholder: (n) => `$${n}`,
  // pg_catalog rather than information_schema: information_schema.columns lists only the
  // columns of tables the user holds a privilege on, so a revoked grant would read as
  // "BTU is not installed"; pg_attribute is readable by everyone, and the SELECT that
  // follows reports the real "permission denied". to_regclass resolves each name through
  // search_path exactly as the unqualified table names in the SELECT do.
  columnsSql: (count) =>
    `SELECT c.relname AS t, a.attname AS c FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
WHERE c.oid IN (${Array.from({ length: count }, (_, i) => `to_regclass(quote_ident($${i + 1}))`).join(', ')}) AND a.attnum > 0 AND NOT a.attisdropped`,
  connect: (target, opts) => new PostgresPool(target, opts),
};

/**
 * pg's words for "the server wants a password and none was given" are about its own
 * SASL code; say what the operator can do instead (same SQLSTATE as a wrong password).
 */
function explainConnectError(e: unknown, user: string): unknown {
  if (!/client password must be a string/.test((e as Error)?.message ?? '')) return e;
  return Object.assign(
    new Error(
      `the server asks for a password for user "${user}" and none is set (put it in the URL, postgres.passwordFile, or the variable postgres.passwordEnv names: PYRQ_POSTGRES_PASSWORD by default)`,
    ),
    { code: '28P01' },
  );
}

let closingClientClass: typeof pg.Client | undefined;

/**
 * A pg client that closes its socket when connecting fails. pg leaves it open after some
 * failures (a password the server asks for and none is set), and pg-pool drops such a
 * client without ending it; the server then keeps the half-open session until its
 * authentication_timeout (a minute), and a one-shot `pyrq apply` could not exit before.
 * The class is made when the first pool opens (pg is loaded then).
 */
function closingClient(): typeof pg.Client {
  return (closingClientClass ??= class ClosingClient extends pgLib().Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const attempt = super.connect().catch((e: unknown) => {
        void this.end().catch(() => {});
        throw e;
      });
      if (!callback) return attempt;
      const cb = callback as (err: Error | null, c?: pg.Client) => void;
      attempt.then(
        (c) => cb(null, c),
        (e: Error) => cb(e),
      );
    }
  });
}
type ConnectCallback = Parameters<pg.Client['connect']>[0] & {};

class PostgresPool implements SqlPool {
  private readonly pool: pg.Pool;
  private readonly user: string;

  constructor(target: SqlTarget, opts: PoolOptions = {}) {
    this.user = target.user;
    this.pool = new (pgLib().Pool)({
      // A socket directory goes in `host`, as with libpq.
      host: target.socketPath ?? target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      max: opts.connectionLimit ?? 2,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      query_timeout: opts.queryTimeoutMs ?? 30_000,
      keepAlive: true,
      application_name: 'pyrq',
      types: { getTypeParser: typeParser as pg.CustomTypesConfig['getTypeParser'] },
      Client: closingClient(),
    });
    // An idle connection that dies is reported here and removed by the pool; without a
    // listener, pg would throw it as an uncaught error.
    this.pool.on('error', () => {});
  }

  async read<T = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<ReadRows<T>> {
    return retryOnceIfDead(() => this.attempt<T>(sql, params), isDeadConnection);
  }

  private async attempt<T>(sql: string, params: readonly SqlValue[]): Promise<ReadRows<T>> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw explainConnectError(e, this.user);
    });
    let failure: Error | undefined;
    try {
      const r = await client.query({ text: sql, values: [...params] });
      return { rows: r.rows as T[], columns: r.fields.map((f) => f.name) };
    } catch (e) {
      failure = e as Error;
      throw e;
    } finally {
      // A connection whose statement failed may be in any state: never give it back.
      client.release(failure ?? false);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
