/**
 * A generated differential test of the TOML fast path (sources/files/simple-toml.ts)
 * against @iarna/toml: over the bench's schedule files, every enumerated one-pair
 * document, and thousands of random documents built from keys, values (strings with
 * every escape, integers and floats in every notation, dates, arrays and inline tables
 * that mix types, nest, trail commas or span lines), headers, comments and whitespace,
 * plus single-character mutations of valid files, the fast path either declines or
 * gives exactly what @iarna/toml gives. A document the package refuses must be declined,
 * so its error is the package's.
 */
import TOML from '@iarna/toml';
import { describe, expect, it } from 'vitest';
import { fileText, makeSchedules } from '../../bench/data.js';
import { DECLINED, parseSimpleToml } from '../../sources/files/simple-toml.js';
import { rng } from '../../scripts/rng.js'; // mulberry32: a failure names a reproducible seed

/**
 * A canonical text of a parsed value: types, -0, key order, own enumerable keys and
 * prototypes (the package's hidden symbol tags are not part of the value).
 */
function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `Date(${String(v)})`;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (typeof v !== 'object') return `${typeof v}:${String(v)}`;
  const proto = Object.getPrototypeOf(v) as unknown;
  const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : `proto=${show(proto)}`;
  const entries = Object.keys(v).map((k) => `${JSON.stringify(k)}:${show((v as Record<string, unknown>)[k])}`);
  return `${tag}{${entries.join(',')}}`;
}

type Outcome = 'declined' | 'agreed';

/** The fast path's outcome on `text`; throws (naming the text) on a mismatch. */
function check(text: string): Outcome {
  let fast: unknown;
  try {
    fast = parseSimpleToml(text);
  } catch (e) {
    throw new Error(`fast path threw ${String(e)} on ${JSON.stringify(text)}`, { cause: e });
  }
  if (fast === DECLINED) return 'declined';
  let ref: string;
  try {
    ref = show(TOML.parse(text));
  } catch (e) {
    throw new Error(`fast path accepted what @iarna/toml refuses (${String(e)}): ${JSON.stringify(text)}`, {
      cause: e,
    });
  }
  if (show(fast) !== ref) throw new Error(`fast ${show(fast)} vs @iarna/toml ${ref} on ${JSON.stringify(text)}`);
  return 'agreed';
}

const KEYS = [
  ...['id', 'every', 'cron', 'kwargs', 'a', 'A', '_', '-', 'a-b', 'a_b', '1', '01', 'true', 'false', 'inf', 'nan'],
  ...['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'],
  ...['a.b', 'a . b', '"a"', "'a'", '"a.b"', '""', 'a b', '$schema', 'é', 'a=b'],
];
const INTEGERS = [
  ...['0', '-0', '+0', '00', '01', '7', '-7', '+7', '1_000', '1__0', '_1', '0x1F', '0o17', '0b101'],
  ...['123456789012345', '-123456789012345', '1234567890123456', '9007199254740993'],
  ...['9223372036854775807', '9223372036854775808', '-9223372036854775809', '99999999999999999999'],
];
const OTHER_WORDS = [
  ...['0.0', '-0.0', '1.5', '1e3', '1E3', '1.5e-3', '1.', '.5', 'inf', '+inf', '-inf', 'nan', '+nan'],
  ...['true', 'false', 'True', 'TRUE', 'yes', 'null'],
  ...['1979-05-27', '1979-05-27T07:32:00Z', '1979-05-27T00:32:00-07:00', '1979-05-27 07:32:00', '07:32:00'],
  ...['hello', '', '1:30', 'a.b'],
];
const STRINGS = [
  ...['""', '"x"', '"a b"', '"#"', '"a # b"', '"="', '"[[schedules]]"', '"{}"', '"é"', '"\u00a0"', '"\u2028"'],
  ...['"\\t"', '"\\n"', '"\\\\"', '"\\""', '"\\b"', '"\\f"', '"\\r"', '"\\/"', '"\\0"', '"\\a"', '"\\e"'],
  ...['"\\u00e9"', '"\\u00E9"', '"\\u0000"', '"\\u001f"', '"\\ud800"', '"\\uDC00"', '"\\u12"', '"\\u12G4"'],
  ...['"\\U0001F600"', '"\\U00110000"', '"\\x41"', '"\\ "', '"a\\', '"a', '"a"b', '"a" "b"', '"a\\"b"'],
  ...["''", "'x'", "'a\\nb'", "'\"'", "'a'b", "'a", "'''x'''", '"""x"""', '"a\tb"', '"a\u0001b"', '"a\u007fb"'],
];
const SCALARS: string[] = [...INTEGERS, ...OTHER_WORDS, ...STRINGS];
/** What schedule files mostly hold, drawn more often so that many documents are in the subset. */
const COMMON_KEYS = ['id', 'every', 'cron', 'kwargs', 'a', 'a-b', 'a_b', '1', 'true'];
const COMMON_SCALARS = ['0', '7', '-7', '123456789012345', 'true', 'false', '""', '"x"', '"a # b"', '"\\t"', "'x'"];
const key = (r: () => number) => (r() < 0.6 ? pick(r, COMMON_KEYS) : pick(r, KEYS));

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** A random value's text: scalars, and arrays and inline tables of them (well formed or not). */
function value(r: () => number, depth = 0): string {
  const x = r();
  if (depth < 3 && x < 0.15) {
    const n = Math.floor(r() * 4);
    const same = r() < 0.7;
    const first = value(r, depth + 1);
    const items = Array.from({ length: n }, (_, i) =>
      i === 0 || !same ? (i === 0 ? first : value(r, depth + 1)) : first,
    );
    const sep = pick(r, [', ', ',', ' , ', ',\n', ', ']);
    return `[${pick(r, ['', ' '])}${items.join(sep)}${pick(r, ['', ' ', ',', ', '])}]`;
  }
  if (depth < 3 && x < 0.3) {
    const n = Math.floor(r() * 4);
    const pairs = Array.from(
      { length: n },
      () => `${key(r)}${pick(r, [' = ', '=', ' =', '= '])}${value(r, depth + 1)}`,
    );
    return `{${pick(r, ['', ' '])}${pairs.join(pick(r, [', ', ',', ' ,']))}${pick(r, ['', ' ', ','])}}`;
  }
  return r() < 0.6 ? pick(r, COMMON_SCALARS) : pick(r, SCALARS);
}

