/** `pyrq doctor` as text: one line per finding (ok, warn, fail), what to do under each, a summary. Pure. */
import type { DoctorReport } from '../../src/doctor/run-doctor.js';

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function renderDoctor(r: DoctorReport): string[] {
  const width = Math.max(...r.checks.map((c) => c.check.length), 5);
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.check.padEnd(width)}  ${c.message}`);
    if (c.fix && c.status !== 'ok') lines.push(`      ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  lines.push(
    `${n(r.counts.ok, 'check', 'checks')} ok, ${n(r.counts.warn, 'warning', 'warnings')}, ${n(r.counts.fail, 'failure', 'failures')}.`,
  );
  return lines;
}
