/** Plain text tables and the time spans in them. Pure. */
import { relativeTime } from '../../src/status/status-view.js';

/** A plain text table with aligned columns (the last column is not padded). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** Lateness for people: `12ms`, `4.2s`, `16m 0s`. */
export function formatLateness(ms: number): string {
  if (Math.abs(ms) < 1000) return `${ms}ms`;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return relativeTime(Math.abs(ms)).slice('in '.length);
}

/** "3m 12s ago" (or "in ..." for a time ahead, when the clocks disagree). */
export function relativeAgo(ms: number): string {
  const text = relativeTime(Math.abs(ms)).slice('in '.length);
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}
