/**
 * Figures, their summary (median, min, max over runs) and the printed table. A figure
 * with a target says whether the median meets it; a figure without one is context.
 */

export interface Target {
  /** `le`: the median must be at most `value`; `eq`: exactly `value`. */
  op: 'le' | 'eq';
  value: number;
}

export interface Figure {
  scenario: string;
  figure: string;
  unit: string;
  /** One value per run. */
  runs: number[];
  median: number;
  min: number;
  max: number;
  target?: Target;
  met?: boolean;
  note?: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (0..100), nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function figure(
  scenario: string,
  name: string,
  unit: string,
  runs: number[],
  target?: Target,
  note?: string,
): Figure {
  const med = median(runs);
  const f: Figure = { scenario, figure: name, unit, runs, median: med, min: Math.min(...runs), max: Math.max(...runs) };
  if (target) {
    f.target = target;
    f.met = target.op === 'le' ? med <= target.value : med === target.value;
  }
  if (note) f.note = note;
  return f;
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return String(v);
  const digits = Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

function targetText(f: Figure): string {
  if (!f.target) return '';
  return `${f.target.op === 'le' ? '≤' : '='} ${fmt(f.target.value, f.unit)}`;
}

/** The table as Markdown (also readable as plain text). */
export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.figure,
    fmt(f.median, f.unit),
    f.runs.length > 1 ? `${fmt(f.min, '')} – ${fmt(f.max, '')}` : '',
    targetText(f),
    f.met === undefined ? '' : f.met ? 'met' : 'NOT MET',
  ]);
  // A figure's note (a ratio to its floor, how it was taken) was kept only in --out's JSON:
  // printed under the table, numbered beside its row.
  const notes: string[] = [];
  figures.forEach((f, i) => {
    if (!f.note) return;
    const n = notes.length + 1;
    notes.push(`[${n}] ${f.scenario}, ${f.figure}: ${f.note}`);
    rows[i]![1] += ` [${n}]`;
  });
  const head = ['scenario', 'figure', 'median', 'min – max', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const table = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
  return notes.length === 0 ? table : `${table}\n\n${notes.join('\n')}`;
}
