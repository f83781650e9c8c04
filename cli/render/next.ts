/** `pyrq next` as text: the trigger, then each fire time in UTC and local time. Pure. */
import { formatDuration } from '../../src/model/duration.js';
import type { FireTime } from '../../src/schedule/next-times.js';

/** What `pyrq next` found (its `--json` output). */
export interface NextResult {
  id?: string;
  trigger: string;
  /** A cron expression read out in words (cronstrue), when the trigger is a cron. */
  cronText?: string;
  timezone: string;
  /** The schedule's overlap policy (ID only): what an occurrence does while the previous job runs. */
  overlap?: string;
  /** The registry's stored next fire time (ID only): what the dispatcher will fire next. */
  stored?: string | null;
  times: FireTime[];
  note?: string;
}

export function renderNext(r: NextResult): string[] {
  const lines = [`${r.id ? `${r.id}: ` : ''}${r.trigger}${r.cronText ? `: ${r.cronText}` : ''}`];
  if (r.note) lines.push(`  (${r.note})`);
  if (r.stored !== undefined) lines.push(`  stored next fire time: ${r.stored ?? 'none'}`);
  if (r.overlap !== undefined) lines.push(`  overlap: ${r.overlap}`);
  if (r.times.length === 0 && !r.note) lines.push('  no further fire times');
  for (const t of r.times)
    lines.push(
      `  ${t.utc}  ${t.local}${t.occurrence !== undefined ? `  (occurrence ${t.occurrence} + ${formatDuration(t.delaySeconds ?? 0)} jitter)` : ''}`,
    );
  return lines;
}
