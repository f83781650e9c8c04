/**
 * What one row (one id) contributes to a SQL source's snapshot, and how a set of
 * them becomes a `SourceSnapshot`. Entries are kept per id so that reloading one id
 * (a BTU socket message) replaces exactly that id's schedule, errors and hold.
 */
import type { DesiredSchedule, SourceError, SourceSnapshot } from '../../src/source.js';

/**
 * One id's contribution.
 * - `schedule` set: the row maps to this desired schedule.
 * - `held`: the row exists and should exist in the registry, but cannot be mapped now
 *   (bad cron, bad arguments...): its applied entry is kept exactly as it is.
 * - neither: the id is desired-absent (its errors, if any, are reported).
 */
export interface RowEntry {
  id: string;
  schedule?: DesiredSchedule;
  errors: SourceError[];
  held: boolean;
  /** What was read differently from the text, for `status` (BTU: a cron field dropped as BTU drops it). */
  notes?: string[];
}

/** A whole read: entries by id, errors that belong to no id, and the change token seen before the read. */
export interface ReadResult {
  entries: Map<string, RowEntry>;
  errors: SourceError[];
  token: string;
}

/** The snapshot of source `source` (`mysql`, `postgres`) from a read. */
export function toSnapshot(
  source: string,
  read: Pick<ReadResult, 'entries' | 'errors'>,
  stale = false,
  extraErrors: readonly SourceError[] = [],
): SourceSnapshot {
  const snap: SourceSnapshot = { source, schedules: [], errors: [...read.errors], stale, heldOrigins: [], heldIds: [] };
  const ids = [...read.entries.keys()].sort();
  for (const id of ids) {
    const e = read.entries.get(id)!;
    if (e.schedule) snap.schedules.push(e.schedule);
    if (e.held) snap.heldIds.push(id);
    snap.errors.push(...e.errors);
  }
  snap.errors.push(...extraErrors);
  return snap;
}
