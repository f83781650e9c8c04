/** Builds the configured sources (adapters) from the resolved settings. */
import type { Config } from '../src/config/config.js';
import { normalizeContext } from '../src/config/normalize-context.js';
import { PyrqError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import type { Source } from '../src/source.js';
import { FileSource } from '../sources/files/file-source.js';
import { SQL_DRIVERS, type SqlDriverName } from '../sources/sql/drivers/index.js';
import { SqlSource } from '../sources/sql/sql-source.js';

export interface SourceWiring {
  logger?: Logger;
}

export function sourcesFromConfig(config: Config, wiring: SourceWiring = {}): Source[] {
  const ctx = normalizeContext(config);
  const sources: Source[] = [];
  if (config.files) sources.push(new FileSource({ dir: config.files.dir, ctx, maxFileBytes: config.files.maxFileBytes, logger: wiring.logger }));
  for (const name of Object.keys(SQL_DRIVERS) as SqlDriverName[]) {
    const driver = SQL_DRIVERS[name];
    const sql = config[name];
    if (!sql) continue;
    // BTU rows carry no site: every one runs on the configured Frappe site.
    const site = sql.site ?? config.frappe.site;
    if (sql.mode === 'btu' && site === undefined) {
      throw new PyrqError('CONFIG_INVALID', `${driver.name}: BTU mode needs the Frappe site its schedules run on: set ${driver.name}.site (or frappe.site, or PYRQ_FRAPPE_SITE)`);
    }
    sources.push(new SqlSource({ driver, config: sql, ctx, site, logger: wiring.logger }));
  }
  if (sources.length === 0) {
    throw new PyrqError('NO_SOURCES', 'no source is configured: pass --dir PATH (or --mysql-url URL, --postgres-url URL), or set files.dir / mysql.url / postgres.url in the config file');
  }
  return sources;
}
