/**
 * What became of one RQ job, from RQ's own records: the job hash's `status`,
 * `started_at` and `ended_at`, and the exception text of a failure (RQ >= 1.12 on Redis
 * >= 5 keeps it in the job's results stream, older ones in the hash's `exc_info`).
 * Pure: the reader (src/dispatch/outcome-reader.ts) fetches and decompresses, this
 * module decides.
 *
 * A job whose hash is gone is `unknown`: RQ deletes a job after its result or failure
 * TTL, and pyrq cannot tell then whether it finished, failed, or was deleted by hand. It
 * is never guessed to be `finished`.
 */
import { cut } from '../model/excerpt.js';
import { parseJobId } from './job-id.js';

/** The outcomes pyrq reports; `queued` and `started` are not final (the reader looks again). */
export const JOB_OUTCOMES = ['finished', 'failed', 'stopped', 'canceled', 'queued', 'started', 'unknown'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];
/** Final outcomes: the job will not change any more. */
export type FinalOutcome = Exclude<JobOutcome, 'queued' | 'started'>;

/** The most characters of a failure summary (exception type and message). */
export const FAILURE_SUMMARY_CHARS = 200;

/** The fields the reader fetches of `rq:job:<id>` (null: absent; `exists` false: no hash at all). */
export interface JobRecord {
  exists: boolean;
  status: string | null;
  /** RQ's `enqueued_at`: a job still waiting is looked at again after half the time since. */
  enqueuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** The exception text (traceback) of a failure, decompressed; null when none was found. */
  excText: string | null;
}

export interface ObservedOutcome {
  jobId: string;
  scheduleId: string;
  /** The job's occurrence (scheduled) or trigger time (manual), from its id: orders outcomes. */
  runAt: number;
  outcome: JobOutcome;
  /** When the job ended (RQ's `ended_at`), epoch ms; null when RQ did not record it. */
  endedAt: number | null;
  /** `ended_at - started_at`, ms; null unless both are known. */
  durationMs: number | null;
  /** Failed or stopped: "ExceptionType: message", at most FAILURE_SUMMARY_CHARS characters. */
  failure: string | null;
}

export function isFinal(o: JobOutcome): o is FinalOutcome {
  return o !== 'queued' && o !== 'started';
}

/** RQ's time format (`utcformat`: `2026-06-01T04:00:00.123456Z`; RQ < 1.x without fraction) to epoch ms. */
export function parseRqTime(text: string | null): number | null {
  if (!text) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z?$/.exec(text);
  if (!m) return null;
  const ms = m[7] ? Math.floor(Number(m[7].padEnd(6, '0')) / 1000) : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms);
}

/**
 * The exception of a Python traceback, one line: its last non-blank line
 * (`ValueError: boom`, `rq.timeouts.JobTimeoutException: Task exceeded ...`), cut to
 * FAILURE_SUMMARY_CHARS characters; the first line when none looks like an exception.
 */
export function failureSummary(excText: string | null): string | null {
  if (excText === null) return null;
  const lines = excText
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  // eslint-disable-next-line no-control-regex
  const text = lines[lines.length - 1]!.trim().replace(/[\u0000-\u001f\u007f]/g, ' ');
  return cut(text, FAILURE_SUMMARY_CHARS);
}

/** RQ's statuses mapped onto pyrq's outcomes; statuses that are still waiting (deferred, scheduled) read `queued`. */
function outcomeOfStatus(status: string | null): JobOutcome {
  switch (status) {
    case 'finished':
    case 'failed':
    case 'stopped':
    case 'canceled':
    case 'started':
    case 'queued':
      return status;
    default:
      return 'queued'; // deferred, scheduled, created (RQ 2.x) or not yet written
  }
}

/** The outcome of `jobId` from its record; null for a job id pyrq did not make (not tracked). */
export function observeOutcome(jobId: string, rec: JobRecord): ObservedOutcome | null {
  const parsed = parseJobId(jobId);
  if (!parsed) return null;
  const base = { jobId, scheduleId: parsed.scheduleId, runAt: parsed.time };
  if (!rec.exists) return { ...base, outcome: 'unknown', endedAt: null, durationMs: null, failure: null };
  const outcome = outcomeOfStatus(rec.status);
  const started = parseRqTime(rec.startedAt);
  const ended = isFinal(outcome) ? parseRqTime(rec.endedAt) : null;
  return {
    ...base,
    outcome,
    endedAt: ended,
    durationMs: started !== null && ended !== null ? Math.max(0, ended - started) : null,
    failure: outcome === 'failed' || outcome === 'stopped' ? failureSummary(rec.excText) : null,
  };
}

/** When to look again at a job still queued or started: half the time since it was enqueued, between 1 s and 60 s. */
export function nextLookMs(now: number, enqueuedAt: number): number {
  return now + Math.min(60_000, Math.max(1_000, Math.floor((now - enqueuedAt) / 2)));
}
