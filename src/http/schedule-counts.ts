/**
 * `pyrq_schedules` (schedules by source and state) without reading every entry on every
 * count: a schedule's `enabled` and whether it is a one-shot are part of its spec, so
 * they are remembered per spec hash; a recount reads the index (one HGETALL), the specs
 * of hashes not seen before (all of them only the first time), and the dispatcher state
 * of enabled one-shots (`done`). Recounts run in the background, one at a time; a scrape
 * never waits for one, it reports the last counts.
 *
 * When: after this daemon changed the registry (a reconcile, a one-shot's last fire), at
 * most every 15 s; otherwise every 10 minutes, to see what other writers changed.
 */
import type { Schedule } from '../model/schedule-schema.js';
import type { RegistryEntry } from '../registry/registry-port.js';
import { isOneShot } from '../schedule/triggers/index.js';
import { type HealthSpec, type OutcomeFields, pickHealthSpec, scheduleHealth } from '../status/schedule-health.js';

/** `disabled`: `enabled = false` in the source; `paused`: an operator's `pyrq pause` (counted by `paused()` below). */
export type ScheduleState = 'enabled' | 'disabled' | 'paused' | 'done';

export function scheduleState(e: Pick<RegistryEntry, 'spec' | 'state'>): ScheduleState {
  if (e.state.done === '1') return 'done';
  return e.spec?.enabled === false ? 'disabled' : 'enabled';
}

/** What a count reads (the registry, through the daemon's view). */
export interface CountReads {
  index(): Promise<Map<string, { hash: string; source: string }>>;
  specs(ids: readonly string[]): Promise<Map<string, Schedule>>;
  entries(ids: readonly string[]): Promise<RegistryEntry[]>;
  /** Ids paused by an operator: an enabled schedule that is paused counts as `paused`. */
  paused?(): Promise<Set<string>>;
  /** Outcome fields of schedules (for the failing and overdue counts); absent: not counted. */
  outcomeFields?(ids: readonly string[]): Promise<Map<string, OutcomeFields & { done?: string }>>;
}

/** Schedules failing and overdue, by source (src/status/schedule-health.ts). */
export interface HealthCounts {
  at: number;
  failing: Map<string, number>;
  overdue: Map<string, number>;
}

/** How often the failing and overdue counts are read again (overdue changes with time alone). */
const HEALTH_RECOUNT_MS = 30_000;

const RECOUNT_MIN_MS = 15_000;
const RECOUNT_MAX_MS = 10 * 60_000;
const SPEC_CHUNK = 5_000;

export class ScheduleCounter {
  private readonly byHash = new Map<
    string,
    { enabled: boolean; oneShot: boolean; queue: string; health: HealthSpec }
  >();
  private lastHealth?: HealthCounts;
  private healthRunning?: Promise<void>;
  private last?: {
    at: number;
    counts: Map<string, { source: string; state: ScheduleState; n: number }>;
    /** Schedules per RQ queue (for the bounded `queue` label, queue-labels.ts). */
    queues: Map<string, number>;
  };
  private running?: Promise<void>;
  private dirty = true;

  constructor(
    private readonly reads: CountReads,
    private readonly now: () => number = Date.now,
  ) {}

  /** The registry changed here: recount (not sooner than 15 s after the last count). */
  markDirty(): void {
    this.dirty = true;
  }

  /** The last counts (undefined before the first), starting a recount when one is due. Never waits. */
  current(): { source: string; state: ScheduleState; n: number }[] | undefined {
    const age = this.last ? this.now() - this.last.at : Infinity;
    if (!this.running && (age >= RECOUNT_MAX_MS || (this.dirty && age >= RECOUNT_MIN_MS))) {
      this.running = this.recount().finally(() => (this.running = undefined));
    }
    return this.last ? [...this.last.counts.values()] : undefined;
  }

  /** Schedules per queue at the last count (undefined before the first). */
  queues(): ReadonlyMap<string, number> | undefined {
    return this.last?.queues;
  }

