/**
 * The outcome reader: learns what became of the jobs pyrq enqueued from RQ's own records,
 * without a loop per job. fire-batch.lua adds every enqueued job to one ZSET
 * (`pyrq:outcomes:pending`, job id -> when to look); one pass takes the due ones
 * (ZRANGEBYSCORE, at most `limit`), reads their job hashes in one pipeline (HMGET of
 * status, enqueued_at, started_at, ended_at, exc_info; for a failure without exc_info, the newest
 * entry of its results stream), and records the batch in one script call
 * (record-outcomes.lua): a final outcome once, a job still waiting looked at again
 * later (after half its age, 1 to 60 s). Three round trips per batch, whatever its size.
 *
 * Why not RQ's finished/failed registries: they are per queue and scored by expiry
 * (end + TTL), which is not monotonic when TTLs differ, so no cursor over them is sure
 * to see every job; and a job whose TTL ran out leaves them too. The pending set is
 * pyrq's own and holds exactly pyrq's jobs: a job whose hash is gone when it is read is
 * `unknown`, never `finished`.
 */
import { inflateSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { type Keys, RqKeys } from '../redis/keys.js';
import { type OutcomeUpdate, recordOutcomes } from '../redis/commands/record-outcomes.js';
import { type JobRecord, nextLookMs, observeOutcome, parseRqTime } from '../rq/job-outcome.js';

/** Jobs per pass at most (one pipeline and one script call). */
export const OUTCOME_BATCH = 1000;

export interface OutcomePass {
  /** Jobs looked at. */
  read: number;
  /** Final outcomes recorded (each job's once). */
  applied: number;
  /** Job ids that are not pyrq's (dropped from the set). */
  foreign: number;
  /** The final outcomes of this pass, for the caller's counters. */
  outcomes: { outcome: string; endedAt: number | null }[];
}

/** Zlib text of RQ (exc_info, a results stream's exc_string after base64); null when it is not. */
function inflateText(b: Buffer | null): string | null {
  if (!b || b.length === 0) return null;
  try {
    return inflateSync(b).toString('utf8');
  } catch {
    return b.toString('utf8'); // RQ stores it plain when it could not compress (job.py's fallback)
  }
}

/** One pass over the due jobs (at most `limit`), as of `now` (epoch ms). */
export async function readOutcomesOnce(
  redis: Redis,
  keys: Keys,
  now: number,
  limit = OUTCOME_BATCH,
): Promise<OutcomePass> {
  const ids = await redis.zrangebyscore(keys.outcomesPending, '-inf', now, 'LIMIT', 0, limit);
  const pass: OutcomePass = { read: ids.length, applied: 0, foreign: 0, outcomes: [] };
  if (ids.length === 0) return pass;
  const p = redis.pipeline();
  for (const id of ids) p.hmgetBuffer(RqKeys.job(id), 'status', 'enqueued_at', 'started_at', 'ended_at', 'exc_info');
  const res = (await p.exec()) ?? [];
  const records = ids.map((_id, i): JobRecord => {
    const [err, v] = res[i] ?? [];
    if (err) throw err;
    const [status, enqueued, started, ended, exc] = v as (Buffer | null)[];
    return {
      exists: status !== null || enqueued !== null || started !== null || ended !== null,
      status: status?.toString() ?? null,
      enqueuedAt: enqueued?.toString() ?? null,
      startedAt: started?.toString() ?? null,
      endedAt: ended?.toString() ?? null,
      excText: inflateText(exc ?? null),
    };
  });
  // A failure's text lives in its results stream on RQ >= 1.12 with Redis >= 5.
  const withoutText = ids.flatMap((_id, i) => {
    const r = records[i]!;
    return (r.status === 'failed' || r.status === 'stopped') && r.excText === null ? [i] : [];
  });
  if (withoutText.length > 0) {
    const q = redis.pipeline();
    for (const i of withoutText) q.xrevrange(RqKeys.results(ids[i]!), '+', '-', 'COUNT', 1);
    const streams = (await q.exec()) ?? [];
    withoutText.forEach((i, j) => {
      const entries = (streams[j]?.[1] ?? []) as [string, string[]][];
      const fields = entries[0]?.[1] ?? [];
      const at = fields.indexOf('exc_string');
      if (at >= 0 && at % 2 === 0) records[i]!.excText = inflateText(Buffer.from(fields[at + 1] ?? '', 'base64'));
    });
  }
  const updates: OutcomeUpdate[] = [];
  const foreign: string[] = [];
  ids.forEach((id, i) => {
    const observed = observeOutcome(id, records[i]!);
    if (!observed) foreign.push(id);
    else updates.push({ observed, nextLookAt: nextLookMs(now, parseRqTime(records[i]!.enqueuedAt) ?? observed.runAt) });
  });
  if (foreign.length > 0) await redis.zrem(keys.outcomesPending, ...foreign);
  pass.foreign = foreign.length;
  pass.applied = await recordOutcomes(redis, keys, updates, now);
  for (const u of updates)
    if (u.observed.outcome !== 'queued' && u.observed.outcome !== 'started')
      pass.outcomes.push({ outcome: u.observed.outcome, endedAt: u.observed.endedAt });
  return pass;
}
