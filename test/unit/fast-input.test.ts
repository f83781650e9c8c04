/**
 * A differential test of the fast schedule check (src/model/fast-input.ts) against zod's
 * `scheduleInputSchema`: over every schedule of the fixtures, the bench's standard mix and
 * thousands of generated inputs (every field given values of every kind: wrong types,
 * fractions, -0, NaN, Infinity, integers beyond 2^53, bigints, Dates valid and not,
 * null-prototype and class objects, symbol and non-enumerable keys, sparse arrays,
 * unknown and missing fields, present-but-undefined values), the fast check either
 * declines (undefined) or gives exactly what zod gives: same keys in the same order,
 * same values, arrays and records copied as zod copies them. It must also accept the
 * common shape (else it would only cost time).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMATS, fileText, makeSchedules } from '../../bench/data.js';
import { fastInputFields, fastScheduleInput } from '../../src/model/fast-input.js';
import { SCHEDULE_FIELDS, scheduleInputSchema } from '../../src/model/schedule-schema.js';
import { isScheduleFile, parseScheduleFile } from '../../sources/files/parse-file.js';
import { rng } from '../../scripts/rng.js'; // mulberry32: a failure names a reproducible seed

/** A text that tells apart types, -0, NaN, key order, prototypes, Dates, holes and bigints. */
function show(v: unknown, seen: object[] = []): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'symbol') return v.toString();
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return String(v);
  if (seen.includes(v)) return '<cycle>';
  seen = [...seen, v];
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (Array.isArray(v)) {
    const items: string[] = [];
    for (let i = 0; i < v.length; i++) items.push(i in v ? show(v[i], seen) : '<hole>');
    return `[${items.join(',')}]`;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : 'other-proto';
  return `${tag}{${Reflect.ownKeys(v)
    .map(
      (k) =>
        `${String(k)}${Object.prototype.propertyIsEnumerable.call(v, k) ? '' : '(hidden)'}:${show((v as Record<PropertyKey, unknown>)[k], seen)}`,
    )
    .join(',')}}`;
}

/** A mismatch, or undefined when the fast check declined or agreed with zod. */
function mismatch(raw: unknown): string | undefined {
  let fast: unknown;
  try {
    fast = fastScheduleInput(raw);
  } catch (e) {
    return `fast check threw ${String(e)}`;
  }
  if (fast === undefined) return undefined;
  const ref = scheduleInputSchema.safeParse(raw);
  if (!ref.success) return `fast accepted what zod refuses: ${ref.error.issues[0]?.message}`;
  if (show(fast) !== show(ref.data)) return `fast ${show(fast)} vs zod ${show(ref.data)}`;
  // Copies where zod copies, the same value where zod passes it through.
  const input = raw as Record<string, unknown>;
  const f = fast as Record<string, unknown>;
  const z = ref.data as Record<string, unknown>;
  for (const k of Object.keys(z))
    if ((f[k] === input[k]) !== (z[k] === input[k])) return `${k}: fast and zod differ in copying`;
  return undefined;
}

function fixtureEntries(): unknown[] {
  const out: unknown[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (isScheduleFile(name)) {
        const r = parseScheduleFile(name, readFileSync(full));
        if (r.ok) for (const e of r.entries) out.push(e.raw);
      }
    }
  };
  walk(join(import.meta.dirname, '..', '..', 'fixtures'));
  return out;
}

class Thing {
  a = 1;
}
const nullProto = (o: Record<string, unknown>) => Object.assign(Object.create(null) as object, o);
const withSymbol = () => ({ a: 1, [Symbol('s')]: 2 });
const withHidden = () => Object.defineProperty({ a: 1 }, 'b', { value: 2, enumerable: false });
// As @iarna/toml builds tables: null prototype, non-enumerable symbol marks.
const tomlLike = () =>
  Object.defineProperty(nullProto({ company: 'x', days: 2 }), Symbol('type'), { value: 'table', enumerable: false });
const withHiddenSymbol = () => Object.defineProperty({ a: 1 }, Symbol('h'), { value: 2, enumerable: false });
const withProtoKey = () => Object.defineProperty({}, '__proto__', { value: 1, enumerable: true });
// eslint-disable-next-line no-sparse-arrays
const sparse = () => [1, , 3];

