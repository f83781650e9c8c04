/**
 * The modes of a SQL source (`<section>.mode`), by name: each builds the `ModeReader`
 * that knows its SQL and its row mapping. A new mode is a reader module and a row here.
 */
import type { Config, SqlSourceConfig } from '../../src/config/config.js';
import type { Logger } from '../../src/log.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import { BtuReader } from '../btu/btu-reader.js';
import type { SqlDialect, SqlPool } from './driver.js';
import type { ModeReader } from './mode-reader.js';
import { QueryReader } from './query-reader.js';

export interface ModeContext {
  db: SqlPool;
  dialect: SqlDialect;
  config: SqlSourceConfig;
  ctx: NormalizeContext;
  /** The source's name (`mysql`, `postgres`), also its settings section. */
  source: string;
  /** The Frappe site BTU schedules run on. */
  site?: string;
  /** How BTU rows run and their overlap policy (`btu.runner`, `btu.overlap`); absent: direct, the context's overlap. */
  btu?: Pick<Config['btu'], 'runner' | 'overlap'> &
    Partial<Pick<Config['btu'], 'generation' | 'user'>> & { benchPath?: string };
  logger?: Logger;
  /** Put before every row's id (`site1.`) when the config has several SQL sources; absent: the row's id. */
  idPrefix?: string;
}

export const SQL_MODES: Record<SqlSourceConfig['mode'], (m: ModeContext) => ModeReader> = {
  btu: (m) => {
    // The settings layer refuses BTU mode without a site (sources-from-config); this guards direct use.
    if (!m.site) throw new Error(`${m.source} source: btu mode needs a site`);
    return new BtuReader(m.db, m.dialect, {
      ctx: m.ctx,
      site: m.site,
      source: m.source,
      runner: m.btu?.runner,
      overlap: m.btu?.overlap,
      generationSetting: m.btu?.generation,
      user: m.btu?.user,
      benchPath: m.btu?.benchPath,
      logger: m.logger,
      idPrefix: m.idPrefix,
    });
  },
  query: (m) => new QueryReader(m.db, m.config.query ?? '', m.ctx, m.source, m.idPrefix),
};
