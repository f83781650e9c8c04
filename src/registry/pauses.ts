/**
 * Pauses: an operator's override stored in Redis (`pyrq:paused`, id -> JSON {since,
 * reason}), not a source edit. A pause survives reconciles, deep re-syncs, updates of
 * the schedule and daemon restarts (none of them touches the key); `apply-changes.lua`
 * removes it with its schedule. While a schedule is paused the dispatcher records each
 * due occurrence as `skipped:paused` instead of enqueuing it, and moves on; resuming
 * continues from the next occurrence. This module is the one reader and writer of the
 * key besides that removal. `pyrq pause`/`resume` and the socket ops call it, with or
 * without a daemon.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { parseRunRecord } from '../dispatch/run-record.js';

export interface Pause {
  /** When it was paused (epoch ms). */
  since: number;
  reason?: string;
}

export interface PauseOutcome {
  /** Paused now. */
  paused: string[];
  /** Paused already (its first pause and reason are kept). */
  already: string[];
  /** Not in the registry: nothing done. */
  missing: string[];
}

export interface ResumeOutcome {
  resumed: string[];
  /** Not paused: nothing done. */
  notPaused: string[];
}

function parsePause(json: string | null | undefined): Pause | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as Pause;
    return typeof v.since === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Pauses `ids` (every applied schedule when `ids` is 'all'); announces the change so dispatchers re-plan. */
export async function pauseSchedules(
  redis: Redis,
  keys: Keys,
  ids: readonly string[] | 'all',
  opts: { now: number; reason?: string },
): Promise<PauseOutcome> {
  const wanted = ids === 'all' ? await redis.hkeys(keys.index) : [...new Set(ids)];
  const out: PauseOutcome = { paused: [], already: [], missing: [] };
  if (wanted.length === 0) return out;
  const [present, current] = await Promise.all([
    redis.hmget(keys.index, ...wanted),
    redis.hmget(keys.paused, ...wanted),
  ]);
  const value = JSON.stringify({ since: opts.now, ...(opts.reason ? { reason: opts.reason } : {}) });
  const fields: string[] = [];
  wanted.forEach((id, i) => {
    if (present[i] == null) out.missing.push(id);
    else if (parsePause(current[i])) out.already.push(id);
    else {
      out.paused.push(id);
      fields.push(id, value);
    }
  });
  if (fields.length > 0) {
    await redis.hset(keys.paused, ...fields);
    await redis.publish(keys.events, 'changed');
  }
  return out;
}

/**
 * Resumes `ids` (every paused schedule when 'all'). The next occurrence fires as usual.
 * `catchup`: the stored next fire time goes back to the oldest occurrence this pause
 * skipped (its skipped:paused records; never forward, only for schedules that still
 * fire), so the dispatcher handles them by the schedule's catch-up policy; the records
 * stay in the history, and an occurrence is still enqueued at most once.
 */
export async function resumeSchedules(
  redis: Redis,
  keys: Keys,
  ids: readonly string[] | 'all',
  opts: { catchup?: boolean; historyLength?: number } = {},
): Promise<ResumeOutcome> {
  const wanted = ids === 'all' ? await redis.hkeys(keys.paused) : [...new Set(ids)];
  const out: ResumeOutcome = { resumed: [], notPaused: [] };
  if (wanted.length === 0) return out;
  const current = await redis.hmget(keys.paused, ...wanted);
  wanted.forEach((id, i) => (current[i] != null ? out.resumed : out.notPaused).push(id));
  if (out.resumed.length > 0) {
    if (opts.catchup) {
      for (const id of out.resumed) {
        const pause = parsePause(current[wanted.indexOf(id)]);
        if (!pause) continue;
        // The occurrences this pause skipped: skipped:paused records handled since it began
        // (among the newest historyLength: a list may hold a few more until it is trimmed).
        let first: number | undefined;
        for (const text of await redis.lrange(keys.runs(id), 0, (opts.historyLength ?? 0) - 1)) {
          const r = parseRunRecord(text);
          if (r?.outcome === 'skipped:paused' && r.at >= pause.since && (first === undefined || r.occurrence < first))
            first = r.occurrence;
        }
        // XX LT: only a schedule still in the fire set, and only back in time.
        if (first !== undefined) await redis.zadd(keys.next, 'XX', 'LT', first, id);
      }
    }
    await redis.hdel(keys.paused, ...out.resumed);
    await redis.publish(keys.events, 'changed');
  }
  return out;
}

/** The pauses of `ids` (all pauses when omitted). */
export async function readPauses(redis: Redis, keys: Keys, ids?: readonly string[]): Promise<Map<string, Pause>> {
  const out = new Map<string, Pause>();
  if (ids === undefined) {
    for (const [id, v] of Object.entries(await redis.hgetall(keys.paused))) {
      const p = parsePause(v);
      if (p) out.set(id, p);
    }
    return out;
  }
  if (ids.length === 0) return out;
  const values = await redis.hmget(keys.paused, ...ids);
  ids.forEach((id, i) => {
    const p = parsePause(values[i]);
    if (p) out.set(id, p);
  });
  return out;
}

/** Which of `ids` are paused (the dispatcher's check before it builds a fire batch): one HLEN when none is. */
export async function pausedAmong(redis: Redis, keys: Keys, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0 || (await redis.hlen(keys.paused)) === 0) return new Set();
  return new Set((await readPauses(redis, keys, ids)).keys());
}
