/**
 * A backfill: enqueues a schedule's occurrences of a past range, each with its
 * occurrence job id, through the fire script (`fire-batch.lua`) the dispatcher uses. So
 * it is idempotent as firing is: an occurrence whose job exists is recorded as
 * `skipped:duplicate` and not enqueued again, whoever made the job (the dispatcher, an
 * earlier backfill, another process racing this one). The schedule's overlap policy
 * applies as at a fire, item by item in time order; the next fire time is left alone
 * (no compare-and-set on it, as for a manual run). Runs are recorded with trigger
 * `backfill`; the jobs' meta says `schedule`, as the dispatcher's would.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import { PyrqError } from '../errors.js';
import type { FireItem } from '../redis/commands/fire-batch.js';
import { type Keys, RqKeys } from '../redis/keys.js';
import { scheduleNotFound } from '../registry/not-found.js';
import { Registry } from '../registry/registry.js';
import { jobMeta } from '../rq/job-encoding.js';
import { BACKFILL_CONFIRM_DEFAULT, BACKFILL_MAX, type BackfillPlan, planBackfill } from './backfill-plan.js';
import { parseTimestamp } from '../model/datetime.js';
import { formatLocal } from '../schedule/next-times.js';
import { fireItems } from './fire.js';
import { type CachedSchedule, ScheduleCache } from './schedule-cache.js';

/** Occurrences per fire item (one script call each, sent one after the other). */
const CHUNK = 500;

export interface BackfillDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  config: Pick<Config, 'dispatch' | 'frappe'>;
}

/** The plan as `pyrq backfill` prints it (times ISO 8601 UTC). */
export interface BackfillView {
  id: string;
  from: string;
  to: string;
  /** `to` moved back to now (later occurrences are the dispatcher's). */
  clampedTo: string | null;
  overlap: string;
  timezone: string;
  /** Oldest first; `local`: wall time in the schedule's timezone; `exists`: its job is in RQ already (not enqueued again). */
  occurrences: { occurrence: string; local: string; jobId: string; exists: boolean }[];
}

export interface BackfillResult extends BackfillView {
  dryRun: boolean;
  /** Jobs enqueued by this run; the others were skipped (already there, overlap) or held (buffer-one). */
  enqueued: number;
}

/** A loaded schedule and its backfill plan. */
export interface LoadedBackfill {
  plan: BackfillPlan;
  view: BackfillView;
}

const iso = (ms: number) => new Date(ms).toISOString();

function newCache(deps: BackfillDeps): ScheduleCache {
  const f = deps.config.frappe;
  return new ScheduleCache(deps.redis, deps.keys, {
    frappeBenchId: f.benchId,
    frappeSite: f.site,
    frappeUser: f.user,
  });
}

async function load(deps: BackfillDeps, cache: ScheduleCache, id: string): Promise<CachedSchedule> {
  const registry = new Registry(deps.redis, deps.keys.prefix);
  if (!(await registry.has(id))) throw await scheduleNotFound(registry, [id]);
  const [problem] = await cache.load([id]);
  if (problem) throw new PyrqError('VALIDATION_FAILED', `schedule "${id}" cannot be backfilled: ${problem.message}`);
  return cache.get(id)!;
}

/** One end of the range: ISO 8601; without an offset, wall time in the schedule's timezone. */
function parseEnd(name: string, text: string, timezone: string): number {
  const t = parseTimestamp(text, timezone);
  if (typeof t !== 'number') throw new PyrqError('CONFIG_INVALID', `${name}: ${t.reason}`);
  return t;
}

/**
 * Reads schedule `id` and computes its occurrences in `[from, to]` (both ends included;
 * a time without an offset is wall time in the schedule's timezone); writes nothing.
 */
