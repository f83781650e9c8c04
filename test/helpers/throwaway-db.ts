import { randomBytes } from 'node:crypto';

/**
 * A throwaway database for one test file, whichever server it lives on (`mysql.ts`,
 * `postgres.ts`). Tests never touch data they did not create: every database and user
 * has a unique name and `drop()` removes them.
 */
export interface ThrowawayDb {
  name: string;
  /** URL of this database with the admin account, e.g. mysql://root@127.0.0.1:3306/pyrq_t_1a2b3c4d. */
  url: string;
  /** Runs SQL (with bound values) as the admin; returns the rows of a SELECT. */
  exec(sql: string, values?: unknown[]): Promise<unknown>;
  /** Loads a .sql file (many statements). */
  load(path: string): Promise<void>;
  /** Creates a user with SELECT on the given tables of this database only (grants take effect at once). */
  createUser(tables: readonly string[]): Promise<ThrowawayUser>;
  /** Ends every session of this user on the server side; returns how many. */
  killSessions(user: string): Promise<number>;
  /** How many sessions of this user are running a statement now. */
  runningStatements(user: string): Promise<number>;
  drop(): Promise<void>;
}

export interface ThrowawayUser {
  name: string;
  password: string;
  url: string;
  grant(): Promise<void>;
  revoke(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
