/**
 * The schedule model: the one schema that file, MySQL and socket input is checked
 * against. TypeScript types are derived from it (`ScheduleInput`, `Schedule`) and the
 * JSON Schema shipped in `schema/schedule.schema.json` is generated from it
 * (`scripts/write-json-schema.ts`), so the three can never drift apart.
 *
 * Two shapes:
 * - `scheduleInputSchema`: what a person writes. Shapes and types only; the semantic
 *   checks (cron syntax, timezone names, one trigger, durations) live in `normalize.ts`
 *   because they need the config's defaults and produce better messages there.
 *
 * The trigger fields (`cron`, `every`, `at`) are not listed here: each trigger kind owns
 * its field's shapes (`src/schedule/triggers/`), and both schemas spread the table's.
 * - `scheduleSchema`: the normalised form stored in the registry and hashed. Defaults
 *   filled in, durations in seconds, timestamps in canonical UTC.
 */
import { SETTINGS } from '../config/settings.js';
import { z } from 'zod';
import { triggerInputShape, triggerStoredShape } from '../schedule/triggers/schemas.js';
import { DST_RULES } from '../schedule/triggers/kind.js';
import { durationInput, timestampInput } from './input-shapes.js';
import { retryInput, retryStored } from './retry-schema.js';

// The patterns and policy lists are in schedule-constants.ts (free of zod: what reads
// stored schedules and settings needs them, not this schema); re-exported here.
import { CATCHUP_POLICIES, FUNCTION_RE, ID_RE, OVERLAP_POLICIES, QUEUE_RE, TARGETS } from './schedule-constants.js';
export {
  CATCHUP_POLICIES,
  FUNCTION_RE,
  ID_RE,
  OVERLAP_POLICIES,
  PY_IDENT,
  QUEUE_RE,
  TARGETS,
  type CatchupPolicy,
  type OverlapPolicy,
  type Target,
} from './schedule-constants.js';

const jsonObject = z.record(z.string(), z.unknown());

