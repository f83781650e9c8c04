/**
 * The rule both SQL modes share for turning one row into a `RowEntry`: the row's
 * fields go through `normalizeSchedule` (so validation is identical to the file source),
 * and a row that cannot be mapped is held or dropped depending on whether it is enabled.
 *
 * Why a *disabled* row that cannot be mapped is dropped instead of held: holding keeps
 * the applied entry as it is, and that entry may still be enabled. A person who
 * disabled a schedule (maybe because it misbehaves) must never see it keep firing just
 * because the row also has a typo. Dropping it deletes the entry, which cannot fire.
 */
import { type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { SourceError } from '../../src/source.js';
import type { RowEntry } from './row-entry.js';

/** A problem found before normalisation (a column that does not parse), by column. */
export interface ColumnIssue {
  column: string;
  message: string;
}

export interface RowContext {
  /** The source the row belongs to (`mysql`, `postgres`). */
  source: string;
  id: string;
  origin: string;
  locator?: string;
  /** Whether the row asks to be enabled; decides held (true) or dropped (false) on failure. */
  enabled: boolean;
  /** Names the column behind a schedule field in messages (`cron` -> `cron_string`). */
  columnOf?: (field: string) => string;
}

export function rowToEntry(
  raw: Record<string, unknown>,
  pre: readonly ColumnIssue[],
  row: RowContext,
  ctx: NormalizeContext,
): RowEntry {
  const fail = (issues: readonly ColumnIssue[]): RowEntry => {
    const errors: SourceError[] = issues.map((i) => ({
      source: row.source,
      origin: row.origin,
      locator: row.locator,
      id: row.id,
      path: i.column || undefined,
      message: row.enabled
        ? i.message
        : `${i.message} (the row is disabled, so its schedule is removed rather than kept)`,
    }));
    return { id: row.id, errors, held: row.enabled };
  };
  if (pre.length > 0) return fail(pre);
  const r = normalizeSchedule(raw, ctx);
  if (!r.ok)
    return fail(
      r.issues.map((i) => ({ column: i.path && row.columnOf ? row.columnOf(i.path) : i.path, message: i.message })),
    );
  return {
    id: row.id,
    schedule: { spec: r.schedule, hash: specHash(r.schedule), origin: row.origin },
    errors: [],
    held: false,
  };
}
