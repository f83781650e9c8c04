import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { toPostgresSql } from './postgres.js';

/**
 * One open transaction on a connection of its own, as a Frappe request holds one: BTU's
 * app writes the row, sends its command, and commits only when the request ends.
 * Statements in MySQL's spelling (translated for PostgreSQL, as the db helpers do).
 */
export interface AppTransaction {
  exec(sql: string, values?: unknown[]): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export async function beginAppTransaction(driver: 'mysql' | 'postgres', url: string): Promise<AppTransaction> {
  if (driver === 'mysql') {
    const c = await createConnection(url);
    await c.query('START TRANSACTION');
    return {
      exec: async (sql, values) => void (await c.query(sql, values)),
      commit: async () => {
        await c.query('COMMIT');
        await c.end();
      },
      rollback: async () => {
        await c.query('ROLLBACK');
        await c.end();
      },
    };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  return {
    exec: async (sql, values) => void (await c.query(toPostgresSql(sql), values)),
    commit: async () => {
      await c.query('COMMIT');
      await c.end();
    },
    rollback: async () => {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}
