/**
 * `reconcileOnce()`: the one level-triggered reconcile (controller-runtime style) that
 * serves `pyrq apply`, the daemon's event path and its periodic re-sync. It re-reads the
 * desired state of every participating source and the observed state of the registry,
 * makes a plan, and (unless dry-run) applies exactly that plan.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import type { Logger } from '../src/log.js';
import { attachObserved, diff } from '../src/plan/diff.js';
import type { Plan } from '../src/plan/types.js';
import type { ApplyResult, Registry } from '../src/registry/registry.js';
import type { Source } from '../src/source.js';

export interface ReconcileDeps {
  sources: readonly Source[];
  registry: Registry;
  clock?: Clock;
  logger?: Logger;
}

export interface ReconcileOptions {
  /** Make the plan, change nothing. */
  dryRun?: boolean;
  /** Full re-sync: sources re-read from scratch, every registry entry checked for drift. */
  deep?: boolean;
}

export interface ReconcileResult {
  runId: string;
  plan: Plan;
  /** Absent on a dry run. */
  applied?: ApplyResult;
  durationMs: number;
}

export async function reconcileOnce(deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const clock = deps.clock ?? systemClock;
  const runId = randomBytes(4).toString('hex');
  const log = deps.logger?.child({ run: runId });
  const started = performance.now();
  const now = clock.now();
  const snapshots = await Promise.all(deps.sources.map((s) => s.snapshot({ fresh: opts.deep === true })));
  const observed = opts.deep ? await deps.registry.readDeep(now) : await deps.registry.readIndex();
  let plan = diff(snapshots, observed, now);
  const need = plan.changes.filter((c) => c.action !== 'create' && c.before === undefined).map((c) => c.id);
  if (need.length > 0) plan = attachObserved(plan, await deps.registry.readSpecs(need));
  let applied: ApplyResult | undefined;
  if (!opts.dryRun) applied = await deps.registry.applyPlan(plan, now);
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  if (log) {
    for (const e of plan.errors) log.warn({ source: e.source, origin: e.origin, id: e.id, field: e.path }, e.message);
    const summary = applied
      ? { created: applied.created.length, updated: applied.updated.length, deleted: applied.deleted.length, conflicts: applied.conflicts.length }
      : { planned: plan.changes.length };
    log.info({ ...summary, unchanged: plan.unchanged, held: plan.held.length, errors: plan.errors.length, deep: opts.deep === true, durationMs }, 'reconcile');
  }
  return { runId, plan, applied, durationMs };
}
