import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createConnection, type Connection } from 'mysql2/promise';
import { type ThrowawayDb as BaseDb, type ThrowawayUser, uniqueName } from './throwaway-db.js';

export { uniqueName };

/**
 * Throwaway MySQL/MariaDB databases and users for tests. Tests never touch data they did
 * not create: each database and user has a unique name and is dropped by `drop()`.
 * The server is the machine's MariaDB (root, empty password) unless PYRQ_TEST_MYSQL_URL
 * says otherwise. If it cannot be reached, this throws: a test that needs MariaDB fails
 * loudly, it never skips.
 */
export const ADMIN_URL = process.env.PYRQ_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

const admin = new URL(ADMIN_URL);
export const MYSQL_HOST = admin.hostname;
export const MYSQL_PORT = Number(admin.port || 3306);

export type { ThrowawayUser };

/** A throwaway MySQL database, with its admin connection. */
export interface ThrowawayDb extends BaseDb {
  /** An admin connection using this database (multiple statements allowed). */
  admin: Connection;
}

async function connectAdmin(database?: string): Promise<Connection> {
  try {
    return await createConnection({
      host: MYSQL_HOST,
      port: MYSQL_PORT,
      user: decodeURIComponent(admin.username || 'root'),
      password: decodeURIComponent(admin.password),
      database,
      multipleStatements: true,
      charset: 'utf8mb4',
    });
  } catch (e) {
    throw new Error(
      `cannot reach MariaDB at ${MYSQL_HOST}:${MYSQL_PORT} as ${admin.username || 'root'} (${(e as Error).message}); start it (start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd) or set PYRQ_TEST_MYSQL_URL`,
      { cause: e },
    );
  }
}

export async function createThrowawayDb(opts: { sqlFile?: string } = {}): Promise<ThrowawayDb> {
  const name = uniqueName('pyrq_t');
  const bootstrap = await connectAdmin();
  await bootstrap.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await bootstrap.end();
  const conn = await connectAdmin(name);
  const users: string[] = [];
  const db: ThrowawayDb = {
    name,
    url: `mysql://${admin.username || 'root'}${admin.password ? `:${admin.password}` : ''}@${MYSQL_HOST}:${MYSQL_PORT}/${name}`,
    admin: conn,
    exec: async (sql, values) => (await conn.query(sql, values))[0],
    load: async (path) => {
      await conn.query(await readFile(path, 'utf8'));
    },
    createUser: async (tables) => {
      const user = uniqueName('pyrq_u');
      const password = `pw-${randomBytes(9).toString('hex')}`;
      users.push(user);
      await conn.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
      const grant = async () => {
        for (const t of tables) await conn.query(`GRANT SELECT ON \`${name}\`.\`${t}\` TO ?@'%'`, [user]);
      };
      const revoke = async () => {
        for (const t of tables) await conn.query(`REVOKE SELECT ON \`${name}\`.\`${t}\` FROM ?@'%'`, [user]);
      };
      await grant();
      return {
        name: user,
        password,
        url: `mysql://${user}:${password}@${MYSQL_HOST}:${MYSQL_PORT}/${name}`,
        grant,
        revoke,
      };
    },
    killSessions: async (user) => {
      const [threads] = (await conn.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [
        user,
      ])) as unknown as [{ id: number }[]];
      for (const t of threads) await conn.query(`KILL CONNECTION ${Number(t.id)}`);
      return threads.length;
    },
    runningStatements: async (user) => {
      const [rows] = (await conn.query(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND IN ('Query', 'Execute')",
        [user],
      )) as unknown as [{ n: number }[]];
      return Number(rows[0]?.n ?? 0);
    },
    drop: async () => {
      for (const u of users) await conn.query(`DROP USER IF EXISTS ?@'%'`, [u]);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
  if (opts.sqlFile) await db.load(opts.sqlFile);
  return db;
}