/** Every field a schedule may have, with its documentation. Unknown fields are errors. */
export const scheduleInputSchema = z
  .strictObject({
    id: z.string().meta({ description: 'Unique id, [A-Za-z0-9_.-]{1,200}.' }),
    function: z.string().meta({ description: 'Dotted path of the Python callable, e.g. "myapp.tasks.send_report".' }),
    args: z.array(z.unknown()).optional().meta({ description: 'Positional arguments (JSON array). Default [].' }),
    kwargs: jsonObject.optional().meta({ description: 'Keyword arguments (JSON object). Default {}.' }),
    queue: z.string().optional().meta({ description: 'RQ queue name. Default "default".' }),
    enabled: z
      .boolean()
      .optional()
      .meta({ description: 'A disabled schedule stays in the registry but never fires. Default true.' }),
    description: z.string().optional().meta({ description: 'Free text; becomes the RQ job description.' }),
    ...triggerInputShape,
    timezone: z
      .string()
      .optional()
      .meta({
        description: `IANA timezone for cron and offset-less timestamps. Default from config (${SETTINGS.timezone.default}).`,
      }),
    dst: z.enum(DST_RULES).optional().meta({
      description:
        'DST rule of cron: "vixie" (default: an interval job runs in both passes of a repeated hour) or "btu" (as BTU\'s scheduler: one run per local time in a repeated hour). The gap is the same in both.',
    }),
    startAt: timestampInput.optional().meta({ description: 'No occurrence before this instant.' }),
    endAt: timestampInput.optional().meta({ description: 'No occurrence at or after this instant.' }),
    timeout: durationInput.optional().meta({
      description: 'RQ job timeout in seconds (or a duration). Default 180; Frappe target 300, 1500 on "long".',
    }),
    resultTtl: z.number().int().optional().meta({ description: 'RQ result_ttl in seconds; -1 keeps results forever.' }),
    failureTtl: z
      .number()
      .int()
      .optional()
      .meta({ description: 'RQ failure_ttl in seconds; -1 keeps failed jobs forever.' }),
    ttl: z
      .number()
      .int()
      .optional()
      .meta({ description: 'RQ ttl: seconds a queued job may wait before it is discarded.' }),
    meta: jsonObject
      .optional()
      .meta({ description: 'Extra RQ job meta (JSON object); pyrq adds its own keys under "pyrq".' }),
    target: z
      .enum(TARGETS)
      .optional()
      .meta({ description: '"rq" calls function(*args, **kwargs); "frappe" runs it through Frappe\'s execute_job.' }),
    site: z
      .string()
      .optional()
      .meta({ description: 'Frappe site (target frappe only). Default from config frappe.site.' }),
    user: z
      .string()
      .optional()
      .meta({ description: `Frappe user (target frappe only). Default "${SETTINGS['frappe.user'].default}".` }),
    catchup: z
      .enum(CATCHUP_POLICIES)
      .optional()
      .meta({ description: 'Missed occurrences after downtime: skip, latest (default) or all (at most 100).' }),
    startingDeadline: durationInput.optional().meta({
      description: 'A missed occurrence older than this many seconds is skipped, whatever the catch-up policy.',
    }),
    overlap: z.enum(OVERLAP_POLICIES).optional().meta({
      description:
        'While the previous job is queued or started: "allow" (default) enqueues anyway, "forbid" skips the occurrence, "buffer-one" holds one occurrence until that job ends (later ones are skipped), "replace" stops (or cancels) that job and enqueues the new one.',
    }),
    onFailure: z.string().optional().meta({
      description:
        "Dotted path of an RQ failure callback: the worker calls it as f(job, connection, type, value, traceback) when the job raises (RQ's failure_callback_name).",
    }),
    jobIdKwarg: z
      .string()
      .optional()
      .meta({ description: "Name of a keyword argument that receives the job's own RQ job id (BTU's rq_job_id)." }),
    // Retries, jitter and bounded runs (docs/firing.md).
    retry: retryInput.optional().meta({
      description:
        "RQ retries of a failed job: a number of retries (at once), or {max, intervals} / {max, exponential: {base, cap}}. Written as RQ's retries_left and retry_intervals; waits need a worker with --with-scheduler. Default from config dispatch.retry.",
    }),
    jitter: durationInput.optional().meta({
      description:
        'Fire each occurrence up to this long after its time (a delay fixed per schedule and occurrence, never reaching the next occurrence). Default from config dispatch.jitter.',
    }),
    times: z.number().int().optional().meta({
      description:
        'Stop after this many jobs enqueued by the schedule (manual triggers do not count); the count is kept in Redis.',
    }),
    failAfter: z.number().int().optional().meta({
      description:
        'The schedule is "failing" after this many consecutive failed jobs (1 to 1000). Default 3 (docs/observability.md).',
    }),
    alertAfter: durationInput.optional().meta({
      description:
        'The schedule is "overdue" when no job of it has finished successfully for this long (seconds or a duration). Default: two occurrences after the last success, plus the job timeout.',
    }),
  })
  .meta({ title: 'pyrq schedule', description: 'One recurring or one-shot job for Python RQ.' });

/** What a person writes: every field as it may appear in a file. */
export type ScheduleInput = z.input<typeof scheduleInputSchema>;
/** Field names in their documented order (used for unknown-field suggestions and rendering). */
export const SCHEDULE_FIELDS = Object.keys(scheduleInputSchema.shape) as (keyof ScheduleInput)[];

/** The normalised, stored form. Built only by `normalizeSchedule`; read back from Redis with this schema. */
export const scheduleSchema = z.strictObject({
  id: z.string().regex(ID_RE),
  function: z.string().regex(FUNCTION_RE),
  args: z.array(z.unknown()),
  kwargs: jsonObject,
  queue: z.string().regex(QUEUE_RE),
  enabled: z.boolean(),
  description: z.string().optional(),
  ...triggerStoredShape,
  timezone: z.string(),
  dst: z.enum(DST_RULES).optional(),
  startAt: z.string().optional(),
  endAt: z.string().optional(),
  timeout: z.number().int().positive(),
  resultTtl: z.number().int().optional(),
  failureTtl: z.number().int().optional(),
  ttl: z.number().int().positive().optional(),
  meta: jsonObject,
  target: z.enum(TARGETS),
  site: z.string().optional(),
  user: z.string().optional(),
  catchup: z.enum(CATCHUP_POLICIES),
  startingDeadline: z.number().int().positive().optional(),
  overlap: z.enum(OVERLAP_POLICIES),
  onFailure: z.string().regex(FUNCTION_RE).optional(),
  jobIdKwarg: z.string().optional(),
  retry: retryStored.optional(),
  jitter: z.number().int().positive().optional(),
  times: z.number().int().positive().optional(),
  failAfter: z.number().int().positive().optional(),
  alertAfter: z.number().int().positive().optional(),
});

/** A normalised schedule: defaults filled, durations in seconds, timestamps canonical UTC. */
export type Schedule = z.output<typeof scheduleSchema>;
