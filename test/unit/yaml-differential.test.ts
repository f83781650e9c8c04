/**
 * A generated differential test of the YAML fast path (sources/files/simple-yaml.ts)
 * against the `yaml` package: over every enumerated one- and two-key document and
 * thousands of random nested ones built from keyword keys (True, TRUE, null, NULL, ~,
 * yes...), keys differing only by case, escapes in double and single quotes, numbers
 * in every YAML notation and special floats, the fast path either declines or gives
 * exactly what `yaml` gives (as parse-file.ts calls it). A document `yaml` refuses (a
 * duplicate key) must be declined, so its error is the package's.
 */
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DECLINED, parseSimpleYaml } from '../../sources/files/simple-yaml.js';
import { rng } from '../../scripts/rng.js'; // mulberry32: a failure names a reproducible seed

function reference(text: string): unknown {
  const docs = YAML.parseAllDocuments(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length !== 1 || list[0]!.errors.length > 0) return 'ERROR';
  const big = (v: unknown): unknown => {
    if (typeof v === 'bigint')
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (Array.isArray(v)) return v.map(big);
    if (v !== null && typeof v === 'object') {
      // Own keys only, and a `__proto__` key `yaml` turned into a prototype shows as one.
      const proto = Object.getPrototypeOf(v) as unknown;
      const out = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, big(x)]));
      if (proto !== Object.prototype && proto !== null) out['<prototype>'] = big(proto);
      return out;
    }
    return v;
  };
  try {
    return big(list[0]!.toJS({ maxAliasCount: 100 }));
  } catch {
    return 'ERROR';
  }
}

/** A mismatch, or undefined when the fast path declined or agreed. */
function mismatch(text: string): string | undefined {
  let fast: unknown;
  try {
    fast = parseSimpleYaml(text);
  } catch (e) {
    return `fast path threw ${String(e)}`;
  }
  if (fast === DECLINED) return undefined;
  const ref = reference(text);
  return show(fast) === show(ref) ? undefined : `fast ${show(fast)} vs yaml ${show(ref)}`;
}

/**
 * A canonical text of a parsed value that tells apart everything `toStrictEqual` would
 * (types, -0, NaN, key order, own keys vs prototypes) without its special handling of a
 * key named `constructor`.
 */
function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `Date(${v.toISOString()})`;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  const proto = Object.getPrototypeOf(v) as unknown;
  const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : `proto=${show(proto)}`;
  const entries = Object.keys(v).map((k) => `${JSON.stringify(k)}:${show((v as Record<string, unknown>)[k])}`);
  return `${tag}{${entries.join(',')}}`;
}

const KEYWORDS = ['true', 'True', 'TRUE', 'tRue', 'false', 'False', 'FALSE', 'null', 'Null', 'NULL', 'nULL', '~'];
const KEYS = [
  ...KEYWORDS,
  ...['yes', 'Yes', 'YES', 'no', 'No', 'on', 'On', 'off', 'y', 'n', 'Y', 'N'],
  ...['id', 'Id', 'ID', 'every', 'Every', 'a', 'A', 'a.b', 'x-y', '_', '$schema', 'kwargs'],
  ...['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'],
  ...['1', '01', '0x1', '0o7', '1.5', '1e3', '.inf', '.nan', '-1', '+1'],
  ...['"True"', "'null'", '"a"', "'a'", '"a\\tb"', '? x'],
];
const NUMBERS = [
  '0',
  '-0',
  '+0',
  '00',
  '012',
  '0012',
  '7',
  '-7',
  '+7',
  '1_000',
  '0x1F',
  '0X1F',
  '0xfF',
  '0o17',
  '0O17',
  '0b101',
  '0.0',
  '-0.0',
  '1.',
  '.5',
  '-.5',
  '1.5',
  '1e3',
  '1E3',
  '1e+3',
  '1.5e-3',
  '1e400',
  '-1e400',
  '.inf',
  '.Inf',
  '.INF',
  '+.inf',
  '-.inf',
  '-.INF',
  '.nan',
  '.NaN',
  '.NAN',
  '.nAn',
  'inf',
  'NaN',
  '123456789012345',
  '1234567890123456',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '99999999999999999999',
  '1:30',
  '1_2',
  '2024-01-01',
  '2024-01-01T00:00:00Z',
];
const WORDS = [
  ...KEYWORDS,
  ...['yes', 'Yes', 'no', 'on', 'off', 'y', 'n'],
  'hello',
  'hello world',
  'a # b',
  'a#b',
  'a: b',
  'a:b',
  'x,y',
  '@at',
  '`tick',
  '%pct',
  '&anchor x',
  '*alias',
  '!tag x',
  '!!str 1',
  '|',
  '>',
  '-',
  '- x',
  '? q',
  '/var/run/x.sock',
  '0 3 * * *',
  '*/5 * * * *',
  '1h30m',
  'Europe/Berlin',
  'a.b.c',
  '(x)',
  'a=b',
  'é',
  'a\u00a0b',
  '\u2028',
];
const QUOTED = [
  '""',
  "''",
  '"x"',
  '"\\t"',
  '"\\n"',
  '"\\\\"',
  '"\\""',
  '"\\/"',
  '"\\0"',
  '"\\a"',
  '"\\b"',
  '"\\e"',
  '"\\f"',
  '"\\r"',
  '"\\v"',
  '"\\ "',
  '"\\_"',
  '"\\N"',
  '"\\L"',
  '"\\P"',
  '"\\x41"',
  '"\\x4"',
  '"\\u00e9"',
  '"\\u00E9"',
  '"\\U0001F600"',
  '"\\ud83d\\ude00"',
  '"\\ud800"',
  '"\\udc00x"',
  '"\\u0000"',
  '"\\q"',
  '"a\\\nb"',
  '"a" # c',
  '"a"b',
  '"a\u0001"',
  '"a\u007f"',
  '"tab\there"',
  "'a''b'",
  "'a\\nb'",
  "'a\\'",
  "'a # b'",
  "'a' # c",
  "'it''s'",
  "'a\u0001'",
];
const FLOWS = [
  '[]',
  '{}',
  '[1, 2]',
  '["a", "b"]',
  '[1,2,]',
  '{"a": 1}',
  '{"a":1}',
  '{"a": 1, "a": 2}',
  '{"a": 1, "A": 2}',
  '{"True": 1, "true": 2}',
  '{"__proto__": 1}',
  '{"__proto__": {"x": 1}}',
  '{"constructor": 1}',
  '{"a": -0}',
  '{"a": -0.0}',
  '{"a": 1e400}',
  '{"a": 12345678901234567890}',
  '{"a": 0.1}',
  '{"a": 1E2}',
  '{"a": "\\ud800"}',
  '{"a": "\\u0000"}',
  '[null, true, false]',
  '[[[]]]',
  '{a: 1}',
  '[a, b]',
  '{"a": [1, {"b": null}]}',
  '[1, 2] # c',
  '{"k": "v"}x',
];
const VALUES = [...NUMBERS, ...WORDS, ...QUOTED, ...FLOWS, ''];

