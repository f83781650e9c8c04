/**
 * A fast check of the common schedule shape, beside zod's: `scheduleInputSchema.safeParse`
 * was ~20 % of a parse thread's CPU in a cold apply of 100,000 schedules (docs/performance.md,
 * issue 25). The checker is built once from the schema itself (zod's definitions: optional,
 * string, boolean, number, int, enum, union, array of unknown, record of string keys), so a
 * field added or moved (a trigger kind's, say) is covered without a change here; a field
 * whose shape it does not know is checked by zod whenever it is present.
 *
 * The contract: `fastScheduleInput(raw)` is either undefined (not sure: ask zod, which also
 * writes the messages) or exactly what `scheduleInputSchema.safeParse(raw).data` is for that
 * input (a fresh object with the same keys in the same order, arrays and records copied as
 * zod copies them). test/unit/fast-input.test.ts checks this against zod on generated inputs.
 */
import type { z } from 'zod';
import { scheduleInputSchema } from './schedule-schema.js';

/** zod would refuse the value. */
const REJECT = Symbol('reject');
/** This checker cannot tell: zod decides. */
const UNSURE = Symbol('unsure');
type Verdict = unknown;
type Check = (v: unknown) => Verdict;

interface Def {
  type: string;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  checks?: { _zod: { def: { check?: string; format?: string } } }[];
}

const defOf = (t: z.ZodType): Def => (t as unknown as { _zod: { def: Def } })._zod.def;

const unsure: Check = () => UNSURE;

/**
 * The keys zod's record copies from a plain object: its own enumerable keys (a TOML table
 * also has non-enumerable symbols, which zod skips too); undefined (unsure) for another
 * prototype, an enumerable symbol or a `__proto__` key.
 */
function plainKeys(v: object): string[] | undefined {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  // Object.keys lists the own enumerable string keys in Reflect.ownKeys' order; a symbol
  // is looked at only when there is one (a TOML table's are not enumerable).
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) if (keys[i] === '__proto__') return undefined;
  for (const sym of Object.getOwnPropertySymbols(v))
    if (Object.prototype.propertyIsEnumerable.call(v, sym)) return undefined;
  return keys;
}

/** The check of one value schema; `unsure` for anything it does not know exactly. */
function compile(t: z.ZodType): Check {
  const def = defOf(t);
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'unknown':
      return (v) => v;
    case 'string':
      return checks.length > 0 ? unsure : (v) => (typeof v === 'string' ? v : REJECT);
    case 'boolean':
      return checks.length > 0 ? unsure : (v) => (typeof v === 'boolean' ? v : REJECT);
    case 'number': {
      if (checks.length === 0) return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : REJECT);
      const c = checks.length === 1 ? checks[0]!._zod.def : undefined;
      if (c?.check === 'number_format' && c.format === 'safeint')
        return (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : REJECT);
      return unsure;
    }
    case 'enum': {
      const values = (t as unknown as { _zod: { values?: Set<unknown> } })._zod.values;
      if (!values || checks.length > 0) return unsure;
      return (v) => (values.has(v) ? v : REJECT);
    }
    case 'union': {
      // zod answers with the first option that accepts: an option this checker cannot
      // judge stops the search (a later one accepting would not say what zod returns).
      const options = (def.options ?? []).map(compile);
      if (options.length === 0 || checks.length > 0) return unsure;
      return (v) => {
        for (const o of options) {
          const r = o(v);
          if (r !== REJECT) return r;
        }
        return REJECT;
      };
    }
    case 'array': {
      if (!def.element || defOf(def.element).type !== 'unknown' || checks.length > 0) return unsure;
      return (v) => {
        if (!Array.isArray(v)) return REJECT;
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) out[i] = v[i];
        return out;
      };
    }
    case 'record': {
      if (
        !def.keyType ||
        !def.valueType ||
        checks.length > 0 ||
        defOf(def.keyType).type !== 'string' ||
        (defOf(def.keyType).checks ?? []).length > 0 ||
        defOf(def.valueType).type !== 'unknown'
      )
        return unsure;
      return (v) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return REJECT;
        const keys = plainKeys(v);
        if (!keys) return UNSURE;
        const out: Record<string, unknown> = {};
        for (const k of keys) out[k] = (v as Record<string, unknown>)[k];
        return out;
      };
    }
    default:
      return unsure;
  }
}

interface Field {
  key: string;
  optional: boolean;
  check: Check;
}

function compileShape(shape: Record<string, z.ZodType>): Field[] {
  return Object.entries(shape).map(([key, t]) => {
    const def = defOf(t);
    const optional = def.type === 'optional';
    const inner = optional ? def.innerType : t;
    return { key, optional, check: inner ? compile(inner) : unsure };
  });
}

/** What `scheduleInputSchema.safeParse` gives back on success. */
export type ParsedInput = z.output<typeof scheduleInputSchema>;

const FIELDS = compileShape(scheduleInputSchema.shape);
const INDEX = new Map(FIELDS.map((f, i) => [f.key, i]));
const REQUIRED = FIELDS.filter((f) => !f.optional).length;

/**
 * Every field of the schema, undefined: the shape of {@link fastScheduleFields}' answers.
 * A spread of it clones its hidden class, so every answer has one.
 */
const ALL_ABSENT: Readonly<Record<string, undefined>> = Object.fromEntries(FIELDS.map((f) => [f.key, undefined]));

/**
 * What {@link fastScheduleInput} answers, with every field of the schema present
 * (undefined where the input has none) and all answers of one hidden class.
 * normalizeSchedule reads the 30-odd fields of each schedule: the bench's 100,000
 * schedules hold ~100 subsets of keys, one hidden class each, so every read of the
 * exact-keys object was a megamorphic lookup (~60 ns; ~2 us a schedule).
 */
export function fastScheduleFields(raw: unknown): ParsedInput | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const proto: unknown = Object.getPrototypeOf(raw);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const input = raw as Record<string, unknown>;
  // The keys zod's strict object enumerates (for...in): each must be a field. A schedule
  // has a handful of the 30-odd fields, so only those are visited.
  const out: Record<string, unknown> = { ...ALL_ABSENT };
  let required = 0;
  for (const key in input) {
    const i = INDEX.get(key);
    if (i === undefined) return undefined;
    const f = FIELDS[i]!;
    const v = input[key];
    // Present as undefined: zod keeps the key; leave that to zod.
    if (v === undefined) return undefined;
    const r = f.check(v);
    if (r === REJECT || r === UNSURE) return undefined;
    if (!f.optional) required++;
    out[key] = r;
  }
  if (required !== REQUIRED) return undefined;
  return out as ParsedInput;
}

/**
 * `scheduleInputSchema.safeParse(raw).data` when this checker is sure `raw` passes (the
 * same value zod would return), else undefined: zod then decides, and words any error.
 */
export function fastScheduleInput(raw: unknown): ParsedInput | undefined {
  const all = fastScheduleFields(raw) as Record<string, unknown> | undefined;
  if (all === undefined) return undefined;
  // zod builds its result in the schema's order, with the keys the input has.
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) if (all[f.key] !== undefined) out[f.key] = all[f.key];
  return out as ParsedInput;
}

/** The fields this checker judges itself (the rest go to zod when present); for tests. */
export function fastInputFields(): string[] {
  return FIELDS.filter((f) => f.check !== unsure).map((f) => f.key);
}
