/**
 * RQ job ids for pyrq's jobs. They matter for exactly-once firing: the id of a scheduled
 * job is a pure function of (schedule id, occurrence), so a retried or raced fire finds
 * the job it would create already there, and two occurrences never share an id
 * (rq-scheduler reuses one job id per schedule and loses runs that way).
 *
 * Alphabet: `[A-Za-z0-9_-]` only. RQ 2.1 rejects `:` in job ids (its changelog; `:`
 * separates a job id from an execution id there) and recent 2.x validates every id with
 * `JOB_ID_PATTERN = [A-Za-z0-9_-]+` (fullmatch) in `Job.__init__`, so even `Job.fetch`
 * of a bad id raises, in the worker. RQ 1.x accepts anything; the safe alphabet is used
 * for every version.
 *
 * Layout:
 * - scheduled: `pyrq_<escaped id>_<YYYYMMDDTHHMMSSZ>` (the occurrence, UTC, whole seconds)
 * - manual:    `pyrq_<escaped id>_manual-<YYYYMMDDTHHMMSSmmmZ>-<8 hex>`
 *
 * Schedule ids may contain `.` and `_`; they are escaped (`_` -> `__`, `.` -> `_o`) so the
 * mapping is injective: the last `_` always separates the escaped id from the suffix
 * (neither suffix contains `_`), and the escape is prefix-free, so the id decodes back
 * unambiguously. A scheduled suffix starts with a digit, a manual one with `m`, so the
 * two schemes can never collide.
 */

export const JOB_ID_RE = /^[A-Za-z0-9_-]+$/;
const PREFIX = 'pyrq_';

/** `_` -> `__`, `.` -> `_o`; other id characters (`[A-Za-z0-9-]`) are kept. */
export function escapeScheduleId(id: string): string {
  return id.replace(/[_.]/g, (c) => (c === '_' ? '__' : '_o'));
}

export function unescapeScheduleId(escaped: string): string {
  return escaped.replace(/_(.)/g, (_m, c: string) => (c === '_' ? '_' : '.'));
}

/** `20260301T020000Z`: compact ISO 8601 basic format, no `:` or `.` (not allowed in ids). */
function compactTime(ms: number, withMillis: boolean): string {
  const iso = new Date(ms).toISOString(); // 2026-03-01T02:00:00.000Z
  const base = iso.slice(0, 19).replace(/[-:]/g, '');
  return withMillis ? `${base}${iso.slice(20, 23)}Z` : `${base}Z`;
}

// Thousands of schedules share an occurrence; format it once.
let lastOccurrence = NaN;
let lastCompact = '';

/** The job id of one scheduled occurrence (deterministic). */
export function scheduledJobId(scheduleId: string, occurrenceMs: number): string {
  if (occurrenceMs !== lastOccurrence) {
    lastCompact = compactTime(occurrenceMs, false);
    lastOccurrence = occurrenceMs;
  }
  return `${PREFIX}${escapeScheduleId(scheduleId)}_${lastCompact}`;
}

/** The job id of a manual run: the time plus randomness, so two triggers in one millisecond differ. */
export function manualJobId(scheduleId: string, nowMs: number, random: string): string {
  if (!/^[0-9a-f]{8}$/.test(random))
    throw new Error(`manualJobId: random part must be 8 hex digits, got ${JSON.stringify(random)}`);
  return `${PREFIX}${escapeScheduleId(scheduleId)}_manual-${compactTime(nowMs, true)}-${random}`;
}

export interface ParsedJobId {
  scheduleId: string;
  kind: 'scheduled' | 'manual';
  /** Epoch ms: the occurrence (scheduled) or the trigger time (manual). */
  time: number;
}

/** Reads a pyrq job id back; null for ids pyrq did not make. */
export function parseJobId(jobId: string): ParsedJobId | null {
  if (!jobId.startsWith(PREFIX) || !JOB_ID_RE.test(jobId)) return null;
  const sep = jobId.lastIndexOf('_');
  if (sep < PREFIX.length) return null;
  const escaped = jobId.slice(PREFIX.length, sep);
  if (!/^(?:[A-Za-z0-9-]|__|_o)+$/.test(escaped)) return null;
  const suffix = jobId.slice(sep + 1);
  let m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(suffix);
  if (m)
    return {
      scheduleId: unescapeScheduleId(escaped),
      kind: 'scheduled',
      time: Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!),
    };
  m = /^manual-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]{8}$/.exec(suffix);
  if (m)
    return {
      scheduleId: unescapeScheduleId(escaped),
      kind: 'manual',
      time: Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!),
    };
  return null;
}
