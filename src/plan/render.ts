/**
 * What the daemon's socket replies and the CLI's text share about a plan: a trigger's
 * description and a plan's counts. Pure. The text of a plan is `cli/render/plan.ts`.
 */
import { formatDuration } from '../model/duration.js';
import type { Schedule } from '../model/schedule-schema.js';
import type { Change, Plan } from './types.js';

/** A short description of when a schedule fires: `cron "0 3 * * *" (Europe/Berlin)`. */
export function describeTrigger(s: Pick<Schedule, 'cron' | 'every' | 'at' | 'timezone'>): string {
  if (s.cron !== undefined) return `cron "${s.cron}" (${s.timezone})`;
  if (s.every !== undefined) return `every ${formatDuration(s.every)}`;
  if (s.at !== undefined) return `at ${s.at}`;
  return 'no trigger';
}

export function planSummary(plan: Plan): { create: number; update: number; delete: number; unchanged: number; held: number; errors: number } {
  const n = (a: Change['action']) => plan.changes.filter((c) => c.action === a).length;
  return { create: n('create'), update: n('update'), delete: n('delete'), unchanged: plan.unchanged, held: plan.held.length, errors: plan.errors.length };
}
