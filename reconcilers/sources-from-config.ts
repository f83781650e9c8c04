/**
 * Every kind of source pyrq has, in one table: when it takes part and how it is built
 * from the resolved settings. `pyrq apply`, `diff`, `validate` and the daemon all ask
 * this table; a new kind of source adds a row (and its settings in `settings.ts`).
 */
import type { Redis } from 'ioredis';
import type { Config } from '../src/config/config.js';
import { normalizeContext } from '../src/config/normalize-context.js';
import { PyrqError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import type { NormalizeContext } from '../src/model/normalize.js';
import type { Keys } from '../src/redis/keys.js';
import type { Source } from '../src/source.js';
import { FILE_SOURCE, FileSource } from '../sources/files/file-source.js';
import { SOCKET_SOURCE, SocketSource } from '../sources/socket/socket-source.js';
import { SQL_DRIVERS, type SqlDriverName } from '../sources/sql/drivers/index.js';
import { SqlSource } from '../sources/sql/sql-source.js';
import { resolveSqlTarget } from '../sources/sql/sql-target.js';

export interface SourceWiring {
  logger?: Logger;
  /**
   * The daemon's Redis: with it the socket source takes part (pushed schedules are kept
   * in Redis). One-shot commands pass none, so they leave pushed schedules alone.
   */
  socket?: { redis: Redis; keys: Keys };
}

/** One kind of source: its name (the owner recorded in the registry), when it is on, how it is built. */
export interface SourceFactory {
  readonly name: string;
  configured(config: Config, wiring: SourceWiring): boolean;
  /** One source, or several (`[[sql]]`: one per entry, each under its own name). */
  create(config: Config, ctx: NormalizeContext, wiring: SourceWiring): Source | Source[];
}

/** The name of the row that builds the `[[sql]]` entries (each source has the entry's own name). */
export const SQL_ENTRIES = 'sql';

export const SOURCE_FACTORIES: readonly SourceFactory[] = [
  {
    name: FILE_SOURCE,
    configured: (config) => config.files !== undefined,
    create: (config, ctx, wiring) =>
      new FileSource({
        dir: config.files!.dir,
        ctx,
        maxFileBytes: config.files!.maxFileBytes,
        followSymlinksOutside: config.files!.followSymlinksOutside,
        logger: wiring.logger,
      }),
  },
  // One row per SQL driver (sources/sql/drivers): a new driver is a file there and its settings.
  ...(Object.keys(SQL_DRIVERS) as SqlDriverName[]).map((n): SourceFactory => ({
    name: SQL_DRIVERS[n].name,
    configured: (config) => config[n] !== undefined,
    create: (config, ctx, wiring) => {
      const sql = config[n]!;
      resolveSqlTarget(SQL_DRIVERS[n], sql); // a bad URL is reported before anything else
      // BTU rows carry no site: every one runs on the configured Frappe site.
      const site = sql.site ?? config.frappe.site;
      if (sql.mode === 'btu' && site === undefined) {
        throw new PyrqError(
          'CONFIG_INVALID',
          `${n}: BTU mode needs the Frappe site its schedules run on: pass --frappe-site SITE (or set PYRQ_FRAPPE_SITE, frappe.site or ${n}.site)`,
        );
      }
      return new SqlSource({
        driver: SQL_DRIVERS[n],
        config: sql,
        ctx,
        site,
        btu: { ...config.btu, benchPath: config.frappe.benchPath },
        logger: wiring.logger,
      });
    },
  })),
  // [[sql]]: one source per entry, with its own name, site, bench id and (several sources) id prefix.
  {
    name: SQL_ENTRIES,
    configured: (config) => (config.sql?.length ?? 0) > 0,
    create: (config, ctx, wiring) =>
      config.sql!.map((sql, i) => {
        const label = `sql[${i}] (${JSON.stringify(sql.name)})`;
        const driver = SQL_DRIVERS[sql.driver];
        resolveSqlTarget({ name: label, target: driver.target }, sql);
        const site = sql.site ?? config.frappe.site;
        if (sql.mode === 'btu' && site === undefined) {
          throw new PyrqError(
            'CONFIG_INVALID',
            `${label}: BTU mode needs the Frappe site its schedules run on: set frappe.site in the entry (or the top-level frappe.site)`,
          );
        }
        return new SqlSource({
          driver,
          config: sql,
          // The entry's site and bench id for its frappe-target schedules (the queue is `<benchId>:<queue>`).
          ctx: { ...ctx, frappeSite: site, frappeBenchId: sql.benchId ?? ctx.frappeBenchId },
          site,
          btu: { ...config.btu, benchPath: config.frappe.benchPath },
          logger: wiring.logger,
          name: sql.name,
          idPrefix: sql.idPrefix,
          label,
        });
      }),
  },
  {
    name: SOCKET_SOURCE,
    configured: (_config, wiring) => wiring.socket !== undefined,
    create: (_config, ctx, wiring) => new SocketSource(wiring.socket!.redis, wiring.socket!.keys, ctx),
  },
];

/**
 * Builds the sources the settings configure, in table order; `only` narrows them to
 * these names. Throws NO_SOURCES when there are none.
 */
export function sourcesFromConfig(config: Config, wiring: SourceWiring = {}, only?: readonly string[]): Source[] {
  const ctx = normalizeContext(config);
  const sources = SOURCE_FACTORIES.filter(
    (f) => (only === undefined || only.includes(f.name)) && f.configured(config, wiring),
  ).flatMap((f) => f.create(config, ctx, wiring));
  if (sources.length === 0) {
    throw new PyrqError(
      'NO_SOURCES',
      'no source is configured: pass --dir PATH (or --mysql-url URL, --postgres-url URL), or set files.dir / mysql.url / postgres.url / [[sql]] in the config file',
    );
  }
  return sources;
}
