/**
 * What the SQL source needs from a mode (`btu` or `query`): a cheap change token, a
 * whole read, and optionally a read of some ids. The source owns caching, staleness,
 * polling and backoff; a mode only knows its SQL and its row mapping.
 */
import type { ReadResult, RowEntry } from './row-entry.js';

export interface ModeReader {
  /** The snapshot origin of every row: the table, or "query". */
  readonly origin: string;
  /** Whether `readIds` reads just those ids (else the source falls back to a whole read). */
  readonly canReadIds: boolean;
  /** A value that changes whenever the desired state may have changed. */
  token(): Promise<string>;
  /** Every row, mapped, with the token as it was before the rows were read. */
  readAll(): Promise<ReadResult>;
  /** These ids only: an entry per id found, `undefined` for ids that no longer exist. */
  readIds(ids: readonly string[]): Promise<Map<string, RowEntry | undefined>>;
  /** Forget anything learnt about the schema (after an error, or before a full re-sync). */
  resetSchema(): void;
  /** What `status` shows beside the source (BTU: the generation detected and why). */
  detail?(): string | undefined;
}
