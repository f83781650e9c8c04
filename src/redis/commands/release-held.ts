/**
 * The typed wrapper of `release-held.lua`, and the reader of what it releases: the
 * occurrences overlap buffer-one schedules hold (`Keys.held`, written by
 * fire-batch.lua). The only module that knows the held value's layout and the script's
 * KEYS, ARGV and reply codes.
 */
import type { Redis } from 'ioredis';
import { rqTimestamp } from '../../rq/job-encoding.js';
import { type Keys, RqKeys } from '../keys.js';
import { runScript } from '../scripts.js';
import { asFenced, fenceTail } from './fence.js';

/** One held occurrence: its job (written, status deferred) waits for `prevJobId` to end. */
export interface HeldOccurrence {
  id: string;
  jobId: string;
  queue: string;
  prevJobId: string;
  occurrence: number;
  /** The stored value, as read (the script's compare-and-set). */
  value: string;
}

export type ReleaseOutcome = 'released' | 'held' | 'changed' | 'dropped';

const CODES: Record<number, ReleaseOutcome> = { 1: 'released', 0: 'held', [-1]: 'changed', 2: 'dropped' };

/** Parses a held value (`<jobId>\t<queue>\t<previous job id>\t<occurrence ms>`); null when it is not one. */
export function parseHeld(id: string, value: string): HeldOccurrence | null {
  const [jobId, queue, prevJobId, occ] = value.split('\t');
  const occurrence = Number(occ);
  if (!jobId || !queue || prevJobId === undefined || !Number.isFinite(occurrence)) return null;
  return { id, jobId, queue, prevJobId, occurrence, value };
}

/** Every held occurrence (one HGETALL; the HASH is empty unless a buffer-one schedule holds one). */
export async function readHeld(redis: Redis, keys: Keys): Promise<HeldOccurrence[]> {
  const all = await redis.hgetall(keys.held);
  const out: HeldOccurrence[] = [];
  for (const [id, value] of Object.entries(all)) {
    const h = parseHeld(id, value);
    if (h) out.push(h);
  }
  return out;
}

/**
 * Releases the held occurrences whose previous job has ended (one script call); one
 * outcome per entry, in order.
 */
export async function releaseHeld(
  redis: Redis,
  keys: Keys,
  held: readonly HeldOccurrence[],
  opts: { historyLength: number; at: number; fence?: string },
): Promise<ReleaseOutcome[]> {
  if (held.length === 0) return [];
  const k: string[] = [keys.held, RqKeys.queues, keys.paused];
  const a: (string | number)[] = [opts.historyLength, held.length, opts.at, rqTimestamp(opts.at)];
  for (const h of held) {
    k.push(
      keys.schedule(h.id),
      keys.runs(h.id),
      // No previous job: the schedule HASH stands in (it has no status: counts as ended).
      h.prevJobId ? RqKeys.job(h.prevJobId) : keys.schedule(h.id),
      RqKeys.job(h.jobId),
      RqKeys.queue(h.queue),
    );
    a.push(h.id, h.value, h.occurrence);
  }
  const tail = fenceTail(keys.leader, opts.fence);
  k.push(tail.key);
  a.push(tail.arg);
  const codes = await runScript<number[]>(redis, 'release-held', k, a).catch(asFenced('release-held'));
  return codes.map((c) => {
    const o = CODES[c];
    if (!o) throw new Error(`release-held.lua: unknown reply code ${c}`);
    return o;
  });
}
