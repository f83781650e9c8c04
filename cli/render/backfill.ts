/** `pyrq backfill`'s plan as text: the range, then each occurrence in UTC and local time. Pure. */
import type { BackfillView } from '../../src/dispatch/backfill.js';

export function renderBackfillPlan(v: BackfillView): string[] {
  const n = v.occurrences.length;
  const lines = [
    `${v.id}: ${n} occurrence(s) from ${v.from} to ${v.to}${v.clampedTo ? ` (after ${v.clampedTo}: left to the dispatcher)` : ''}, overlap ${v.overlap}, timezone ${v.timezone}`,
  ];
  for (const o of v.occurrences)
    lines.push(`  ${o.occurrence}  ${o.local}  ${o.jobId}${o.exists ? '  (exists: not enqueued again)' : ''}`);
  return lines;
}
