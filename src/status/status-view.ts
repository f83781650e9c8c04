/**
 * The `status` view of registry entries: one row per schedule, as data (for `--json`)
 * and as a table. Pure: the caller passes the entries and the time.
 */
import type { RegistryEntry } from '../registry/registry-port.js';
import { describeTrigger } from '../plan/render.js';

export interface StatusRow {
  id: string;
  trigger: string;
  cron?: string;
  every?: number;
  at?: string;
  timezone: string;
  queue: string;
  target: string;
  function: string;
  enabled: boolean;
  /** ISO time of the next fire, null when none (disabled, finished, ended). */
  next: string | null;
  /** Human form: "in 3h 12m", "overdue 4s". */
  nextRelative: string;
  source: string;
  origin: string;
  lastRun: string | null;
  lastOutcome: string | null;
  lastLatenessMs: number | null;
  lastJobId: string | null;
  done: boolean;
}

export function relativeTime(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  let text: string;
  if (s < 60) text = `${s}s`;
  else if (s < 3600) text = `${Math.floor(s / 60)}m ${s % 60}s`;
  else if (s < 86400) text = `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  else text = `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  return ms >= 0 ? `in ${text}` : `overdue ${text}`;
}

export function statusRow(e: RegistryEntry, now: number): StatusRow {
  const s = e.spec;
  const lastRunAt = e.state.lastRunAt ? Number(e.state.lastRunAt) : null;
  return {
    id: e.id,
    trigger: s ? describeTrigger(s) : '(unreadable spec)',
    cron: s?.cron,
    every: s?.every,
    at: s?.at,
    timezone: s?.timezone ?? '',
    queue: s?.queue ?? '',
    target: s?.target ?? '',
    function: s?.function ?? '',
    enabled: s?.enabled ?? false,
    next: e.next === null ? null : new Date(e.next).toISOString(),
    nextRelative: e.next === null ? (e.state.done === '1' ? 'done' : s?.enabled === false ? 'disabled' : 'none') : relativeTime(e.next - now),
    source: e.source,
    origin: e.origin,
    lastRun: lastRunAt === null ? null : new Date(lastRunAt).toISOString(),
    lastOutcome: e.state.lastOutcome ?? null,
    lastLatenessMs: e.state.lastLatenessMs ? Number(e.state.lastLatenessMs) : null,
    lastJobId: e.state.lastJobId ?? null,
    done: e.state.done === '1',
  };
}

/** A plain text table with aligned columns. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

export function renderStatus(rows: readonly StatusRow[], now = Date.now()): string[] {
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

/** Lateness for people: `12ms`, `4.2s`, `16m 0s`. */
export function formatLateness(ms: number): string {
  if (Math.abs(ms) < 1000) return `${ms}ms`;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return relativeTime(Math.abs(ms)).slice('in '.length);
}

/** "3m 12s ago" (or "in ..." for a time ahead, when the clocks disagree). */
function relativeAgo(ms: number): string {
  const text = relativeTime(Math.abs(ms)).slice('in '.length);
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}
