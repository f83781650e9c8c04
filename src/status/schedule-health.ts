/**
 * Is a schedule healthy? From the outcomes the outcome reader recorded in its HASH
 * (record-outcomes.lua) and its spec. Pure: the caller passes the time.
 *
 * - **failing**: its last `failAfter` jobs (default 3) failed, one after the other
 *   (`consecutiveFailures`; a finished job resets it; stopped, canceled and unknown
 *   leave it as it is).
 * - **overdue**: no job of it has finished since too long. With `alertAfter` (seconds):
 *   longer than that since the last success, or since its first job when none has
 *   succeeded yet. Without: two occurrences have passed since then, plus the job's
 *   `timeout` (its longest run) as grace: a schedule that runs every 5 minutes with the
 *   default timeout is overdue 13 minutes after its last success; a daily one after two
 *   days and 3 minutes; a weekdays-only cron after two weekdays, whatever the weekend.
 *   A schedule that never fired, a disabled, paused or finished one, and a one-shot
 *   (no second occurrence) are never overdue by default.
 */
import type { Schedule } from '../model/schedule-schema.js';
import { nextFireAfter, type TriggerSpec } from '../schedule/next-fire.js';
import { pickTriggerSpec } from '../schedule/triggers/index.js';

/** What health needs of a spec: when it fires, its timeout, `failAfter` and `alertAfter`. */
export type HealthSpec = TriggerSpec & Pick<Schedule, 'timeout' | 'failAfter' | 'alertAfter'>;

/** Just the fields of `s` that health needs, for a holder of many (the metrics' counter). */
export function pickHealthSpec(s: Schedule): HealthSpec {
  const out: HealthSpec = { ...pickTriggerSpec(s), timeout: s.timeout };
  if (s.failAfter !== undefined) out.failAfter = s.failAfter;
  if (s.alertAfter !== undefined) out.alertAfter = s.alertAfter;
  return out;
}

/** `failAfter` when the schedule does not say. */
export const DEFAULT_FAIL_AFTER = 3;

/** The HASH fields the outcome reader writes, as stored (strings). */
export interface OutcomeFields {
  jobOutcome?: string;
  jobOutcomeAt?: string;
  jobOutcomeJobId?: string;
  jobDurationMs?: string;
  failureSummary?: string;
  lastSuccessAt?: string;
  consecutiveFailures?: string;
  firstRunAt?: string;
  /** The last final outcomes, one letter each, oldest first (record-outcomes.lua). */
  recentOutcomes?: string;
}

/** The letters of `recentOutcomes`. */
export const OUTCOME_LETTERS: Record<string, string> = {
  s: 'finished',
  f: 'failed',
  x: 'stopped',
  c: 'canceled',
  u: 'unknown',
};

export interface ScheduleHealth {
  /** The last job's outcome (finished, failed, stopped, canceled, unknown); null before the first is known. */
  outcome: string | null;
  /** When that outcome happened (its ended_at, or when pyrq learnt it), epoch ms. */
  outcomeAt: number | null;
  outcomeJobId: string | null;
  durationMs: number | null;
  /** The last failure's "ExceptionType: message" (bounded). */
  failure: string | null;
  lastSuccessAt: number | null;
  consecutiveFailures: number;
  failing: boolean;
  overdue: boolean;
  /** Since when it is overdue (epoch ms), while it is. */
  overdueSince: number | null;
  /** The last final outcomes, oldest first (at most 20). */
  recent: string[];
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/**
 * When a schedule last known good at `since` becomes overdue (epoch ms); null: never
 * (no alertAfter and fewer than two occurrences ahead).
 */
export function overdueAt(spec: HealthSpec, since: number): number | null {
  if (spec.alertAfter !== undefined) return since + spec.alertAfter * 1000;
  const first = nextFireAfter(spec, since);
  const second = first === null ? null : nextFireAfter(spec, first);
  return second === null ? null : second + spec.timeout * 1000;
}

/** The health of one schedule; `active`: enabled, not paused, not done (only those can be overdue). */
export function scheduleHealth(
  spec: HealthSpec | null,
  f: OutcomeFields,
  now: number,
  active: boolean,
): ScheduleHealth {
  const consecutiveFailures = num(f.consecutiveFailures) ?? 0;
  const lastSuccessAt = num(f.lastSuccessAt);
  const since = lastSuccessAt ?? num(f.firstRunAt);
  const due = spec && active && since !== null ? overdueAt(spec, since) : null;
  const overdue = due !== null && now > due;
  return {
    outcome: f.jobOutcome || null,
    outcomeAt: num(f.jobOutcomeAt),
    outcomeJobId: f.jobOutcomeJobId || null,
    durationMs: num(f.jobDurationMs),
    failure: f.jobOutcome === 'failed' || f.jobOutcome === 'stopped' ? f.failureSummary || null : null,
    lastSuccessAt,
    consecutiveFailures,
    failing: consecutiveFailures >= (spec?.failAfter ?? DEFAULT_FAIL_AFTER),
    overdue,
    overdueSince: overdue ? due : null,
    recent: [...(f.recentOutcomes ?? '')].map((c) => OUTCOME_LETTERS[c] ?? 'unknown'),
  };
}
