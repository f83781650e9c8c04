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
import { attachObserved, diff, diffSteps } from '../src/plan/diff.js';
import type { Plan } from '../src/plan/types.js';
import type { ApplyResult, KnownSpecs, RegistryPort } from '../src/registry/registry-port.js';
import { type DesiredSchedule, type Source, type SourceSnapshot, desiredId } from '../src/source.js';
import { slicer } from '../src/yield-slices.js';
import { logChanges, logErrors } from './change-log.js';

export interface ReconcileDeps {
  sources: readonly Source[];
  registry: RegistryPort;
  clock?: Clock;
  logger?: Logger;
}

export interface ReconcileOptions {
  /** Make the plan, change nothing. */
  dryRun?: boolean;
  /** Full re-sync: sources re-read from scratch, every registry entry checked for drift. */
  deep?: boolean;
  /**
   * Plan only what changed (the daemon's event path): these ids, plus the ids every
   * source reports as `changed` since its previous snapshot, plus the ids it holds. The
   * run is a full one when a source cannot say what changed or is stale, and when
   * `deep` is set. The periodic deep re-sync remains what guarantees convergence.
   */
  scope?: readonly string[];
  /** Why this run: logged at debug when it starts and on its summary line ("files changed: a.toml"). */
  reason?: string;
  /** Aborted: stop applying after the batches in flight (`ApplyResult.notSent` says how many were left). */
  signal?: AbortSignal;
  /**
   * Called with the plan before anything is applied; a throw writes nothing (the
   * one-writer check of `apply` and `tick`: cli/owner-guard.ts).
   */
  check?: (plan: Plan) => void | Promise<void>;
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
  log?.debug(
    {
      reason: opts.reason,
      deep: opts.deep === true,
      sources: deps.sources.map((s) => s.name),
      ...(opts.scope ? { ids: opts.scope.slice(0, 20) } : {}),
    },
    `reconcile started: ${opts.reason ?? 'no reason given'}`,
  );
  // Wall and process CPU ms per step (parse threads included), on the summary line.
  const phases: Record<string, number> = {};
  let mark = performance.now();
  let cpuMark = process.cpuUsage();
  const phase = (name: string) => {
    const t = performance.now();
    const c = process.cpuUsage(cpuMark);
    phases[name] = Math.round(t - mark);
    phases[`${name}Cpu`] = Math.round((c.user + c.system) / 1000);
    mark = t;
    cpuMark = process.cpuUsage();
  };
  const snapshots = await Promise.all(deps.sources.map((s) => s.snapshot({ fresh: opts.deep === true, now })));
  phase('read');
  const scope = opts.deep || !opts.scope ? undefined : scopeOf(opts.scope, snapshots);
  let plan: Plan;
  if (scope) {
    // Only the ids in scope, on both sides: one HMGET instead of reading the whole index,
    // and a diff of a few entries instead of every schedule.
    const observed = await deps.registry.readIndexIds([...scope]);
    phase('observe');
    plan = diff(
      snapshots.map((s) => restrict(s, scope)),
      observed,
      now,
    );
    plan.sources.forEach((p, i) => (p.schedules = snapshots[i]!.schedules.length));
  } else {
    const observed = opts.deep
      ? await deps.registry.readDeep(now, knownSpecs(snapshots))
      : await deps.registry.readIndex();
    phase('observe');
    // In steps, letting timers (the dispatcher's fires) run between them.
    plan = await stepped(diffSteps(snapshots, observed, now));
  }
  const needed = plan.changes.filter((c) => c.action !== 'create' && c.before === undefined);
  if (needed.length > 0) {
    // A delete's old spec is only shown (logs, the plan); it is taken as pyrq wrote it
    // when its text hashes to what the plan observed (a storm's removal deletes 100,000).
    const observedHash = new Map(needed.filter((c) => c.action === 'delete').map((c) => [c.id, c.beforeHash]));
    const specs = await deps.registry.readSpecs(
      needed.map((c) => c.id),
      (id) => observedHash.get(id),
    );
    plan = attachObserved(plan, specs);
  }
  phase('diff');
  if (!opts.dryRun) await opts.check?.(plan);
  let applied: ApplyResult | undefined;
  if (!opts.dryRun) applied = await deps.registry.applyPlan(plan, now, { signal: opts.signal });
  phase('apply');
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  if (log) {
    logErrors(log, plan.errors);
    if (applied) logChanges(log, plan.changes, applied);
    const summary = applied
      ? {
          created: applied.created.length,
          updated: applied.updated.length,
          deleted: applied.deleted.length,
          conflicts: applied.conflicts.length,
        }
      : { planned: plan.changes.length };
    const schedules = Object.fromEntries(plan.sources.map((s) => [s.source, s.schedules]));
    log.info(
      {
        ...summary,
        unchanged: plan.unchanged,
        held: plan.held.length,
        errors: plan.errors.length,
        deep: opts.deep === true,
        ...(scope ? { scope: scope.size } : {}),
        schedules,
        ...(opts.reason ? { reason: opts.reason } : {}),
        durationMs,
        phases,
      },
      'reconcile',
    );
  }
  return { runId, plan, applied, durationMs };
}

/**
 * The ids a scoped run covers: the caller's, what every source says changed, and what
 * it holds (so the plan reports them held). Undefined when a source cannot say.
 */
function scopeOf(ids: readonly string[], snapshots: readonly SourceSnapshot[]): Set<string> | undefined {
  const scope = new Set(ids);
  for (const s of snapshots) {
    if (s.changed === undefined || s.stale) return undefined;
    for (const id of s.changed) scope.add(id);
    for (const id of s.heldIds) scope.add(id);
  }
  return scope;
}

/** A snapshot cut down to the ids in `scope` (looked up when the source keeps a map). */
function restrict(s: SourceSnapshot, scope: ReadonlySet<string>): SourceSnapshot {
  let schedules: DesiredSchedule[];
  if (s.byId) {
    schedules = [];
    for (const id of scope) {
      const d = s.byId.get(id);
      if (d) schedules.push(d);
    }
  } else {
    schedules = s.schedules.filter((d) => scope.has(desiredId(d)));
  }
  return { ...s, schedules };
}

/** The desired specs by id (a deep read need not parse again a stored spec it already has). */
function knownSpecs(snapshots: readonly SourceSnapshot[]): KnownSpecs {
  const maps = snapshots.map((s) => s.byId ?? new Map(s.schedules.map((d) => [desiredId(d), d])));
  return (id) => {
    for (const m of maps) {
      const d = m.get(id);
      if (d) return d;
    }
    return undefined;
  };
}

/**
 * Runs a generator of steps to its value, yielding to the event loop whenever the steps
 * since the last yield took a slice's budget (the steps are small; a fixed 2,000 entries
 * a step held the fires for 100+ ms on a loaded machine).
 */
async function stepped<T>(steps: Generator<void, T, void>): Promise<T> {
  const s = slicer();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await s.tick();
  }
}