/** A random block node at `indent` (a mapping or a sequence), `depth` levels deep at most. */
function node(r: () => number, indent: number, depth: number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  const seq = r() < 0.3;
  // Keys that differ only by case (or are the same keyword) on purpose, sometimes.
  const keys = r() < 0.5 ? KEYWORDS : KEYS;
  for (let i = 0; i < n; i++) {
    const child = depth > 0 && r() < 0.3;
    const head = seq ? `${pad}-` : `${pad}${pick(keys)}:`;
    if (child) {
      lines.push(head);
      lines.push(...node(r, indent + 2, depth - 1));
    } else {
      const v = pick(VALUES);
      lines.push(v === '' ? head : `${head} ${v}`);
    }
  }
  return lines;
}

function assertNoMismatch(texts: Iterable<string>): { fast: number; total: number } {
  const bad: string[] = [];
  let fast = 0;
  let total = 0;
  for (const text of texts) {
    total++;
    if (parseSimpleYaml(text) !== DECLINED) fast++;
    const m = mismatch(text);
    if (m && bad.length < 10) bad.push(`${JSON.stringify(text)}: ${m}`);
  }
  expect(bad, bad.join('\n')).toEqual([]);
  return { fast, total };
}

describe('the YAML fast path agrees with the yaml package or declines', () => {
  it('every key with every value, and every scalar as a sequence item', () => {
    const texts: string[] = [];
    for (const k of KEYS) for (const v of VALUES) texts.push(v === '' ? `${k}:\n` : `${k}: ${v}\n`);
    for (const v of VALUES) texts.push(v === '' ? '-\n' : `- ${v}\n`);
    const { fast } = assertNoMismatch(texts);
    expect(fast).toBeGreaterThan(200); // the fast path still reads the common cases
  });

  it('every pair of keys (duplicates, case variants, keywords) in one mapping and in a list item', () => {
    const texts: string[] = [];
    for (const a of KEYS)
      for (const b of KEYS) {
        texts.push(`${a}: 1\n${b}: 2\n`);
        texts.push(`- ${a}: x\n  ${b}: y\n`);
      }
    const { fast } = assertNoMismatch(texts);
    expect(fast).toBeGreaterThan(100);
  });

  it('20,000 random nested documents (seeded)', () => {
    const r = rng(Number(process.env.YAML_DIFF_SEED ?? 22));
    const texts = function* () {
      for (let i = 0; i < 20_000; i++) yield node(r, 0, 3).join('\n') + '\n';
    };
    const { fast, total } = assertNoMismatch(texts());
    expect(total).toBe(20_000);
    expect(fast).toBeGreaterThan(500);
  });
});
