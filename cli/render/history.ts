/** `pyrq history` as text: one row per run, newest first. Pure. */
import type { HistoryRow } from '../../src/dispatch/history.js';
import { printable } from '../../src/printable.js';
import { formatLateness, renderTable } from './table.js';

export function renderHistory(id: string, rows: readonly HistoryRow[]): string[] {
  if (rows.length === 0) return [`No runs recorded for "${printable(id)}" yet.`];
  return renderTable(
    ['OCCURRENCE', 'HANDLED', 'LATENESS', 'TRIGGER', 'OUTCOME', 'JOB', 'STATUS', 'RESULT'],
    rows.map((r) => [
      r.until ? `${r.occurrence} .. ${r.until}${r.count !== undefined ? ` (${r.count})` : ''}` : r.occurrence,
      r.at,
      formatLateness(r.latenessMs),
      r.trigger,
      r.replacedJobId ? `${r.outcome} (replaced ${r.replacedJobId})` : r.outcome,
      r.jobId ?? (r.previousJobId ? `(running: ${r.previousJobId})` : '-'),
      r.jobStatus ?? '-',
      r.result
        ? `${r.result}${r.durationMs != null ? ` ${formatLateness(r.durationMs)}` : ''}${r.error ? `: ${printable(r.error)}` : ''}`
        : '-',
    ]),
  );
}
