/**
 * `[[sql]]`: any number of SQL sources, each with its own name, driver, credentials,
 * poll, Frappe site and bench id (one per site of a Frappe bench: every site has its own
 * database and BTU tables, and BTU's ids, `TS-000001`, repeat across sites).
 *
 * Ids: a source's rows keep their own ids while the config has one SQL source (a
 * one-site setup keeps today's ids, nothing is re-created); with more than one SQL
 * source in all (`[mysql]`, `[postgres]` and the entries), each entry's ids are
 * namespaced `<name>.<id>` (`site1.TS-000001`), so equal ids on two sites never
 * conflict. The separator is `.`, not `/`: a schedule id is `[A-Za-z0-9_.-]` (it is part
 * of Redis keys, RQ job ids and URLs), and a name may not contain `.`, so the prefix ends
 * at the first `.` and no two sources can make the same id. `[mysql]`/`[postgres]` never
 * namespace (their ids stay as they are).
 *
 * Pure apart from reading a `passwordFile` through the function it is given.
 */
import { PyrqError } from '../errors.js';
import type { NamedSqlSourceConfig } from './config.js';
import type { ConfigFile } from './config-schema.js';

/** A source name: the registry owner, the id prefix and a metrics label. */
export const SQL_SOURCE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Names other sources use (files, the socket), never an entry's. */
const RESERVED = ['files', 'socket'];

const SCHEME_DRIVER: Record<string, 'mysql' | 'postgres'> = {
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
};

export interface SqlEntryContext {
  /** The config file, for messages. */
  where: string;
  env: NodeJS.ProcessEnv;
  /** Names of the `[mysql]`/`[postgres]` sections configured (their sources' names). */
  legacy: readonly string[];
  /** The default poll interval (ms) of a SQL source. */
  defaultPollMs: number;
  parseDuration(v: string | number, where: string): number;
  /** Reads a password file named in the config file (relative to it). */
  readSecret(path: string, where: string): string;
}

/** The default variable holding an entry's password: `PYRQ_SQL_<NAME>_PASSWORD` (`-` as `_`). */
export function entryPasswordEnv(name: string): string {
  return `PYRQ_SQL_${name.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

/** The driver of an entry: `driver`, else its URL's scheme. Undefined when neither says. */
function driverOf(e: NonNullable<ConfigFile['sql']>[number]): 'mysql' | 'postgres' | undefined {
  if (e.driver !== undefined) return e.driver;
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(e.url ?? '')?.[1]?.toLowerCase();
  return scheme === undefined ? undefined : SCHEME_DRIVER[scheme];
}

/** Resolves the `[[sql]]` entries; throws CONFIG_INVALID naming the entry and field. */
export function sqlEntries(entries: ConfigFile['sql'], c: SqlEntryContext): NamedSqlSourceConfig[] | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const fail = (i: number, name: string | undefined, msg: string): never => {
    throw new PyrqError('CONFIG_INVALID', `${c.where}: sql[${i}]${name ? ` (${JSON.stringify(name)})` : ''}: ${msg}`);
  };
  const namespaced = c.legacy.length + entries.length > 1;
  const seen = new Set<string>();
  return entries.map((e, i) => {
    if (!SQL_SOURCE_NAME_RE.test(e.name))
      fail(i, undefined, `name: ${JSON.stringify(e.name)} is not a source name (1-64 letters, digits, _ and -)`);
    if (RESERVED.includes(e.name) || c.legacy.includes(e.name) || seen.has(e.name))
      fail(
        i,
        e.name,
        `name: another source is already called ${JSON.stringify(e.name)}; each source needs its own name`,
      );
    seen.add(e.name);
    if (e.url === undefined && e.host === undefined) fail(i, e.name, 'url: required (or host, with driver)');
    const driver = driverOf(e);
    if (driver === undefined)
      fail(
        i,
        e.name,
        e.url === undefined
          ? 'driver: required without a url ("mysql" or "postgres")'
          : 'url: the scheme is none of mysql://, mariadb://, postgres://, postgresql:// (or set driver)',
      );
    const mode = e.mode ?? 'btu';
    if (mode === 'query' && !e.query) fail(i, e.name, 'query: required when mode is "query"');
    const password = e.passwordFile
      ? c.readSecret(e.passwordFile, `${c.where}: sql[${i}].passwordFile`)
      : c.env[e.passwordEnv ?? entryPasswordEnv(e.name)];
    return {
      name: e.name,
      driver: driver!,
      url: e.url,
      host: e.host,
      port: e.port,
      user: e.user,
      database: e.database,
      password,
      mode,
      query: e.query,
      pollIntervalMs:
        e.pollInterval === undefined
          ? c.defaultPollMs
          : c.parseDuration(e.pollInterval, `${c.where}: sql[${i}].pollInterval`),
      site: e.frappe?.site,
      benchId: e.frappe?.benchId,
      idPrefix: namespaced ? `${e.name}.` : '',
    };
  });
}
