/**
 * What the daemon's socket replies and the CLI's text share about a plan: its counts.
 * (A trigger's description is the trigger module's: `src/schedule/triggers`.) Pure. The text of a plan is `cli/render/plan.ts`.
 */
import type { Change, Plan } from './types.js';

export function planSummary(plan: Plan): {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  held: number;
  errors: number;
} {
  const n = (a: Change['action']) => plan.changes.filter((c) => c.action === a).length;
  return {
    create: n('create'),
    update: n('update'),
    delete: n('delete'),
    unchanged: plan.unchanged,
    held: plan.held.length,
    errors: plan.errors.length,
  };
}
