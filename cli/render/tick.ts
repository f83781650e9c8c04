/** `pyrq tick` as text: what each due schedule did, then a summary line. Pure. */
import type { TickResult } from '../../src/dispatch/tick-result.js';

/** Lines printed per schedule before the rest is summarised. */
const MAX_LINES = 50;

export function renderTick(r: TickResult, opts: { dryRun?: boolean } = {}): string[] {
  const when = new Date(r.now).toISOString();
  const lines: string[] = [];
  for (const p of r.problems) lines.push(`! ${p.id}: ${p.message}`);
  if (opts.dryRun) return [...lines, ...renderPreview(r, when)];
  if (r.schedules.length === 0) return [...lines, `Nothing due at ${when}.`];
  for (const s of r.schedules.slice(0, MAX_LINES)) {
    if (s.result === 'not-due') lines.push(`  ${s.id}: already fired by another dispatcher`);
    else
      lines.push(
        `  ${s.id}: ${s.enqueued} enqueued${s.skipped ? `, ${s.skipped} skipped` : ''}${s.enqueued > 0 && s.enqueued === s.jobIds.length ? `  ${s.jobIds.join(' ')}` : ''}`,
      );
  }
  if (r.schedules.length > MAX_LINES) lines.push(`  ... and ${r.schedules.length - MAX_LINES} more schedules`);
  lines.push(
    `Fired at ${when}: ${r.enqueued} job(s) enqueued, ${r.skipped} occurrence(s) skipped, ${r.schedules.length} schedule(s), ${r.durationMs} ms. See "pyrq history ID".`,
  );
  return lines;
}

/** A dry run (`tick --at` in the future without `--force`): what would fire, and that nothing was written. */
function renderPreview(r: TickResult, when: string): string[] {
  const lines = [
    `Dry run as of ${when} (later than now): nothing was written. --force fires as of that time, moving each schedule's next fire time past it.`,
  ];
  if (r.schedules.length === 0) return [...lines, `Nothing would be due at ${when}.`];
  for (const s of r.schedules.slice(0, MAX_LINES))
    lines.push(
      `  ${s.id}: would enqueue ${s.enqueued}${s.skipped ? `, skip ${s.skipped}` : ''}${s.jobIds.length > 0 ? `  ${s.jobIds.join(' ')}` : ''}`,
    );
  if (r.schedules.length > MAX_LINES) lines.push(`  ... and ${r.schedules.length - MAX_LINES} more schedules`);
  lines.push(`Would fire ${r.enqueued} job(s), skip ${r.skipped} occurrence(s), ${r.schedules.length} schedule(s).`);
  return lines;
}