  /**
   * Failing and overdue schedules by source as last counted (undefined before the first
   * count, or when the reads cannot tell), starting a recount every 30 s. Never waits.
   * Only enabled schedules that are not done count; a paused one may be failing, never overdue.
   */
  health(): HealthCounts | undefined {
    const age = this.lastHealth ? this.now() - this.lastHealth.at : Infinity;
    if (!this.healthRunning && this.reads.outcomeFields && this.last && age >= HEALTH_RECOUNT_MS) {
      this.healthRunning = this.recountHealth().finally(() => (this.healthRunning = undefined));
    }
    return this.lastHealth;
  }

  /** Resolves when the recount in flight (if any) is done: for tests. */
  async settled(): Promise<void> {
    await this.running;
    await this.healthRunning;
  }

  private async recountHealth(): Promise<void> {
    try {
      const index = await this.reads.index();
      const paused = (await this.reads.paused?.()) ?? new Set<string>();
      const ids = [...index.keys()].filter((id) => this.byHash.get(index.get(id)!.hash)?.enabled);
      const fields = await this.reads.outcomeFields!(ids);
      const now = this.now();
      const failing = new Map<string, number>();
      const overdue = new Map<string, number>();
      for (const id of ids) {
        const v = index.get(id)!;
        const f = fields.get(id);
        const info = this.byHash.get(v.hash);
        if (!f || !info || f.done === '1') continue;
        const h = scheduleHealth(info.health, f, now, !paused.has(id)); // a paused one is never overdue
        if (h.failing) failing.set(v.source, (failing.get(v.source) ?? 0) + 1);
        if (h.overdue) overdue.set(v.source, (overdue.get(v.source) ?? 0) + 1);
      }
      this.lastHealth = { at: now, failing, overdue };
    } catch {
      // Redis down: keep the last counts
    }
  }

  private async recount(): Promise<void> {
    this.dirty = false;
    try {
      const index = await this.reads.index();
      const unknown: string[] = [];
      for (const [id, v] of index) if (!this.byHash.has(v.hash)) unknown.push(id);
      for (let i = 0; i < unknown.length; i += SPEC_CHUNK) {
        for (const [id, s] of await this.reads.specs(unknown.slice(i, i + SPEC_CHUNK))) {
          this.byHash.set(index.get(id)!.hash, {
            enabled: s.enabled !== false,
            // A schedule with `times` finishes like a one-shot (marked done).
            oneShot: isOneShot(s) || s.times !== undefined,
            queue: s.queue ?? 'default',
            health: pickHealthSpec(s),
          });
        }
      }
      const oneShots: string[] = [];
      for (const [id, v] of index)
        if (this.byHash.get(v.hash)?.oneShot && this.byHash.get(v.hash)?.enabled) oneShots.push(id);
      const done = new Set(
        oneShots.length
          ? (await this.reads.entries(oneShots)).filter((e) => e.state.done === '1').map((e) => e.id)
          : [],
      );
      const paused = (await this.reads.paused?.()) ?? new Set<string>();
      const counts = new Map<string, { source: string; state: ScheduleState; n: number }>();
      const seen = new Set<string>();
      const queues = new Map<string, number>();
      for (const [id, v] of index) {
        const info = this.byHash.get(v.hash);
        if (!info) continue; // an unreadable spec: `pyrq status` shows it
        seen.add(v.hash);
        queues.set(info.queue, (queues.get(info.queue) ?? 0) + 1);
        const state: ScheduleState = done.has(id)
          ? 'done'
          : !info.enabled
            ? 'disabled'
            : paused.has(id)
              ? 'paused'
              : 'enabled';
        const k = `${v.source}\t${state}`;
        const c = counts.get(k);
        if (c) c.n++;
        else counts.set(k, { source: v.source, state, n: 1 });
      }
      for (const h of this.byHash.keys()) if (!seen.has(h)) this.byHash.delete(h); // forget specs no longer applied
      this.last = { at: this.now(), counts, queues };
    } catch {
      this.dirty = true; // Redis down: keep the last counts, try again later
      if (this.last) this.last.at = Math.min(this.last.at, this.now() - RECOUNT_MAX_MS + RECOUNT_MIN_MS);
    }
  }
}
