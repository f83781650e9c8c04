/**
 * Validation and normalisation of one schedule: unknown input in, either a normalised
 * `Schedule` or every problem found. Pure (the clock is not consulted: "at in the past"
 * is decided by the plan, which knows what is already applied).
 */
import { SETTINGS } from '../config/settings.js';
import { TRIGGER_CHOICES, TRIGGERS } from '../schedule/triggers/index.js';
import { formatTimestamp, parseTimestamp } from './datetime.js';
import { describeType, parseDuration } from './duration.js';
import { fastScheduleFields } from './fast-input.js';
import { type FieldIssue, fromZodIssues } from './issues.js';
import { jsonValueProblem } from './json-value.js';
import {
  type CatchupPolicy,
  FUNCTION_RE,
  ID_RE,
  type OverlapPolicy,
  QUEUE_RE,
  SCHEDULE_FIELDS,
  type Schedule,
  scheduleInputSchema,
} from './schedule-schema.js';
import { quote } from './excerpt.js';
import { normalizeRetry, type Retry } from './retry.js';
import { timezoneHint } from './suggest.js';
import { isValidTimezone } from './timezone.js';

/** Defaults that come from configuration rather than from the schedule itself. */
export interface NormalizeContext {
  timezone: string;
  catchup: CatchupPolicy;
  overlap: OverlapPolicy;
  startingDeadline?: number;
  /** Defaults of `failAfter` and `alertAfter` (config `dispatch.*`); unset: left out of the spec. */
  failAfter?: number;
  alertAfter?: number;
  frappeSite?: string;
  /**
   * Frappe bench id (`frappe.benchId`): a target "frappe" schedule's queue is stored with
   * it (`<benchId>:<queue>`, Frappe v14+'s `generate_qname`), so plan, status, `trigger`,
   * `tick` and every daemon see and use the real queue without flags.
   */
  frappeBenchId?: string;
  frappeUser: string;
  /** When set, only functions it accepts may be scheduled (config `allow`). */
  allowFunction?: (fn: string) => boolean;
  /** The config's `allow` patterns `allowFunction` was compiled from (for parse workers, which cannot be sent a function). */
  allowPatterns?: readonly string[];
  /** Shown in the allowlist error, e.g. `btu.*, myapp.tasks.*`. */
  allowDescription?: string;
  /** `dispatch.retry`, normalised: the retry of a schedule that has no `retry`. */
  retry?: Retry;
  /** `dispatch.jitter` in seconds: the jitter of a schedule that has no `jitter`. */
  jitter?: number;
}

/** The context of an empty configuration: the defaults of the table of settings (`src/config/settings.ts`). */
export const DEFAULT_CONTEXT: NormalizeContext = {
  timezone: SETTINGS.timezone.default,
  catchup: SETTINGS['dispatch.catchup'].default,
  overlap: SETTINGS['dispatch.overlap'].default,
  frappeUser: SETTINGS['frappe.user'].default,
};

export const RQ_DEFAULT_TIMEOUT = 180;
/** Frappe's own defaults (frappe/utils/background_jobs.py): short and default 300 s, long 1500 s. */
export const FRAPPE_TIMEOUTS: Record<string, number> = { short: 300, default: 300, long: 1500 };

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);
const SITE_RE = /^[A-Za-z0-9_.-]{1,255}$/;
const MAX_DESCRIPTION = 2000;
/**
 * The first segment of a dotted path that is a Python keyword, if any: a scan, not
 * `split('.')` and a callback (an array and a closure per schedule).
 */
function pythonKeywordIn(dotted: string): string | undefined {
  for (let start = 0; ;) {
    const end = dotted.indexOf('.', start);
    const part = end === -1 ? dotted.slice(start) : dotted.slice(start, end);
    if (PY_KEYWORDS.has(part)) return part;
    if (end === -1) return undefined;
    start = end + 1;
  }
}

export type NormalizeResult = { ok: true; schedule: Schedule } | { ok: false; issues: FieldIssue[]; id?: string };