/** Values of every kind a parser (or a caller) could hand over. */
const VALUES: (() => unknown)[] = [
  () => 'x',
  () => '',
  () => 'sched-1',
  () => 'myapp.tasks.run',
  () => '0 3 * * *',
  () => '5m',
  () => '2030-01-01T00:00:00Z',
  () => 'UTC',
  () => 'vixie',
  () => 'btu',
  () => 'frappe',
  () => 'rq',
  () => 'skip',
  () => 'forbid',
  () => 0,
  () => 1,
  () => -1,
  () => 300,
  () => 1.5,
  () => -0,
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => 2 ** 53,
  () => 2 ** 53 - 1,
  () => 12n,
  () => 2n ** 70n,
  () => true,
  () => false,
  () => null,
  () => undefined,
  () => [],
  () => ['a', 1, null],
  () => [{ a: 1 }],
  sparse,
  () => [undefined],
  () => ({}),
  () => ({ company: 'x', days: 3 }),
  () => ({ a: { b: [1] } }),
  () => ({ '1': 'x', b: 2 }),
  () => nullProto({ a: 1 }),
  withSymbol,
  withHidden,
  tomlLike,
  withHiddenSymbol,
  withProtoKey,
  () => new Thing(),
  () => new Map([['a', 1]]),
  () => new Date(Date.UTC(2030, 0, 1)),
  () => new Date(NaN),
  () => ({ max: 3 }),
  () => ({ max: 3, intervals: ['10s', 20] }),
  () => ({ max: 2, exponential: { base: '10s' } }),
  () => ({ max: 1, extra: 1 }),
  () => Symbol('v'),
  () => () => 1,
];

function generated(seed: number, n: number): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const base = makeSchedules(200, seed);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const s: Record<string, unknown> = { ...pick(base) };
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const x = r();
      if (x < 0.6) s[pick(SCHEDULE_FIELDS)] = pick(VALUES)();
      else if (x < 0.75) delete s[pick(Object.keys(s))];
      else if (x < 0.85) s[pick(['cronn', 'Id', 'schedules', 'extra', '__proto__x', '$schema'])] = pick(VALUES)();
      else s[pick(SCHEDULE_FIELDS)] = undefined;
    }
    const shape = r();
    if (shape < 0.05) out.push(nullProto(s));
    else if (shape < 0.07) out.push(Object.assign(new Thing(), s));
    else if (shape < 0.09) out.push(pick(VALUES)());
    else out.push(s);
  }
  return out;
}

describe('fast schedule check (differential against zod)', () => {
  it('judges every field of the common shape itself', () => {
    // A field it cannot judge is still right (zod decides), but makes every schedule that
    // uses it slow: this says so when the schema gains a shape the checker does not know.
    expect(fastInputFields().sort()).toEqual([...SCHEDULE_FIELDS].sort());
  });

  it('accepts the bench mix, giving what zod gives', () => {
    const all = makeSchedules(5000);
    const bad = all.map(mismatch).filter((m) => m !== undefined);
    expect(bad).toEqual([]);
    expect(all.filter((s) => fastScheduleInput(s) === undefined)).toEqual([]);
  });

  it('accepts the bench mix as each file format parses it, giving what zod gives', () => {
    const all = makeSchedules(600);
    for (const format of FORMATS) {
      const parsed = parseScheduleFile(`mix.${format}`, Buffer.from(fileText(format, all)));
      if (!parsed.ok) throw new Error(parsed.message);
      const raws = parsed.entries.map((e) => e.raw);
      expect(raws.map(mismatch).filter((m) => m !== undefined)).toEqual([]);
      expect(raws.filter((r) => fastScheduleInput(r) === undefined).length).toBe(0);
    }
  });

  it('agrees with zod on every fixture schedule', () => {
    const entries = fixtureEntries();
    expect(entries.length).toBeGreaterThan(20);
    const bad = entries.map((e) => [show(e), mismatch(e)]).filter(([, m]) => m !== undefined);
    expect(bad).toEqual([]);
    // Most fixtures are plain schedules: the fast check takes them.
    expect(entries.filter((e) => fastScheduleInput(e) !== undefined).length).toBeGreaterThan(entries.length / 2);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agrees with zod on generated inputs (seed ${seed})`, () => {
      const inputs = generated(seed, 4000);
      const bad: string[] = [];
      let taken = 0;
      for (const raw of inputs) {
        const m = mismatch(raw);
        if (m !== undefined) bad.push(`${show(raw)}: ${m}`);
        if (fastScheduleInput(raw) !== undefined) taken++;
      }
      expect(bad.slice(0, 5)).toEqual([]);
      // Both branches are exercised: some inputs taken, some left to zod.
      expect(taken).toBeGreaterThan(inputs.length / 20);
      expect(taken).toBeLessThan(inputs.length);
    });
  }
});