/** A random line of a document. */
function line(r: () => number): string {
  const x = r();
  if (x < 0.1) return pick(r, ['', ' ', '# a comment', '  # indented', '#', '# é ", = [[x]]', '\t# tab']);
  if (x < 0.2)
    return pick(r, [
      '[[schedules]]',
      '[[schedules]] ',
      ' [[schedules]]',
      '[[schedules]] # c',
      '[[ schedules ]]',
      '[schedules]',
      '[[other]]',
      '[a]',
      '[schedules.x]',
      '[[schedules.x]]',
    ]);
  const indent = pick(r, ['', '', '', '  ', '\t']);
  const eq = pick(r, [' = ', ' = ', '=', ' =', '= ', '  =  ']);
  const tail = pick(r, ['', '', '', ' ', ' # note', '# x', ' x', ',', '\r']);
  return `${indent}${key(r)}${eq}${value(r)}${tail}`;
}

describe('simple-toml: the fast path agrees with @iarna/toml, or declines', () => {
  it('reads every file of the bench mix itself (100 schedules a file), agreeing value for value', () => {
    const schedules = makeSchedules(3000, 11);
    let agreed = 0;
    for (let i = 0; i < schedules.length; i += 100) {
      const text = fileText('toml', schedules.slice(i, i + 100));
      expect(check(text)).toBe('agreed');
      agreed++;
    }
    expect(agreed).toBe(30);
  });

  it('every one-pair document, at the top level and in a [[schedules]] table', () => {
    const counts = { agreed: 0, declined: 0 };
    for (const k of KEYS)
      for (const v of SCALARS)
        for (const doc of [
          `${k} = ${v}\n`,
          `[[schedules]]\n${k} = ${v}\n`,
          `${k} = [${v}, ${v}]`,
          `x = { ${k} = ${v} }`,
        ])
          counts[check(doc)]++;
    // Both outcomes occur: the enumeration reaches into the subset and out of it.
    expect(counts.agreed).toBeGreaterThan(500);
    expect(counts.declined).toBeGreaterThan(500);
  });

  it('20,000 random documents (seeded)', () => {
    const counts = { agreed: 0, declined: 0 };
    for (let seed = 1; seed <= 20_000; seed++) {
      const r = rng(seed);
      const lines = Array.from({ length: 1 + Math.floor(r() * 8) }, () => line(r));
      const text = lines.join(pick(r, ['\n', '\n', '\n\n', '\r\n']));
      try {
        counts[check(text)]++;
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
      }
    }
    expect(counts.agreed).toBeGreaterThan(1000);
    expect(counts.declined).toBeGreaterThan(1000);
  });

  it('single-character mutations of a valid file: deleted, doubled or replaced', () => {
    const base = fileText('toml', makeSchedules(4, 5));
    const replacements = ['"', "'", '=', ',', '[', ']', '{', '}', '#', ' ', '\n', '\\', 'x', '0', '-', '.'];
    const counts = { agreed: 0, declined: 0 };
    for (let i = 0; i < base.length; i++) {
      counts[check(base.slice(0, i) + base.slice(i + 1))]++;
      counts[check(base.slice(0, i) + base[i] + base.slice(i))]++;
      counts[check(base.slice(0, i) + replacements[i % replacements.length] + base.slice(i + 1))]++;
    }
    expect(counts.agreed).toBeGreaterThan(100);
    expect(counts.declined).toBeGreaterThan(100);
  });
});
