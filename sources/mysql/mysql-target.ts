/**
 * Where the MySQL source connects: `mysql.url` (or `--mysql-url`, `PYRQ_MYSQL_URL`) or
 * `mysql.host`/`port`/`user`/`database`, resolved into one target. The password comes
 * from the URL when it has one, else from `mysql.passwordFile` / `mysql.passwordEnv`
 * (resolved by load-config into `config.password`). It is never part of `describe()`.
 *
 * URL form: `mysql://user[:password]@host[:port]/database[?socket=/run/mysqld/mysqld.sock]`.
 */
import type { MysqlConfig } from '../../src/config/config.js';
import { PyrqError, redactUrl } from '../../src/errors.js';

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** Unix socket path; when set, host and port are not used. */
  socketPath?: string;
}

export function resolveTarget(cfg: MysqlConfig): MysqlTarget {
  let fromUrl: Partial<MysqlTarget> = {};
  if (cfg.url !== undefined) {
    let u: URL;
    try {
      u = new URL(cfg.url);
    } catch {
      throw new PyrqError('CONFIG_INVALID', `mysql.url: ${JSON.stringify(redactUrl(cfg.url))} is not a URL; use mysql://user@host:3306/database`);
    }
    if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
      throw new PyrqError('CONFIG_INVALID', `mysql.url: scheme ${JSON.stringify(u.protocol)} is not supported; use mysql://user@host:3306/database`);
    }
    for (const key of u.searchParams.keys()) {
      if (key !== 'socket') throw new PyrqError('CONFIG_INVALID', `mysql.url: unknown parameter ${JSON.stringify(key)} (only "socket" is supported)`);
    }
    fromUrl = {
      host: u.hostname ? decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') : undefined,
      port: u.port ? Number(u.port) : undefined,
      user: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
      socketPath: u.searchParams.get('socket') ?? undefined,
    };
  }
  const database = fromUrl.database ?? cfg.database;
  if (!database) {
    throw new PyrqError('CONFIG_INVALID', 'mysql: no database given; name it in the URL (mysql://user@host:3306/erpnext_db) or set mysql.database');
  }
  const port = fromUrl.port ?? cfg.port ?? 3306;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PyrqError('CONFIG_INVALID', `mysql.port: ${port} is not a TCP port`);
  return {
    host: fromUrl.host ?? cfg.host ?? '127.0.0.1',
    port,
    user: fromUrl.user ?? cfg.user ?? 'root',
    database,
    password: fromUrl.password ?? cfg.password,
    socketPath: fromUrl.socketPath,
  };
}

/** `mysql://user@host:3306/db` (or `...@unix(/path)/db`): for logs, errors and status; never the password. */
export function describeTarget(t: MysqlTarget): string {
  const where = t.socketPath ? `unix(${t.socketPath})` : `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  return `mysql://${encodeURIComponent(t.user)}@${where}/${encodeURIComponent(t.database)}`;
}
