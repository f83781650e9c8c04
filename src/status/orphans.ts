/**
 * Orphans: registry entries whose source takes part in no run of this configuration
 * (say the BTU rows after a restart without --mysql-url). They keep firing, on purpose:
 * a misconfigured restart must not drop a source's schedules; `pyrq prune --source NAME`
 * removes them. Pure.
 */
import type { ObservedEntry } from '../plan/types.js';

/** Always counted as configured: pushed schedules belong to the daemon's socket, whatever the command's flags. */
const ALWAYS_CONFIGURED = ['socket'];

export interface OrphanSource {
  source: string;
  /** How many registry entries it owns. */
  schedules: number;
}

/** The sources owning entries in `index` that are not in `configured`, with their counts, by name. */
export function orphansOf(
  index: ReadonlyMap<string, Pick<ObservedEntry, 'source'>>,
  configured: readonly string[],
): OrphanSource[] {
  const known = new Set([...configured, ...ALWAYS_CONFIGURED]);
  const counts = new Map<string, number>();
  for (const e of index.values()) if (!known.has(e.source)) counts.set(e.source, (counts.get(e.source) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([source, schedules]) => ({ source, schedules }));
}

/** One line per orphaned source, saying it keeps firing and how to remove it. */
export function orphanLines(orphans: readonly OrphanSource[]): string[] {
  return orphans.map(
    (o) =>
      `source "${o.source}" is not configured in this run but owns ${o.schedules} schedule(s): they keep firing; "pyrq prune --source ${o.source}" removes them`,
  );
}
