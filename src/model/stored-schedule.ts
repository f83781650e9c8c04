/**
 * Reads back a stored (normalised) schedule without zod: the check `scheduleSchema`
 * (`schedule-schema.ts`) makes of a spec read from Redis, written out by hand, so that
 * what only reads the registry (`pyrq status`, the dispatcher's reads) does not load zod
 * and build its schemas (docs/performance.md, `pyrq status`). The stored form is
 * pyrq's own (built by `normalizeSchedule`); the check still refuses anything else, as
 * the schema did: test/unit/stored-schedule.test.ts holds the two to the same verdicts,
 * field by field, and this table to the schema's fields.
 */
import { CATCHUP_POLICIES, FUNCTION_RE, ID_RE, OVERLAP_POLICIES, QUEUE_RE, TARGETS } from './schedule-constants.js';
import { MAX_RETRIES } from './schedule-constants.js';
import type { Schedule } from './schedule-schema.js';
import type { TriggerField } from '../schedule/triggers/index.js';
import { DST_RULES } from '../schedule/triggers/kind.js';

type Check = (v: unknown) => boolean;

const str: Check = (v) => typeof v === 'string';
const bool: Check = (v) => typeof v === 'boolean';
const int: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const positiveInt: Check = (v) => int(v) && (v as number) > 0;
const matching =
  (re: RegExp): Check =>
  (v) =>
    typeof v === 'string' && re.test(v);
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);
/** zod's record check (`util.isPlainObject`): an object that is not an array nor a class instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const ctor = (v as { constructor?: unknown }).constructor;
  if (ctor === undefined || typeof ctor !== 'function') return true;
  const proto = (ctor as { prototype?: unknown }).prototype;
  if (typeof proto !== 'object' || proto === null || Array.isArray(proto)) return false;
  return Object.prototype.hasOwnProperty.call(proto, 'isPrototypeOf');
}
const retry: Check = (v) => {
  if (!isPlainObject(v)) return false;
  for (const k of Object.keys(v)) if (k !== 'max' && k !== 'intervals') return false;
  const { max, intervals } = v;
  return (
    int(max) &&
    (max as number) >= 1 &&
    (max as number) <= MAX_RETRIES &&
    Array.isArray(intervals) &&
    intervals.every((w) => int(w) && (w as number) >= 0)
  );
};

/** Each trigger kind's stored value (its `stored` shape in `triggers/schemas.ts`). */
const TRIGGER_CHECKS = { cron: str, every: positiveInt, at: str } satisfies Record<TriggerField, Check>;

/** Every stored field, in the schema's order, with its check and whether it is required. */
export const STORED_SCHEDULE_FIELDS: readonly (readonly [field: string, check: Check, required: boolean])[] = [
  ['id', matching(ID_RE), true],
  ['function', matching(FUNCTION_RE), true],
  ['args', Array.isArray, true],
  ['kwargs', isPlainObject, true],
  ['queue', matching(QUEUE_RE), true],
  ['enabled', bool, true],
  ['description', str, false],
  ...Object.entries(TRIGGER_CHECKS).map(([f, c]) => [f, c, false] as const),
  ['timezone', str, true],
  ['dst', oneOf(DST_RULES), false],
  ['startAt', str, false],
  ['endAt', str, false],
  ['timeout', positiveInt, true],
  ['resultTtl', int, false],
  ['failureTtl', int, false],
  ['ttl', positiveInt, false],
  ['meta', isPlainObject, true],
  ['target', oneOf(TARGETS), true],
  ['site', str, false],
  ['user', str, false],
  ['catchup', oneOf(CATCHUP_POLICIES), true],
  ['startingDeadline', positiveInt, false],
  ['overlap', oneOf(OVERLAP_POLICIES), true],
  ['onFailure', matching(FUNCTION_RE), false],
  ['jobIdKwarg', str, false],
  ['retry', retry, false],
  ['jitter', positiveInt, false],
  ['times', positiveInt, false],
  ['failAfter', positiveInt, false],
  ['alertAfter', positiveInt, false],
];
const KNOWN = new Set(STORED_SCHEDULE_FIELDS.map(([f]) => f));

/**
 * The schedule, when `v` is a valid stored schedule (the verdict of `scheduleSchema`);
 * else undefined. A new object with the schema's field order, as zod returns it.
 */
export function storedSchedule(v: unknown): Schedule | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [f, check, required] of STORED_SCHEDULE_FIELDS) {
    const x = o[f];
    if (x === undefined) {
      if (required) return undefined;
      // An optional field present with the value undefined stays, as zod keeps it.
      if (Object.prototype.hasOwnProperty.call(o, f)) out[f] = undefined;
      continue;
    }
    if (!check(x)) return undefined;
    out[f] = x;
  }
  return out as Schedule;
}
