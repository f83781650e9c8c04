/**
 * The dispatcher's memory of schedules: parsed spec and encoded job payload per id,
 * valid for one spec hash. A due schedule whose entry is cached costs no read and no
 * encoding; the fire script checks the hash, and a stale entry (`-2`) is dropped and
 * re-read. Reads are pipelined, one HMGET per missing id, all in one round trip.
 */
import type { Redis } from 'ioredis';
import type { Schedule } from '../model/schedule-schema.js';
import type { TriggerSpec } from '../schedule/next-fire.js';
import { pickTriggerSpec } from '../schedule/triggers/index.js';
import type { Keys } from '../redis/keys.js';
import { indexValueHash } from '../registry/index-value.js';
import { parseStoredSpec } from '../registry/registry.js';
import { type EncodedSchedule, type EncodeOptions, encodeSchedule } from '../rq/job-encoding.js';

/**
 * What the dispatcher keeps of a spec once its job is encoded: when and how it fires
 * (the payload is in `enc`). Arguments, meta and description are not kept twice: with
 * 100,000 schedules the cache holds tens of thousands of entries.
 */
export type FiringSpec = TriggerSpec &
  Pick<Schedule, 'catchup' | 'startingDeadline' | 'function'> &
  Partial<Pick<Schedule, 'id' | 'jitter'>>;

function firingSpec(s: Schedule): FiringSpec {
  // The trigger's own fields come from the trigger table, so a new kind needs no change here.
  const f: FiringSpec = { ...pickTriggerSpec(s), catchup: s.catchup, function: s.function };
  if (s.startingDeadline !== undefined) f.startingDeadline = s.startingDeadline;
  // A jittered schedule's delays are seeded by its id (src/schedule/jitter.ts).
  if (s.jitter !== undefined) {
    f.jitter = s.jitter;
    f.id = s.id;
  }
  return f;
}

export interface CachedSchedule {
  spec: FiringSpec;
  hash: string;
  enc: EncodedSchedule;
  /** The schedule's lastJobId as last read or written; undefined: unknown, read it. */
  lastJobId: string | undefined;
}

/** Why a schedule could not be loaded (it stays in `next`, but is not fired). */
export interface LoadProblem {
  id: string;
  message: string;
}

const READ_BATCH = 2000;
/** Ids per HMGET of the index when checking for stale entries. */
const STALE_BATCH = 5000;

export class ScheduleCache {
  private readonly entries = new Map<string, CachedSchedule>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly encodeOptions: EncodeOptions,
  ) {}

  get(id: string): CachedSchedule | undefined {
    return this.entries.get(id);
  }

  /** True when the entry can be fired from memory (unless overlap allow: lastJobId known). */
  isFresh(id: string): boolean {
    const e = this.entries.get(id);
    return e !== undefined && (e.lastJobId !== undefined || e.enc.overlap === 'allow');
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  /** The fire script said lastJobId changed (a manual run, or another dispatcher). */
  forgetLastJob(id: string): void {
    const e = this.entries.get(id);
    if (e) e.lastJobId = undefined;
  }

  setLastJob(id: string, jobId: string): void {
    const e = this.entries.get(id);
    if (e) e.lastJobId = jobId;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Drops the entries among `ids` whose spec hash in the index is no longer the cached
   * one, so a registry change is reloaded ahead of the fire instead of being refused by
   * the fire script at the fire time. One HMGET of the index per few thousand ids: the
   * dispatcher runs this after every registry change, and one HGET per schedule (20,000
   * commands with 100,000 schedules loaded) held the daemon's event loop for ~100 ms.
   * An entry whose schedule hash was altered behind the index's back is still refused
   * by the fire script (-2) and reloaded then.
   */
  async dropStale(ids: readonly string[]): Promise<void> {
    const cached = ids.filter((id) => this.entries.has(id));
    for (let i = 0; i < cached.length; i += STALE_BATCH) {
      const batch = cached.slice(i, i + STALE_BATCH);
      const values = await this.redis.hmget(this.keys.index, ...batch);
      batch.forEach((id, j) => {
        const v = values[j];
        const hash = v ? indexValueHash(v) : null;
        if (hash !== this.entries.get(id)?.hash) this.entries.delete(id);
      });
    }
  }

  /**
   * Forgets schedules that are no longer in the fire set (deleted, disabled, ended, done),
   * and those not due before `horizon` (epoch ms): they are loaded again before they
   * fire. Memory follows what is about to fire, not everything that ever fired (after a
   * day, that would be every schedule). One pipelined ZSCORE per cached id; returns how
   * many were dropped, or null when `stop()` said to stop early.
   */
  async dropUnscheduled(stop: () => boolean = () => false, horizon = Infinity): Promise<number | null> {
    const ids = [...this.entries.keys()];
    let dropped = 0;
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      if (stop()) return null;
      const batch = ids.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) p.zscore(this.keys.next, id);
      const res = (await p.exec()) ?? [];
      batch.forEach((id, j) => {
        const [err, score] = res[j] ?? [];
        if (err) throw err;
        if (score === null || Number(score) > horizon) {
          this.entries.delete(id);
          dropped++;
        }
      });
    }
    return dropped;
  }

  /**
   * Reads `ids` from Redis and (re)builds their entries. An entry whose hash is
   * unchanged keeps its parsed spec and payload and only refreshes lastJobId.
   * Returns the ids that could not be loaded, with the reason.
   */
  async load(ids: readonly string[]): Promise<LoadProblem[]> {
    const problems: LoadProblem[] = [];
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) p.hmget(this.keys.schedule(id), 'hash', 'lastJobId', 'spec');
      const res = (await p.exec()) ?? [];
      batch.forEach((id, j) => {
        const [err, row] = res[j] ?? [];
        if (err) throw err;
        const [hash, lastJobId, specJson] = (row as (string | null)[]) ?? [];
        const problem = this.put(id, hash ?? null, lastJobId ?? '', specJson ?? null);
        if (problem) problems.push(problem);
      });
    }
    return problems;
  }

  private put(id: string, hash: string | null, lastJobId: string, specJson: string | null): LoadProblem | undefined {
    const cur = this.entries.get(id);
    if (cur && hash !== null && cur.hash === hash) {
      cur.lastJobId = lastJobId;
      return undefined;
    }
    this.entries.delete(id);
    if (hash === null || specJson === null)
      return {
        id,
        message: 'the schedule is in the fire set but its registry entry is missing (run apply --deep to repair)',
      };
    const spec = parseStoredSpec(specJson);
    if (!spec) return { id, message: 'the stored spec is not a valid schedule (run apply --deep to repair)' };
    try {
      this.entries.set(id, {
        spec: firingSpec(spec),
        hash,
        enc: encodeSchedule(spec, hash, this.encodeOptions),
        lastJobId,
      });
      return undefined;
    } catch (e) {
      return { id, message: (e as Error).message };
    }
  }
}
