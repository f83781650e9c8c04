/** Plain text tables and the time spans in them. Pure. */
import { printable } from '../../src/printable.js';
import { relativeTime } from '../../src/status/status-view.js';

/** Cells escaped before they are measured (src/printable.ts): a name holding a newline stays on its row. */
const cellsOf = (rows: readonly (readonly string[])[]): string[][] => rows.map((r) => r.map(printable));

/** A plain text table with aligned columns (the last column is not padded). */
export function renderTable(header: readonly string[], raw: readonly (readonly string[])[]): string[] {
  const rows = cellsOf(raw);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** Cuts a line to `width` characters, marking the cut with "…". */
export function fitLine(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(width - 1, 0))}…`;
}

/** Wraps text at spaces to `width` characters; continuation lines start with `indent`. A word longer than a line is cut. */
export function wrapText(text: string, width: number, indent = ''): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line === '') line = `${out.length > 0 ? indent : ''}${word}`;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      out.push(line);
      line = `${indent}${word}`;
    }
  }
  if (line) out.push(line);
  return out.map((l) => fitLine(l, width));
}

/**
 * A table fitted to `width` characters: the widest columns give up characters first
 * (down to their header's width, at least 6; the first column, the id, keeps up to 40% of
 * the width), cells longer than their column end in "…", and as a last resort each line
 * is cut at the width.
 */
export function fitTable(header: readonly string[], raw: readonly (readonly string[])[], width: number): string[] {
  const rows = cellsOf(raw);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const min = header.map((h, i) => Math.max(h.length, 6, i === 0 ? Math.min(widths[0]!, Math.floor(width * 0.4)) : 0));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (widths[i]! > min[i]! && (widest === -1 || widths[i]! > widths[widest]!)) widest = i;
    if (widest === -1) break;
    widths[widest]!--;
  }
  const cut = (cells: readonly string[]) => cells.map((c, i) => fitLine(c, widths[i]!));
  return renderTable(cut(header), rows.map(cut)).map((l) => fitLine(l.trimEnd(), width));
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