export async function planBackfillOf(
  deps: BackfillDeps,
  id: string,
  fromText: string,
  toText: string,
): Promise<LoadedBackfill> {
  const c = await load(deps, newCache(deps), id);
  const from = parseEnd('--from', fromText, c.spec.timezone);
  const to = parseEnd('--to', toText, c.spec.timezone);
  if (from > to) throw new PyrqError('CONFIG_INVALID', `--from (${iso(from)}) is after --to (${iso(to)})`);
  const plan = planBackfill(id, c.spec, from, to, deps.clock.now());
  if (plan.tooMany)
    throw new PyrqError(
      'CONFIG_INVALID',
      `the range holds more than ${BACKFILL_MAX} occurrences of "${id}": backfill it in smaller ranges`,
    );
  const p = deps.redis.pipeline();
  for (const o of plan.occurrences) p.exists(RqKeys.job(o.jobId));
  const exists = plan.occurrences.length > 0 ? ((await p.exec()) ?? []) : [];
  return {
    plan,
    view: {
      id,
      from: iso(from),
      to: iso(to),
      clampedTo: plan.clampedTo === null ? null : iso(plan.clampedTo),
      overlap: c.enc.overlap,
      timezone: c.spec.timezone,
      occurrences: plan.occurrences.map((o, i) => ({
        occurrence: iso(o.occurrence),
        local: formatLocal(o.occurrence, c.spec.timezone),
        jobId: o.jobId,
        exists: exists[i]?.[1] === 1,
      })),
    },
  };
}

/** Enqueues the plan's occurrences, oldest first; returns how many jobs were enqueued. */
export async function runBackfill(deps: BackfillDeps, plan: BackfillPlan): Promise<number> {
  const cache = newCache(deps);
  let enqueued = 0;
  for (let i = 0; i < plan.occurrences.length; i += CHUNK) {
    const chunk = plan.occurrences.slice(i, i + CHUNK);
    // The spec or the last job can change between the read and the fire (the script then
    // refuses the item whole): read again. Occurrences already enqueued become duplicates.
    for (let attempt = 0; ; attempt++) {
      if (attempt === 3)
        throw new PyrqError('STALE_PLAN', `schedule "${plan.id}" kept changing while it was backfilled; try again`);
      cache.invalidate(plan.id);
      const c = await load(deps, cache, plan.id);
      const item: FireItem = {
        id: plan.id,
        expected: null,
        hash: c.hash,
        next: 'keep',
        overlap: c.enc.overlap,
        prevJobId: c.lastJobId ?? '',
        job: c.enc,
        ops: chunk.map((o) => ({
          kind: 'enqueue' as const,
          occurrence: o.occurrence,
          jobId: o.jobId,
          meta: jobMeta(c.enc, o.occurrence, 'schedule'),
          data: c.enc.dataFor?.(o.jobId),
        })),
      };
      const [outcome] = await fireItems(deps.redis, deps.keys, [item], {
        historyLength: deps.config.dispatch.historyLength,
        batchSize: 1,
        at: deps.clock.now(),
        trigger: 'backfill',
      });
      if (typeof outcome === 'number') {
        enqueued += outcome;
        break;
      }
      if (outcome !== 'stale-spec' && outcome !== 'stale-overlap')
        throw new PyrqError('DAEMON_ERROR', `backfill of "${plan.id}": the fire script refused it (${outcome})`);
    }
  }
  return enqueued;
}

/** Plans and (unless `dryRun`) runs a backfill: the socket op's whole path. */
export async function backfill(
  deps: BackfillDeps,
  id: string,
  from: string,
  to: string,
  opts: { dryRun?: boolean; confirmAbove?: number; yes?: boolean } = {},
): Promise<BackfillResult> {
  const { plan, view } = await planBackfillOf(deps, id, from, to);
  const dryRun = opts.dryRun === true;
  if (dryRun || plan.occurrences.length === 0) return { ...view, dryRun, enqueued: 0 };
  assertConfirmed(plan, opts.confirmAbove, opts.yes);
  return { ...view, dryRun, enqueued: await runBackfill(deps, plan) };
}

/** Over `confirmAbove` occurrences (default BACKFILL_CONFIRM_DEFAULT), a backfill needs `yes`. */
export function assertConfirmed(plan: BackfillPlan, confirmAbove = BACKFILL_CONFIRM_DEFAULT, yes = false): void {
  if (!yes && plan.occurrences.length > confirmAbove)
    throw new PyrqError(
      'CONFIG_INVALID',
      `backfill of "${plan.id}" would enqueue ${plan.occurrences.length} occurrences, more than ${confirmAbove}: pass --yes to confirm (or a higher --limit)`,
    );
}
