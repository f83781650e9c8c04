/**
 * The SQL drivers pyrq knows, by name. Adding a database is a driver module and a row
 * here (plus its settings section beside `mysql` in `src/config/`): the source, its
 * poll, staleness, backoff and both modes are shared.
 */
import type { SqlDriver } from '../driver.js';
import { mysqlDriver } from './mysql.js';
import { postgresDriver } from './postgres.js';

export const SQL_DRIVERS = {
  mysql: mysqlDriver,
  postgres: postgresDriver,
} as const satisfies Record<string, SqlDriver>;

/** A driver name, which is also its source name and its section in the settings. */
export type SqlDriverName = keyof typeof SQL_DRIVERS;
