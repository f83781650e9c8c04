/**
 * The last reconcile as `pyrq status` shows it, one shape from either path: the daemon
 * records it in Redis after every run (`pyrq:daemon` `lastReconcile`) and answers
 * `status` over its socket with the same object, so the text and `--json` do not depend
 * on whether a daemon answered. Pure.
 */
import type { Plan } from '../plan/types.js';
import type { ApplyResult, ReconcileSummary } from '../registry/registry-port.js';

/** The summary of one run: counts of what it applied (or planned, on a dry run), and why it ran. */
export function summarizeReconcile(
  r: { runId: string; durationMs: number; plan: Plan; applied?: ApplyResult },
  at: number,
  reason?: string,
): ReconcileSummary {
  const count = (a: 'create' | 'update' | 'delete') => r.plan.changes.filter((c) => c.action === a).length;
  return {
    at,
    runId: r.runId,
    durationMs: r.durationMs,
    created: r.applied ? r.applied.created.length : count('create'),
    updated: r.applied ? r.applied.updated.length : count('update'),
    deleted: r.applied ? r.applied.deleted.length : count('delete'),
    conflicts: r.applied ? r.applied.conflicts.length : 0,
    unchanged: r.plan.unchanged + (r.applied?.noop.length ?? 0),
    held: r.plan.held.length,
    errors: r.plan.errors.length,
    ...(reason !== undefined ? { reason } : {}),
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The summary as a sentence: "Last reconcile 3m 2s ago (run 1a2b3c4d, 12 ms; files
 * changed: billing.json): 1 created, 2 updated, 0 deleted, 40 unchanged, 1 error."
 * `ago` renders the age (the caller owns the clock and the wording of time spans).
 */
export function reconcileSentence(s: ReconcileSummary, ago: (ms: number) => string, now: number): string {
  const counts = [
    `${s.created ?? 0} created`,
    `${s.updated ?? 0} updated`,
    `${s.deleted ?? 0} deleted`,
    `${s.unchanged} unchanged`,
    ...(s.held ? [`${s.held} held`] : []),
    ...(s.conflicts ? [plural(s.conflicts, 'conflict')] : []),
    plural(s.errors, 'error'),
  ];
  const why = s.reason ? `; ${s.reason}` : '';
  return `Last reconcile ${ago(now - s.at)} (run ${s.runId}, ${s.durationMs} ms${why}): ${counts.join(', ')}.`;
}
