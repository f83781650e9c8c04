/**
 * The `status` view of registry entries: one row per schedule, as data (`--json`, the
 * daemon's socket reply). Pure: the caller passes the entries and the time. The table
 * is `cli/render/status.ts`.
 */
import type { Pause } from '../registry/pauses.js';
import type { RegistryEntry } from '../registry/registry-port.js';
import { describeTrigger, isOneShot } from '../schedule/triggers/index.js';
import { formatDuration } from '../model/duration.js';
import { describeRetry } from '../model/retry.js';
import { occurrenceAt } from '../schedule/jitter.js';
import { scheduleHealth } from './schedule-health.js';

export interface StatusRow {
  id: string;
  trigger: string;
  cron?: string;
  every?: number;
  at?: string;
  timezone: string;
  queue: string;
  target: string;
  function: string;
  enabled: boolean;
  /** The overlap policy (allow, forbid, buffer-one, replace); '' when the spec is unreadable. */
  overlap: string;
  /** ISO time of the next fire, null when none (disabled, finished, ended). */
  next: string | null;
  /** Human form: "in 3h 12m", "overdue 4s". */
  nextRelative: string;
  source: string;
  origin: string;
  lastRun: string | null;
  lastOutcome: string | null;
  lastLatenessMs: number | null;
  lastJobId: string | null;
  done: boolean;
  /** Present while the schedule is paused (`pyrq pause`): since when (ISO) and why. */
  paused?: { since: string; reason: string | null };
  // Retries, jitter and bounded runs (docs/firing.md); absent when the schedule has none.
  /** RQ retries of a failed job, in words: "2 retries, after 10s, 1m". */
  retry?: string;
  /** Jitter window, seconds. */
  jitter?: number;
  /** With jitter: the occurrence (ISO) that `next` fires; `next` is it plus its delay. */
  nextOccurrence?: string;
  /** `times`: the limit, and how many scheduled jobs were enqueued so far. */
  times?: { limit: number; fired: number };
  /**
   * What became of its last job, as RQ recorded it (docs/observability.md): finished,
   * failed, stopped, canceled or unknown (RQ deleted the job before pyrq read it); null
   * before the first outcome is known.
   */
  jobOutcome: string | null;
  /** When the job ended (ISO), or when pyrq learnt an outcome without an end time. */
  jobOutcomeAt: string | null;
  jobOutcomeJobId: string | null;
  jobDurationMs: number | null;
  /** The last job failed or was stopped: "ExceptionType: message", at most 200 characters. */
  failure: string | null;
  /** When a job of it last finished successfully (ISO). */
  lastSuccess: string | null;
  consecutiveFailures: number;
  /** `consecutiveFailures` reached `failAfter` (default 3). */
  failing: boolean;
  /** No success within `alertAfter` (default: two occurrences plus the job timeout). */
  overdue: boolean;
}

export function relativeTime(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  let text: string;
  if (s < 60) text = `${s}s`;
  else if (s < 3600) text = `${Math.floor(s / 60)}m ${s % 60}s`;
  else if (s < 86400) text = `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  else text = `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  return ms >= 0 ? `in ${text}` : `overdue ${text}`;
}

/**
 * The job of the schedule's last run: none when that run was skipped. The stored
 * `lastJobId` is the last job *enqueued* (overlap "forbid" checks it, so a skip must not
 * clear it); shown beside a skipped run it would name another run's job.
 */
export function lastRunJobId(state: Readonly<Record<string, string | undefined>>): string | null {
  if (state.lastOutcome?.startsWith('skipped')) return null;
  return state.lastJobId ?? null;
}

export function statusRow(e: RegistryEntry, now: number, pause?: Pause): StatusRow {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const active = e.spec?.enabled === true && e.state.done !== '1' && !pause;
  const h = scheduleHealth(e.spec ?? null, e.state, now, active);
  const row: StatusRow = {
    ...statusRowOf(e, now),
    jobOutcome: h.outcome,
    jobOutcomeAt: iso(h.outcomeAt),
    jobOutcomeJobId: h.outcomeJobId,
    jobDurationMs: h.durationMs,
    failure: h.failure,
    lastSuccess: iso(h.lastSuccessAt),
    consecutiveFailures: h.consecutiveFailures,
    failing: h.failing,
    overdue: h.overdue,
  };
  if (pause) row.paused = { since: new Date(pause.since).toISOString(), reason: pause.reason ?? null };
  return row;
}

/** The fields of a row that come from the spec and the dispatcher's state. */
type FireFields = Omit<
  StatusRow,
  | 'paused'
  | 'jobOutcome'
  | 'jobOutcomeAt'
  | 'jobOutcomeJobId'
  | 'jobDurationMs'
  | 'failure'
  | 'lastSuccess'
  | 'consecutiveFailures'
  | 'failing'
  | 'overdue'
>;

function statusRowOf(e: RegistryEntry, now: number): FireFields {
  const s = e.spec;
  const lastRunAt = e.state.lastRunAt ? Number(e.state.lastRunAt) : null;
  return {
    id: e.id,
    trigger: s ? describeTrigger(s) : '(unreadable spec)',
    cron: s?.cron,
    every: s?.every,
    at: s?.at,
    timezone: s?.timezone ?? '',
    queue: s?.queue ?? '',
    target: s?.target ?? '',
    function: s?.function ?? '',
    enabled: s?.enabled ?? false,
    overlap: s?.overlap ?? '',
    next: e.next === null ? null : new Date(e.next).toISOString(),
    nextRelative:
      e.next === null
        ? e.state.done === '1'
          ? s?.times !== undefined && !isOneShot(s)
            ? `done (${e.state.fired ?? 0} of ${s.times} runs)`
            : 'done'
          : s?.enabled === false
            ? 'disabled'
            : 'none'
        : s?.jitter
          ? `${relativeTime(e.next - now)} (+${formatDuration((e.next - occurrenceAt(s, e.next)) / 1000)} jitter)`
          : relativeTime(e.next - now),
    source: e.source,
    origin: e.origin,
    lastRun: lastRunAt === null ? null : new Date(lastRunAt).toISOString(),
    lastOutcome: e.state.lastOutcome ?? null,
    lastLatenessMs: e.state.lastLatenessMs ? Number(e.state.lastLatenessMs) : null,
    lastJobId: lastRunJobId(e.state),
    done: e.state.done === '1',
    ...boundsOf(e),
  };
}

/** The row's retry, jitter and `times` fields (absent when the schedule has none). */
function boundsOf(e: RegistryEntry): Pick<StatusRow, 'retry' | 'jitter' | 'nextOccurrence' | 'times'> {
  const s = e.spec;
  if (!s) return {};
  const out: Pick<StatusRow, 'retry' | 'jitter' | 'nextOccurrence' | 'times'> = {};
  if (s.retry) out.retry = describeRetry(s.retry);
  if (s.jitter) {
    out.jitter = s.jitter;
    if (e.next !== null) out.nextOccurrence = new Date(occurrenceAt(s, e.next)).toISOString();
  }
  if (s.times !== undefined) out.times = { limit: s.times, fired: Number(e.state.fired ?? 0) };
  return out;
}
