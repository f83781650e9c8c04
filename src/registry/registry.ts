/**
 * The registry adapter: the applied state in Redis. Reads what is applied (shallow: the
 * index in one HGETALL; deep: every entry, to find drift) and applies plans in
 * batches of one Lua call each, pipelined. All key names come from `Keys`.
 */
import type { Redis } from 'ioredis';
import { canonicalStringify, parseJson } from '../canonical-json.js';
import { type Schedule, scheduleSchema } from '../model/schedule-schema.js';
import { specHash, specHashOfText } from '../model/spec-hash.js';
import type { ObservedEntry, Plan } from '../plan/types.js';
import { Keys } from '../redis/keys.js';
import { ensureScript, prebuildScriptCall, sendPrebuiltScript } from '../redis/scripts.js';
import { nextFireAfter } from '../schedule/next-fire.js';
import { specTextMayBeOneShot } from '../schedule/triggers/index.js';

/** Changes per Lua call: big enough to amortise the round trip, small enough not to block Redis for long. */
export const APPLY_BATCH = 500;
/**
 * Lua calls written but not yet answered, at most: Redis applies one while the next
 * are built, and the arguments of 100,000 changes (~150 MB as strings, then again as
 * bytes on the wire) are never all in memory at once.
 */
const CALLS_IN_FLIGHT = 10;

/** Ids per pipelined read batch. */
const READ_BATCH = 2000;

export interface ApplyResult {
  created: string[];
  updated: string[];
  deleted: string[];
  /** Already in the wanted state (someone applied the same change first). */
  noop: string[];
  /** Changed by someone else since the plan was made: left alone; the next reconcile sees them. */
  conflicts: string[];
}

/** A stored entry, as `status` and `history` show it. */
export interface RegistryEntry {
  id: string;
  spec?: Schedule;
  hash: string;
  source: string;
  origin: string;
  createdAt?: number;
  updatedAt?: number;
  next: number | null;
  /** The dispatcher's state fields (lastRunAt, lastOutcome, ...), as stored. */
  state: Record<string, string>;
}

const INDEX_SEP = '\t';

function parseIndexValue(v: string): { hash: string; source: string; origin: string } {
  const a = v.indexOf(INDEX_SEP);
  const b = v.indexOf(INDEX_SEP, a + 1);
  return { hash: v.slice(0, a), source: v.slice(a + 1, b), origin: v.slice(b + 1) };
}