/** Validates `raw` and returns its normalised form, or all the issues found. */
export function normalizeSchedule(raw: unknown, ctx: NormalizeContext = DEFAULT_CONTEXT): NormalizeResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: '', message: `expected a schedule object, got ${describeType(raw)}` }] };
  }
  const rawId = (raw as { id?: unknown }).id;
  const id = typeof rawId === 'string' ? rawId : undefined;
  // The common shape is checked by fast-input.ts (the same result as zod's, ~10x less
  // CPU, every field present so that all its answers share one hidden class); anything
  // it is not sure of goes to zod. Without reportInput zod takes its fast path; the input
  // is only needed for messages, so a failing schedule is checked again with it.
  let s = fastScheduleFields(raw);
  if (s === undefined) {
    let parsed = scheduleInputSchema.safeParse(raw);
    if (!parsed.success) parsed = scheduleInputSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues, SCHEDULE_FIELDS), id };
    s = parsed.data;
  }
  const issues: FieldIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ path, message });

  if (!ID_RE.test(s.id)) {
    bad(
      'id',
      `${JSON.stringify(s.id.length > 60 ? `${s.id.slice(0, 60)}…` : s.id)} is not a valid id: use 1 to 200 characters from A-Z a-z 0-9 _ . - (got ${s.id.length} characters)`,
    );
  }
  if (!FUNCTION_RE.test(s.function)) {
    bad('function', `${quote(s.function)} is not a dotted Python path such as "myapp.tasks.send_report"`);
  } else {
    const kw = pythonKeywordIn(s.function);
    if (kw) bad('function', `${quote(s.function)}: "${kw}" is a Python keyword, not an identifier`);
    else if (ctx.allowFunction && !ctx.allowFunction(s.function)) {
      bad(
        'function',
        `${quote(s.function)} is not in the function allowlist (${ctx.allowDescription ?? 'config allow'})`,
      );
    }
  }
  const queue = s.queue ?? 'default';
  if (!QUEUE_RE.test(queue))
    bad('queue', `${quote(queue)} is not a valid queue name: use 1 to 100 characters from A-Z a-z 0-9 _ . : -`);
  if (s.description !== undefined && s.description.length > MAX_DESCRIPTION)
    bad('description', `longer than ${MAX_DESCRIPTION} characters`);

  const timezone = s.timezone ?? ctx.timezone;
  const tzOk = isValidTimezone(timezone);
  if (!tzOk) bad('timezone', `unknown timezone ${quote(timezone)} (${timezoneHint(timezone)})`);

  // Exactly one trigger; each kind validates and normalises its own field.
  const kinds = TRIGGERS.filter((k) => s[k.field] !== undefined);
  if (kinds.length === 0) bad('', `needs exactly one trigger: ${TRIGGER_CHOICES}`);
  if (kinds.length > 1)
    bad(kinds.map((k) => k.field).join(', '), `only one trigger is allowed: choose ${TRIGGER_CHOICES}`);
  const triggerCtx = { timezone: tzOk ? timezone : 'UTC', input: s };
  let trigger: { field: string; value: unknown } | undefined;
  for (const k of kinds) {
    const r = k.normalize(s[k.field], triggerCtx);
    if (r.ok) trigger = { field: k.field, value: r.value };
    else bad(k.field, r.message);
  }
  const stamp = (field: 'startAt' | 'endAt'): number | undefined => {
    const v = s[field];
    if (v === undefined) return undefined;
    const t = parseTimestamp(v, triggerCtx.timezone);
    if (typeof t === 'number') return t;
    bad(field, t.reason);
    return undefined;
  };
  const startAt = stamp('startAt');
  const endAt = stamp('endAt');
  for (const k of kinds) for (const i of k.check?.(triggerCtx) ?? []) bad(i.path, i.message);
  if (startAt !== undefined && endAt !== undefined && endAt <= startAt)
    bad('endAt', `must be after startAt (${formatTimestamp(startAt)})`);

  for (const field of ['args', 'kwargs', 'meta'] as const) {
    const p = jsonValueProblem(s[field], field);
    if (p) bad(p[0], p[1]);
  }
  if (s.meta && Object.hasOwn(s.meta, 'pyrq'))
    bad('meta.pyrq', 'is reserved: pyrq records the schedule id and occurrence there');

  const target = s.target ?? 'rq';
  let timeout = target === 'frappe' ? (FRAPPE_TIMEOUTS[queue] ?? FRAPPE_TIMEOUTS.default!) : RQ_DEFAULT_TIMEOUT;
  if (s.timeout !== undefined) {
    const d = parseDuration(s.timeout);
    if (typeof d === 'number') timeout = d;
    else bad('timeout', `${quote(s.timeout)}: ${d.reason}`);
  }
  if (s.resultTtl !== undefined && s.resultTtl < -1)
    bad('resultTtl', 'must be -1 (keep forever), 0 (do not keep) or a number of seconds');
  if (s.failureTtl !== undefined && s.failureTtl < -1)
    bad('failureTtl', 'must be -1 (keep forever) or a number of seconds');
  if (s.ttl !== undefined && s.ttl < 1) bad('ttl', 'must be a positive number of seconds');

  let site: string | undefined;
  let user: string | undefined;
  if (target === 'frappe') {
    site = s.site ?? ctx.frappeSite;
    user = s.user ?? ctx.frappeUser;
    if (site === undefined) bad('site', 'required for target "frappe" (or set frappe.site in the config)');
    else if (!SITE_RE.test(site)) bad('site', `${quote(site)} is not a valid site name`);
    if (!/^[^\s]{1,140}$/.test(user)) bad('user', `${quote(user)} is not a valid Frappe user`);
    // frappe.utils.background_jobs.execute_job calls method(**kwargs): there is no place for positional args.
    if (s.args !== undefined && s.args.length > 0)
      bad(
        'args',
        'not supported with target "frappe" (Frappe\'s execute_job passes keyword arguments only); use kwargs',
      );
  } else {
    if (s.site !== undefined) bad('site', 'only valid with target "frappe"');
    if (s.user !== undefined) bad('user', 'only valid with target "frappe"');
  }
  if (s.onFailure !== undefined) {
    if (!FUNCTION_RE.test(s.onFailure))
      bad('onFailure', `${quote(s.onFailure)} is not a dotted Python path such as "myapp.tasks.on_failure"`);
    else if (ctx.allowFunction && !ctx.allowFunction(s.onFailure))
      bad(
        'onFailure',
        `${quote(s.onFailure)} is not in the function allowlist (${ctx.allowDescription ?? 'config allow'})`,
      );
  }
  if (s.jobIdKwarg !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.jobIdKwarg) || PY_KEYWORDS.has(s.jobIdKwarg))
      bad('jobIdKwarg', `${quote(s.jobIdKwarg)} is not a Python identifier`);
    else if (s.kwargs && Object.hasOwn(s.kwargs, s.jobIdKwarg))
      bad('jobIdKwarg', `${quote(s.jobIdKwarg)} is also in kwargs: the job id would replace it`);
  }
  let startingDeadline = ctx.startingDeadline;
  if (s.startingDeadline !== undefined) {
    const d = parseDuration(s.startingDeadline);
    if (typeof d === 'number') startingDeadline = d;
    else bad('startingDeadline', `${quote(s.startingDeadline)}: ${d.reason}`);
  }

  // Retries, jitter and bounded runs: 0 turns a config default off.
  let retry = ctx.retry;
  if (s.retry === 0) retry = undefined;
  else if (s.retry !== undefined) {
    const r = normalizeRetry(s.retry);
    if (r.ok) retry = r.value;
    else for (const [path, message] of r.issues) bad(path, message);
  }
  let jitter = ctx.jitter;
  if (s.jitter === 0 || s.jitter === '0') jitter = undefined;
  else if (s.jitter !== undefined) {
    const d = parseDuration(s.jitter);
    if (typeof d === 'number') jitter = d;
    else bad('jitter', `${quote(s.jitter)}: ${d.reason}`);
  }
  if (s.times !== undefined && s.times < 1) bad('times', `must be at least 1 (got ${s.times})`);
  let alertAfter = ctx.alertAfter;
  if (s.alertAfter !== undefined) {
    const d = parseDuration(s.alertAfter);
    if (typeof d === 'number') alertAfter = d;
    else bad('alertAfter', `${quote(s.alertAfter)}: ${d.reason}`);
  }
  if (s.failAfter !== undefined && !(Number.isInteger(s.failAfter) && s.failAfter >= 1 && s.failAfter <= 1000))
    bad('failAfter', `${quote(s.failAfter)} is not a whole number from 1 to 1000`);

  if (issues.length > 0) return { ok: false, issues, id: s.id };

  // Written into `out` in sorted key order (canonical JSON then need not sort them), with
  // optional fields left out when absent so they do not affect the hash. Absent fields are
  // never added (rather than added and deleted): `delete` turns an object into a slow
  // dictionary, and a registry holds 100,000 of these. One store per field, named: a
  // table of all fields copied by key cost ~1 us a schedule in keyed lookups. The
  // trigger's field is its kind's (no issues means exactly one kind, normalised).
  // test/unit/normalize-fields.test.ts checks the order against the schema's fields.
  const t = trigger!;
  const failAfter = s.failAfter ?? ctx.failAfter;
  const out: Record<string, unknown> = {};
  if (alertAfter !== undefined) out.alertAfter = alertAfter;
  out.args = s.args ?? [];
  if (t.field === 'at') out.at = t.value;
  out.catchup = s.catchup ?? ctx.catchup;
  if (t.field === 'cron') out.cron = t.value;
  if (s.description !== undefined) out.description = s.description;
  // vixie is the default: left out, so existing schedules keep their hash.
  if (s.dst !== undefined && s.dst !== 'vixie') out.dst = s.dst;
  out.enabled = s.enabled ?? true;
  if (endAt !== undefined) out.endAt = formatTimestamp(endAt);
  if (t.field === 'every') out.every = t.value;
  if (failAfter !== undefined) out.failAfter = failAfter;
  if (s.failureTtl !== undefined) out.failureTtl = s.failureTtl;
  out.function = s.function;
  out.id = s.id;
  if (jitter !== undefined) out.jitter = jitter;
  if (s.jobIdKwarg !== undefined) out.jobIdKwarg = s.jobIdKwarg;
  out.kwargs = s.kwargs ?? {};
  out.meta = s.meta ?? {};
  if (s.onFailure !== undefined) out.onFailure = s.onFailure;
  out.overlap = s.overlap ?? ctx.overlap;
  out.queue = target === 'frappe' ? benchQueue(queue, ctx.frappeBenchId) : queue;
  if (s.resultTtl !== undefined) out.resultTtl = s.resultTtl;
  if (retry !== undefined) out.retry = retry;
  if (site !== undefined) out.site = site;
  if (startAt !== undefined) out.startAt = formatTimestamp(startAt);
  if (startingDeadline !== undefined) out.startingDeadline = startingDeadline;
  out.target = target;
  out.timeout = timeout;
  if (s.times !== undefined) out.times = s.times;
  out.timezone = timezone;
  if (s.ttl !== undefined) out.ttl = s.ttl;
  if (user !== undefined) out.user = user;
  return { ok: true, schedule: out as Schedule };
}

/** Frappe v14+'s queue name for a bench (`generate_qname`); a name already prefixed with this bench id stays as it is. */
export function benchQueue(queue: string, benchId: string | undefined): string {
  if (!benchId || queue.startsWith(`${benchId}:`)) return queue;
  return `${benchId}:${queue}`;
}
