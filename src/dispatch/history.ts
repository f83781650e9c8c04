/**
 * Run history: the last runs of a schedule (`pyrq:runs:<id>`), each with its job's
 * current RQ status read from `rq:job:<id>` (queued, started, finished, failed, ...;
 * `expired` once RQ has deleted the job after its result or failure TTL).
 */
import type { Redis } from 'ioredis';
import { type Keys, RqKeys } from '../redis/keys.js';
import { parseRunRecord, type RunRecord } from './run-record.js';

/** One run as `pyrq history --json` shows it (times ISO 8601 UTC). */
export interface HistoryRow {
  occurrence: string;
  at: string;
  latenessMs: number;
  trigger: RunRecord['trigger'];
  outcome: RunRecord['outcome'];
  jobId: string | null;
  /** The job's status in RQ now; `expired` when its key is gone; null when no job was made. */
  jobStatus: string | null;
  /** The job's final outcome as the outcome reader recorded it (it outlives RQ's TTLs); null before. */
  result?: string | null;
  durationMs?: number | null;
  /** A failed job's "ExceptionType: message". */
  error?: string | null;
  previousJobId?: string;
  /** Overlap replace: the job stopped or cancelled for this one. */
  replacedJobId?: string;
  /** Aggregate of missed occurrences: up to this time (exclusive). */
  until?: string;
  count?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The newest `limit` runs of schedule `id`, newest first. `historyLength`
 * (`dispatch.historyLength`): how many runs the registry keeps; the fire script trims a
 * list only once it holds a fifth more than that, so no more than that many are read.
 */
export async function readHistory(
  redis: Redis,
  keys: Keys,
  id: string,
  limit: number,
  historyLength = Infinity,
): Promise<HistoryRow[]> {
  const raw = await redis.lrange(keys.runs(id), 0, Math.max(Math.min(limit, historyLength), 1) - 1);
  const records = raw.map(parseRunRecord).filter((r): r is RunRecord => r !== null);
  const withJob = records.filter((r) => r.jobId !== undefined);
  const p = redis.pipeline();
  for (const r of withJob) p.hget(RqKeys.job(r.jobId!), 'status');
  const res = withJob.length > 0 ? ((await p.exec()) ?? []) : [];
  const status = new Map<string, string>();
  withJob.forEach((r, i) => {
    const [err, v] = res[i] ?? [];
    if (err) throw err;
    status.set(r.jobId!, (v as string | null) ?? 'expired');
  });
  return records.map((r) => {
    const row: HistoryRow = {
      occurrence: iso(r.occurrence),
      at: iso(r.at),
      latenessMs: r.latenessMs,
      trigger: r.trigger,
      outcome: r.outcome,
      jobId: r.jobId ?? null,
      jobStatus: r.jobId !== undefined ? (status.get(r.jobId) ?? null) : null,
      result: r.result ?? null,
      durationMs: r.durationMs ?? null,
      error: r.error ?? null,
    };
    if (r.previousJobId !== undefined) row.previousJobId = r.previousJobId;
    if (r.replacedJobId !== undefined) row.replacedJobId = r.replacedJobId;
    if (r.until !== undefined) row.until = iso(r.until);
    if (r.count !== undefined) row.count = r.count;
    return row;
  });
}
