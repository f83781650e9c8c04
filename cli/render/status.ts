/**
 * `pyrq status` as text: who leads, each source's status (as the daemon, or the last
 * `pyrq apply`, recorded it), the last reconcile, and a table of the schedules. Pure.
 */
import type { StatusReport } from '../../src/status/registry-status.js';
import type { StatusRow } from '../../src/status/status-view.js';
import { formatLateness, relativeAgo, renderTable } from './table.js';

/** Error lines shown per source; `--json` has them all. */
const ERRORS_SHOWN = 10;

export function renderStatusReport(r: StatusReport, now: number): string[] {
  const out: string[] = [];
  out.push(r.via === 'daemon' ? `Daemon: pid ${String(r.daemon?.pid)}, ${r.daemon?.leader ? 'leader' : 'standby'}; leader: ${r.leader ?? 'none'}` : `No daemon answered; from Redis (source health as last recorded). Leader: ${r.leader ?? 'none'}`);
  for (const s of r.sources) {
    out.push(`Source ${s.source}: ${s.stale ? 'STALE' : 'ok'}, ${s.schedules} schedules${s.held ? `, ${s.held} held` : ''}${s.errors.length ? `, ${s.errors.length} error(s)` : ''} (as of ${new Date(s.at).toISOString()}${s.by ? `, recorded by ${s.by}` : ''})`);
    for (const e of s.errors.slice(0, ERRORS_SHOWN)) out.push(`  ! ${e}`);
  }
  if (r.lastReconcile) out.push(`Last reconcile: ${JSON.stringify(r.lastReconcile)}`);
  for (const c of r.clocks ?? []) {
    out.push(`Clock of daemon ${c.daemon} (pid ${c.pid}): ${c.offsetMs > 0 ? `${c.offsetMs} ms behind` : c.offsetMs < 0 ? `${-c.offsetMs} ms ahead of` : 'same as'} Redis (measured ${relativeAgo(now - Date.parse(c.measuredAt))})${c.warn ? ': WARNING beyond daemon.clockOffsetWarn; fires go by Redis\'s clock, but fix this machine\'s clock' : ''}`);
  }
  out.push('', ...renderSchedules(r.schedules, now));
  return out;
}

/** The schedules as a table, one row each. */
export function renderSchedules(rows: readonly StatusRow[], now: number): string[] {
  if (rows.length === 0) return ['No schedules in the registry.'];
  return renderTable(
    ['ID', 'TRIGGER', 'QUEUE', 'ENABLED', 'NEXT', '', 'LAST RUN', 'LAST OUTCOME', 'SOURCE'],
    rows.map((r) => [
      r.id,
      r.trigger,
      r.queue,
      r.enabled ? 'yes' : 'no',
      r.next ?? '-',
      r.nextRelative,
      r.lastRun ? `${r.lastRun} (${relativeAgo(now - Date.parse(r.lastRun))})` : '-',
      r.lastOutcome ? `${r.lastOutcome}${r.lastLatenessMs !== null ? ` (+${formatLateness(r.lastLatenessMs)})` : ''}` : '-',
      `${r.source}:${r.origin}`,
    ]),
  );
}
