import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { type ThrowawayDb, uniqueName } from './throwaway-db.js';

/**
 * Throwaway PostgreSQL databases and roles for tests, the counterpart of `mysql.ts`. Tests
 * never touch data they did not create: each database and role has a unique name and is
 * dropped by `drop()`. The server is the machine's PostgreSQL (127.0.0.1:5432, user
 * postgres, trust authentication) unless PYRQ_TEST_POSTGRES_URL says otherwise. If it
 * cannot be reached, this throws: a test that needs PostgreSQL fails loudly, never skips.
 */
export const PG_ADMIN_URL = process.env.PYRQ_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

const admin = new URL(PG_ADMIN_URL);
export const PG_HOST = admin.hostname;
export const PG_PORT = Number(admin.port || 5432);
const ADMIN_USER = decodeURIComponent(admin.username || 'postgres');

/**
 * A throwaway PostgreSQL database. `exec` takes the tests' statements, which they share
 * with MySQL, in MySQL's spelling and translates them (see `toPostgresSql`).
 */
export type PgThrowawayDb = ThrowawayDb;

/**
 * MySQL spelling -> PostgreSQL, outside single-quoted strings: backquoted identifiers
 * become double-quoted, `NOW(6)` the current time with microseconds, and `?`
 * placeholders `$1`, `$2`...
 */
export function toPostgresSql(sql: string): string {
  let n = 0;
  return sql
    .split(/('(?:[^']|'')*')/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replaceAll('`', '"')
            .replace(/\bNOW\(6\)/gi, 'clock_timestamp()')
            .replace(/\?/g, () => `$${++n}`),
    )
    .join('');
}

const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;

async function connectAdmin(database = 'postgres', url = PG_ADMIN_URL): Promise<pg.Client> {
  const u = new URL(url);
  const client = new pg.Client({
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password) || undefined,
    database,
  });
  client.on('error', () => {}); // a terminated admin session must not crash the test process
  try {
    await client.connect();
  } catch (e) {
    throw new Error(
      `cannot reach PostgreSQL at ${u.hostname}:${u.port || 5432} as ${u.username || 'postgres'} (${(e as Error).message}); start it or set PYRQ_TEST_POSTGRES_URL`,
      { cause: e },
    );
  }
  return client;
}

/** A throwaway database on the shared server, or on `serverUrl` (a private server, see private-postgres.ts). */
export async function createPgThrowawayDb(opts: { sqlFile?: string; serverUrl?: string } = {}): Promise<PgThrowawayDb> {
  const serverUrl = opts.serverUrl ?? PG_ADMIN_URL;
  const server = new URL(serverUrl);
  const host = server.hostname;
  const port = Number(server.port || 5432);
  const adminUser = decodeURIComponent(server.username || ADMIN_USER);
  const name = uniqueName('pyrq_t');
  const bootstrap = await connectAdmin('postgres', serverUrl);
  await bootstrap.query(`CREATE DATABASE ${quote(name)} ENCODING 'UTF8' TEMPLATE template0`);
  const conn = await connectAdmin(name, serverUrl);
  const users: string[] = [];
  const db: PgThrowawayDb = {
    name,
    url: `postgres://${encodeURIComponent(adminUser)}${server.password ? `:${server.password}` : ''}@${host}:${port}/${name}`,
    exec: async (sql, values) => (await conn.query(toPostgresSql(sql), values)).rows,
    load: async (path) => {
      await conn.query(await readFile(path, 'utf8'));
    },
    createUser: async (tables) => {
      const user = uniqueName('pyrq_u');
      const password = `pw-${randomBytes(9).toString('hex')}`;
      users.push(user);
      // A password literal cannot be a bound value in DDL; it is hex, so quoting is safe.
      await conn.query(`CREATE ROLE ${quote(user)} LOGIN PASSWORD '${password}'`);
      const grant = async () => {
        for (const t of tables) await conn.query(`GRANT SELECT ON ${quote(t)} TO ${quote(user)}`);
      };
      const revoke = async () => {
        for (const t of tables) await conn.query(`REVOKE SELECT ON ${quote(t)} FROM ${quote(user)}`);
      };
      await grant();
      return { name: user, password, url: `postgres://${user}:${password}@${host}:${port}/${name}`, grant, revoke };
    },
    killSessions: async (user) => {
      const r = await conn.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE usename = $1 AND datname = $2',
        [user, name],
      );
      return r.rows.filter((x) => x.ok).length;
    },
    runningStatements: async (user) => {
      const r = await conn.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1 AND datname = $2 AND state = 'active'",
        [user, name],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    drop: async () => {
      await conn.end();
      await bootstrap.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
      for (const u of users) await bootstrap.query(`DROP ROLE IF EXISTS ${quote(u)}`);
      await bootstrap.end();
    },
  };
  if (opts.sqlFile) await db.load(opts.sqlFile);
  return db;
}