/** Parses a stored spec; returns undefined when it is not a valid normalised schedule. */
export function parseStoredSpec(json: string | null | undefined): Schedule | undefined {
  if (!json) return undefined;
  try {
    const r = scheduleSchema.safeParse(parseJson(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export class Registry {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    prefix = 'pyrq:',
  ) {
    this.keys = new Keys(prefix);
  }

  /** What is applied, from the index alone (one round trip). */
  async readIndex(): Promise<Map<string, ObservedEntry>> {
    const raw = await this.redis.hgetall(this.keys.index);
    const out = new Map<string, ObservedEntry>();
    for (const [id, v] of Object.entries(raw)) out.set(id, parseIndexValue(v));
    return out;
  }

  /** Index entries of just these ids (one HMGET). */
  async readIndexIds(ids: readonly string[]): Promise<Map<string, ObservedEntry>> {
    const out = new Map<string, ObservedEntry>();
    if (ids.length === 0) return out;
    const values = await this.redis.hmget(this.keys.index, ...ids);
    ids.forEach((id, i) => {
      const v = values[i];
      if (v) out.set(id, parseIndexValue(v));
    });
    return out;
  }

  /** The stored specs of `ids` (pipelined); ids whose spec is missing or invalid are absent. */
  async readSpecs(ids: readonly string[]): Promise<Map<string, Schedule>> {
    const out = new Map<string, Schedule>();
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) p.hget(this.keys.schedule(id), 'spec');
      const res = (await p.exec()) ?? [];
      batch.forEach((id, j) => {
        const spec = parseStoredSpec(res[j]?.[1] as string | null);
        if (spec) out.set(id, spec);
      });
    }
    return out;
  }

  /**
   * A deep read for the periodic re-sync: every indexed entry with its spec, checked
   * against what pyrq wrote. An entry whose hash key is gone or altered, whose spec no
   * longer hashes to its recorded hash, or which lost its next fire time, is marked
   * `drift` so the plan rewrites it.
   */
  async readDeep(now: number): Promise<Map<string, ObservedEntry>> {
    const index = await this.readIndex();
    const ids = [...index.keys()];
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) {
        p.hmget(this.keys.schedule(id), 'spec', 'hash', 'source', 'origin', 'done');
        p.zscore(this.keys.next, id);
      }
      const res = (await p.exec()) ?? [];
      batch.forEach((id, j) => {
        const entry = index.get(id)!;
        const [specJson, hash, source, origin, done] = (res[2 * j]?.[1] as (string | null)[]) ?? [];
        const score = res[2 * j + 1]?.[1] as string | null;
        // The usual case, cheaply: the stored text is exactly what pyrq wrote for this hash,
        // so it is a valid spec that hashes to it (no parse; a re-sync of 100,000 entries
        // would otherwise parse and keep every spec). The diff needs the spec only of a
        // one-shot (is its `at` being re-aimed?); updates and deletes read theirs later.
        const intact = specJson != null && specHashOfText(specJson) === entry.hash;
        const spec = intact && score != null && !specTextMayBeOneShot(specJson) ? undefined : parseStoredSpec(specJson);
        if (specJson == null) entry.drift = 'schedule key missing';
        else if (!intact && !spec) entry.drift = 'stored spec is not a valid schedule';
        else if ((!intact && specHash(spec!) !== entry.hash) || hash !== entry.hash) entry.drift = 'stored spec does not match its recorded hash';
        else if (source !== entry.source || origin !== entry.origin) entry.drift = 'stored owner does not match the index';
        else if (score == null && done !== '1' && spec && nextFireAfter(spec, now) !== null) entry.drift = 'next fire time missing';
        if (spec) entry.spec = spec;
      });
    }
    return index;
  }

  /**
   * Applies exactly `plan`: every change is a compare-and-set on the hash the plan
   * observed. Batches are pipelined, so 100,000 changes take a handful of round trips.
   */
  async applyPlan(plan: Plan, now: number): Promise<ApplyResult> {
    const result: ApplyResult = { created: [], updated: [], deleted: [], noop: [], conflicts: [] };
    const changes = plan.changes;
    if (changes.length === 0) return result;
    // Each call is serialised by pyrq (resp.ts; half the cost of ioredis's generic path)
    // and written at once, so calls are pipelined on the connection without a MULTI.
    await ensureScript(this.redis, 'apply-changes');
    const calls: Promise<number[]>[] = [];
    for (let i = 0; i < changes.length; i += APPLY_BATCH) {
      if (calls.length >= CALLS_IN_FLIGHT) await calls[calls.length - CALLS_IN_FLIGHT];
      const batch = changes.slice(i, i + APPLY_BATCH);
      const keys: string[] = [this.keys.index, this.keys.next];
      const args: (string | number)[] = [now, this.keys.events];
      for (const c of batch) {
        keys.push(this.keys.schedule(c.id), this.keys.runs(c.id));
        if (c.action === 'delete') {
          args.push('del', c.id, c.beforeHash, '', '', '', '', '');
          continue;
        }
        const spec = c.after!;
        let next = '';
        if (c.action === 'create' || c.triggerChanged) {
          const t = nextFireAfter(spec, now);
          next = t === null ? '-' : String(t);
        }
        args.push(c.repair ? 'fix' : 'put', c.id, c.beforeHash, c.afterHash!, c.source, c.origin, canonicalStringify(spec), next);
      }
      const sent = sendPrebuiltScript<number[]>(this.redis, prebuildScriptCall('apply-changes', keys, args));
      sent.catch(() => undefined); // awaited below; an early failure must not go unhandled
      calls.push(sent);
    }
    let k = 0;
    for (const codes of await Promise.all(calls)) {
      for (const code of codes) {
        const c = changes[k++]!;
        if (code === 1) result[c.action === 'create' ? 'created' : c.action === 'update' ? 'updated' : 'deleted'].push(c.id);
        else if (code === 0) result.noop.push(c.id);
        else result.conflicts.push(c.id);
      }
    }
    return result;
  }

  /** Every entry with its spec, next fire time and dispatcher state (for `status`). */
  async readEntries(ids?: readonly string[]): Promise<RegistryEntry[]> {
    const index = await this.readIndex();
    const wanted = ids ? ids.filter((id) => index.has(id)) : [...index.keys()].sort();
    const out: RegistryEntry[] = [];
    for (let i = 0; i < wanted.length; i += READ_BATCH) {
      const batch = wanted.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) {
        p.hgetall(this.keys.schedule(id));
        p.zscore(this.keys.next, id);
      }
      const res = (await p.exec()) ?? [];
      batch.forEach((id, j) => {
        const h = (res[2 * j]?.[1] as Record<string, string>) ?? {};
        const score = res[2 * j + 1]?.[1] as string | null;
        const { spec, hash, source, origin, createdAt, updatedAt, ...state } = h;
        const idx = index.get(id)!;
        out.push({
          id,
          spec: parseStoredSpec(spec),
          hash: hash ?? idx.hash,
          source: source ?? idx.source,
          origin: origin ?? idx.origin,
          createdAt: createdAt ? Number(createdAt) : undefined,
          updatedAt: updatedAt ? Number(updatedAt) : undefined,
          next: score == null ? null : Number(score),
          state,
        });
      });
    }
    return out;
  }
}
