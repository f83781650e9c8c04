/**
 * Runs the user's query (`mode: query`). The query has no cheap change token of its own,
 * so the token is a digest of the rows it returns: every poll runs the whole query
 * (keep it cheap, e.g. indexed and without big text columns you do not need).
 */
import { createHash } from 'node:crypto';
import type { NormalizeContext } from '../../src/model/normalize.js';
import type { SqlPool } from './driver.js';
import type { ModeReader } from './mode-reader.js';
import { checkQueryColumns, mapQueryRows, QUERY_ORIGIN } from './query-map.js';
import type { ReadResult, RowEntry } from './row-entry.js';

/** A stable text for one value: Buffers and big numbers keep their bytes/digits. */
function digestValue(v: unknown): string {
  if (Buffer.isBuffer(v)) return `b:${v.toString('base64')}`;
  if (typeof v === 'bigint') return `n:${v}`;
  return JSON.stringify(v) ?? 'u';
}

export class QueryReader implements ModeReader {
  readonly origin = QUERY_ORIGIN;
  readonly canReadIds = false;

  constructor(
    private readonly db: SqlPool,
    private readonly sql: string,
    private readonly ctx: NormalizeContext,
    /** The source (`mysql`, `postgres`), also the settings section of the query. */
    private readonly source: string,
    /** Namespaces the ids (several SQL sources: src/config/sql-entries.ts). */
    private readonly idPrefix = '',
  ) {}

  resetSchema(): void {}

  async token(): Promise<string> {
    const { rows, columns } = await this.db.read<Record<string, unknown>>(this.sql);
    return this.digest(rows, columns);
  }

  async readAll(): Promise<ReadResult> {
    const { rows, columns } = await this.db.read<Record<string, unknown>>(this.sql);
    checkQueryColumns(columns, this.source);
    const { entries, errors } = mapQueryRows(rows, this.ctx, this.source, this.idPrefix);
    return { entries, errors, token: this.digest(rows, columns) };
  }

  async readIds(): Promise<Map<string, RowEntry | undefined>> {
    throw new Error('query mode reads whole results only');
  }

  private digest(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
    const h = createHash('sha256');
    h.update(columns.join('\u0000'));
    for (const row of rows) for (const c of columns) h.update(`\u0001${digestValue(row[c])}`);
    return h.digest('hex');
  }
}
