/**
 * Where a SQL source connects: `<section>.url` (or `--mysql-url`/`--postgres-url`,
 * `PYRQ_MYSQL_URL`/`PYRQ_POSTGRES_URL`) or `<section>.host`/`port`/`user`/`database`,
 * resolved into one target. The password comes from the URL when it has one, else from
 * `passwordFile` / `passwordEnv` (resolved by load-config into `config.password`). It is
 * never part of `describeSqlTarget`.
 *
 * URL forms (the driver says which schemes, which socket parameter and which defaults):
 * - `mysql://user[:password]@host[:port]/database[?socket=/run/mysqld/mysqld.sock]`
 * - `postgres://user[:password]@host[:port]/database[?host=/run/postgresql]`
 */
import type { SqlSourceConfig } from '../../src/config/config.js';
import { PyrqError, redactUrl } from '../../src/errors.js';
import type { SqlDriver, SqlTarget } from './driver.js';

type Spec = Pick<SqlDriver, 'name' | 'target'>;

const example = (d: Spec, database = 'database') =>
  `${d.target.schemes[0]}//user@host:${d.target.defaultPort}/${database}`;

export function resolveSqlTarget(d: Spec, cfg: SqlSourceConfig): SqlTarget {
  const { name } = d;
  const { socketParam } = d.target;
  let fromUrl: Partial<SqlTarget> = {};
  if (cfg.url !== undefined) {
    let u: URL;
    try {
      u = new URL(cfg.url);
    } catch {
      throw new PyrqError(
        'CONFIG_INVALID',
        `${name}.url: ${JSON.stringify(redactUrl(cfg.url))} is not a URL; use ${example(d)}`,
      );
    }
    if (!d.target.schemes.includes(u.protocol)) {
      throw new PyrqError(
        'CONFIG_INVALID',
        `${name}.url: scheme ${JSON.stringify(u.protocol)} is not supported; use ${example(d)}`,
      );
    }
    for (const key of u.searchParams.keys()) {
      if (key !== socketParam)
        throw new PyrqError(
          'CONFIG_INVALID',
          `${name}.url: unknown parameter ${JSON.stringify(key)} (only "${socketParam}" is supported)`,
        );
    }
    fromUrl = {
      host: u.hostname ? decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') : undefined,
      port: u.port ? Number(u.port) : undefined,
      user: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
      socketPath: u.searchParams.get(socketParam) ?? undefined,
    };
  }
  const database = fromUrl.database ?? cfg.database;
  if (!database) {
    throw new PyrqError(
      'CONFIG_INVALID',
      `${name}: no database given; name it in the URL (${example(d, 'erpnext_db')}) or set ${name}.database`,
    );
  }
  const port = fromUrl.port ?? cfg.port ?? d.target.defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new PyrqError('CONFIG_INVALID', `${name}.port: ${port} is not a TCP port`);
  return {
    host: fromUrl.host ?? cfg.host ?? '127.0.0.1',
    port,
    user: fromUrl.user ?? cfg.user ?? d.target.defaultUser,
    database,
    password: fromUrl.password ?? cfg.password,
    socketPath: fromUrl.socketPath,
  };
}

/** `mysql://user@host:3306/db` (or `...@unix(/path)/db`): for logs, errors and status; never the password. */
export function describeSqlTarget(d: Spec, t: SqlTarget): string {
  const where = t.socketPath ? `unix(${t.socketPath})` : `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  return `${d.target.schemes[0]}//${encodeURIComponent(t.user)}@${where}/${encodeURIComponent(t.database)}`;
}
