import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PyLiteralError,
  parseKwargsLiteral,
  parsePyLiteral,
  type PyLiteralValue,
} from '../../sources/btu/py-literal.js';
import { python } from '../helpers/python.js';

/** Returns the PyLiteralError thrown by `fn`, failing the test if it does not throw one. */
function errorOf(fn: () => unknown): PyLiteralError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PyLiteralError);
    return e as PyLiteralError;
  }
  throw new Error('expected a PyLiteralError, but parsing succeeded');
}

const parseError = (text: string): PyLiteralError => errorOf(() => parsePyLiteral(text));

describe('parsePyLiteral: valid input', () => {
  it.each<[string, PyLiteralValue]>([
    ["{'company': 'ACME', 'days': 7, 'dry_run': False}", { company: 'ACME', days: 7, dry_run: false }],
    ['{"a": None, "b": True, "c": False}', { a: null, b: true, c: false }],
    ['[]', []],
    ['()', []],
    ['{}', {}],
    ['(1,)', [1]],
    ['(1)', 1],
    ['((1, 2),)', [[1, 2]]],
    ['1, 2', [1, 2]],
    ['1,', [1]],
    ["[1, 'a', [2, (3, {'b': ()})],]", [1, 'a', [2, [3, { b: [] }]]]],
    ["{'a': 1, 'b': 2, 'a': 3}", { a: 3, b: 2 }],
    ["  {\n  'a' : [ 1 , ] ,  # a comment\n  # another\n  'b':(2,) ,\n}  # trailing\n", { a: [1], b: [2] }],
    ["\r\n{'a':\r\n 1}\r\n", { a: 1 }],
    ['\t\f1', 1],
    ["'a' \\\n 'b'", 'ab'],
    ['[1, \\\n 2]', [1, 2]],
    // Strings.
    ['\'a\' "b" \'\'\'c\'\'\' """d"""', 'abcd'],
    ["('a'\n 'b')", 'ab'],
    ["'''x\ny'''", 'x\ny'],
    ["'''a\r\nb\rc'''", 'a\nb\nc'],
    ['"""it\'s "quoted" """', 'it\'s "quoted" '],
    ["''''''", ''],
    ['u\'x\' U"y"', 'xy'],
    ['r\'\\n\\d\' R"\\t"', '\\n\\d\\t'],
    ["r'\\''", "\\'"],
    ["r'a\\\nb'", 'a\\\nb'],
    ["'\\\\ \\' \\\" \\n \\r \\t \\a \\b \\f \\v'", '\\ \' " \n \r \t \x07 \b \f \v'],
    ["'\\0|\\07|\\101|\\1012|\\400|\\08'", '\0|\x07|A|A2|\u0100|\x008'],
    ["'\\x41\\u00e9\\U0001F600\\ud800'", 'A\u00e9\u{1F600}\ud800'],
    ["'\\c\\8\\9\\ '", '\\c\\8\\9\\ '],
    ["'a\\\nb'", 'ab'],
    ["'a\\\r\nb'", 'ab'],
    ["{'ключ': 'значение ✓ 😀'}", { ключ: 'значение ✓ 😀' }],
    // Numbers.
    ['0', 0],
    ['00', 0],
    ['0_0', 0],
    ['1_000', 1000],
    ['0x_1F', 31],
    ['0XfF', 255],
    ['0o17', 15],
    ['0B1_0', 2],
    ['-5', -5],
    ['+5', 5],
    ['- 5', -5],
    ['-(5)', -5],
    ['(-5)', -5],
    ['[-\n5]', [-5]],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e10', 1e10],
    ['1E-3', 0.001],
    ['1.e5', 1e5],
    ['1_0.0_1e1_0', 10.01e10],
    ['007.5', 7.5],
    ['007e1', 70],
    ['1.5e-400', 0],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['9007199254740992', 9007199254740992n],
    ['-9007199254740993', -9007199254740993n],
    ['0x1_0000_0000_0000_0000', 2n ** 64n],
  ])('%j', (text, expected) => {
    expect(parsePyLiteral(text)).toStrictEqual(expected);
  });

  it('keeps the sign of -0.0 but not of the int -0 (as Python does)', () => {
    expect(Object.is(parsePyLiteral('-0.0'), -0)).toBe(true);
    expect(Object.is(parsePyLiteral('-0'), 0)).toBe(true);
  });

  it('returns plain objects whose keys are all own data properties', () => {
    const v = parsePyLiteral("{'constructor': 1, 'hasOwnProperty': 2, 'toString': 3}") as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['constructor', 'hasOwnProperty', 'toString']);
    expect(v.constructor).toBe(1);
  });

  it('keeps the first position of a duplicated key, like Python', () => {
    expect(Object.keys(parsePyLiteral("{'a': 1, 'b': 2, 'a': 3}") as object)).toEqual(['a', 'b']);
  });
});

describe('parsePyLiteral: rejected input', () => {
  it.each<[string, RegExp, number, number]>([
    ["{'company': 'ACME}", /^unterminated string$/, 1, 13],
    ["{'a':\n  [1, 2 3]}", /^unexpected number \(expected ',' or ']'\)$/, 2, 9],
    ['[1,,2]', /^unexpected ','/, 1, 4],
    ['{1: 2}', /^dict keys must be strings, got int$/, 1, 2],
    ["{'a': 1, None: 2}", /^dict keys must be strings, got None$/, 1, 10],
    ["{'a': 1,\n (1, 2): 2}", /^dict keys must be strings, got tuple$/, 2, 2],
    ['{1, 2}', /^sets are not supported/, 1, 1],
    ["{'a'}", /^sets are not supported/, 1, 1],
    ["{'a': 1, 'b'}", /^unexpected '}' \(expected ':' after the dict key\)$/, 1, 13],
    ['set()', /^unexpected name 'set' \(only True, False and None are allowed\)$/, 1, 1],
    ['inf', /^unexpected name 'inf'/, 1, 1],
    ['[nan]', /^unexpected name 'nan'/, 1, 2],
    ['{"a": true}', /^unexpected name 'true'/, 1, 7],
    ["b'x'", /^bytes literals are not supported/, 1, 1],
    ["[Rb'x']", /^bytes literals are not supported/, 1, 2],
    ["f'{x}'", /^f-strings are not supported/, 1, 1],
    ["ur'x'", /^unexpected name 'ur'$/, 1, 1],
    ['1j', /^complex numbers are not supported/, 1, 1],
    ['1e400', /^float literal out of range/, 1, 1],
    ['--5', /^unexpected '-'/, 1, 2],
    ['-(-5)', /^unary '-' only applies to an unsigned number, not a signed number$/, 1, 1],
    ['-True', /^unary '-' only applies to an unsigned number, not bool$/, 1, 1],
    ["+'a'", /^unary '\+' only applies to an unsigned number, not str$/, 1, 1],
    ['1 + 2', /^unexpected '\+' after the value/, 1, 3],
    ['007', /^leading zeros in decimal integer literals are not permitted/, 1, 1],
    ['0_7', /^leading zeros/, 1, 1],
    ['1__0', /^invalid decimal literal$/, 1, 1],
    ['1_', /^invalid decimal literal$/, 1, 1],
    ['1e', /^invalid decimal literal$/, 1, 1],
    ['1abc', /^invalid decimal literal$/, 1, 1],
    ['0x', /^invalid hexadecimal literal$/, 1, 1],
    ['0b102', /^invalid digit '2' in binary literal$/, 1, 1],
    ['0o8', /^invalid digit '8' in octal literal$/, 1, 1],
    ["'\\x4'", /^truncated \\x escape/, 1, 2],
    ["'\\u12'", /^truncated \\u escape/, 1, 2],
    ["'ab\\uZZZZ'", /^truncated \\u escape/, 1, 4],
    ["'\\U00110000'", /^illegal Unicode character in \\U escape/, 1, 2],
    ["'\\N{BULLET}'", /^\\N\{\.\.\.\} escapes are not supported/, 1, 2],
    ["'a\nb'", /^unterminated string/, 1, 1],
    ["'a'\n'b'", /^unexpected string \(on a new line/, 2, 1],
    ['-\n5', /^unexpected number \(on a new line/, 2, 1],
    ['1 \\\n', /^unexpected end of input after line continuation$/, 1, 3],
    ['1 \\ 2', /^unexpected character after line continuation$/, 1, 3],
    ['1\v', /^unexpected character U\+000B after the value/, 1, 2],
    ['\u00a01', /^unexpected character U\+00A0/, 1, 1],
    ['', /^expected a value, got end of input$/, 1, 1],
    ['  # just a comment', /^expected a value, got end of input$/, 1, 19],
    ['[1, 2', /^unexpected end of input \(expected ',' or '\]'\)$/, 1, 6],
    ["{'a': 1} {'b': 2}", /^unexpected '\{' after the value/, 1, 10],
  ])('%j', (text, reason, line, column) => {
    const e = parseError(text);
    expect(e.reason).toMatch(reason);
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message).toBe(`line ${line}, column ${column}: ${e.reason}`);
    expect(e.name).toBe('PyLiteralError');
  });
});

describe('parseKwargsLiteral', () => {
  it.each([null, undefined, '', '   ', '\n\t\r\n'])('treats %j as no arguments', (text) => {
    expect(parseKwargsLiteral(text)).toEqual({});
  });

  it('parses a dict', () => {
    expect(parseKwargsLiteral("{'company': 'ACME', 'days': 7, 'dry_run': False}")).toEqual({
      company: 'ACME',
      days: 7,
      dry_run: false,
    });
  });

  it.each<[string, string]>([
    ['[1]', 'line 1, column 1: expected a dict literal, got list'],
    ['\n  (1, 2)', 'line 2, column 3: expected a dict literal, got tuple'],
    ["{'a': 1},", 'line 1, column 1: expected a dict literal, got tuple'],
    ["'abc'", 'line 1, column 1: expected a dict literal, got str'],
    ['None', 'line 1, column 1: expected a dict literal, got None'],
  ])('rejects %j', (text, message) => {
    expect(errorOf(() => parseKwargsLiteral(text)).message).toBe(message);
  });
});

/**
 * Python's `ast.literal_eval` result, tagged so that int and float stay distinct and exact:
 * ints as decimal strings, floats as repr() (shortest round-trip), containers keep their type.
 */
type Tagged =
  | string
  | boolean
  | null
  | { $int: string }
  | { $float: string }
  | { $list: Tagged[] }
  | { $tuple: Tagged[] }
  | { $dict: [Tagged, Tagged][] }
  | { $other: string };

type PyResult = { ok: Tagged } | { error: string };

const LITERAL_EVAL = `
import ast, json, sys, warnings
warnings.simplefilter('ignore')
def tag(v):
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int):
        try: return {'$int': str(v)}
        except ValueError: return {'$other': 'int over 4300 digits'}
    if isinstance(v, float): return {'$float': repr(v)}
    if isinstance(v, list): return {'$list': [tag(x) for x in v]}
    if isinstance(v, tuple): return {'$tuple': [tag(x) for x in v]}
    if isinstance(v, dict): return {'$dict': [[tag(k), tag(x)] for k, x in v.items()]}
    return {'$other': type(v).__name__}
out = []
for src in json.load(sys.stdin):
    try:
        out.append({'ok': tag(ast.literal_eval(src))})
    except Exception as e:
        out.append({'error': type(e).__name__ + ': ' + str(e)})
print(json.dumps(out))
`;

async function literalEval(cases: string[]): Promise<PyResult[]> {
  return JSON.parse(await python(LITERAL_EVAL, { input: JSON.stringify(cases) })) as PyResult[];
}

/** Differences between our value and Python's tagged one, as human-readable paths; empty when equal. */
function mismatches(ours: unknown, py: Tagged, path = '$'): string[] {
  const bad = [`${path}: ours ${String(ours)} (${typeof ours}), Python ${JSON.stringify(py)}`];
  if (py === null || typeof py !== 'object') return ours === py ? [] : bad;
  if ('$int' in py) {
    const n = BigInt(py.$int);
    const safe = n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
    return (safe ? Object.is(ours, Number(n)) : ours === n) ? [] : bad;
  }
  if ('$float' in py) return Object.is(ours, Number(py.$float)) ? [] : bad;
  if ('$list' in py || '$tuple' in py) {
    const items = '$list' in py ? py.$list : py.$tuple;
    if (!Array.isArray(ours) || ours.length !== items.length) return bad;
    return items.flatMap((item, i) => mismatches(ours[i], item, `${path}[${i}]`));
  }
  if ('$dict' in py) {
    if (typeof ours !== 'object' || ours === null || Array.isArray(ours)) return bad;
    const keys = py.$dict.map(([k]) => k);
    if (!keys.every((k) => typeof k === 'string')) return bad;
    // JS objects list integer-like keys first, so compare key sets, not order.
    if (JSON.stringify(Object.keys(ours).sort()) !== JSON.stringify(keys.slice().sort())) return bad;
    return py.$dict.flatMap(([k, v]) =>
      mismatches(Object.getOwnPropertyDescriptor(ours, k as string)?.value, v, `${path}[${JSON.stringify(k)}]`),
    );
  }
  return bad;
}

const DIGITS_4000 = Array.from({ length: 4000 }, (_, i) => String((i * 7 + 3) % 10))
  .join('')
  .replace(/^0+/, '9');

/** Parsed identically by both, or rejected by both. Kept below maxDepth and Python's own limits. */
const EQUIVALENCE_CASES = [
  "{'company': 'ACME', 'days': 7, 'dry_run': False}",
  '{"a": None, "b": True, "c": [1, 2.5, -3, +4]}',
  "{'a': (1, [2, {'b': ()}]), 'c': (), 'd': (5,), 'e': (5)}",
  "{'a': 1, 'b': 2, 'a': 3}",
  "{'__proto__': {'polluted': 1}, 'constructor': 2, '10': 'x', '2': 'y'}",
  "{'ключ': 'значение ✓ 😀'}",
  '1, 2',
  '1,',
  "  {\n  'a' : [ 1 , ] ,  # a comment\n  'b':(2,) ,\n}  # trailing\n",
  "\n{'a': 1}\n#c\n",
  "\r\n{'a':\r\n 1}\r\n",
  '\f1',
  "'a' \\\n 'b'",
  '\'a\' "b" \'\'\'c\'\'\' """d"""',
  "('a'\n 'b')",
  "'''a\r\nb\rc'''",
  "u'x' U\"y\" r'\\n\\d' R\"\\t\" r'\\''",
  "r'a\\\nb'",
  "'\\\\ \\' \\\" \\n \\r \\t \\a \\b \\f \\v'",
  "'\\0|\\07|\\101|\\1012|\\400|\\777|\\08'",
  "'\\x41\\u00e9\\U0001F600\\ud800\\udfff'",
  "'\\c\\8\\9\\ \\z'",
  "'a\\\nb' 'c\\\r\nd'",
  '[0, 00, 0_0, 1_000, 0x_1F, 0XfF, 0o17, 0B1_0, -0, -(5), (-5), - 5]',
  '[-\n5]',
  '[1.5, .5, 5., 1e10, 1E-3, 1.e5, 1_0.0_1e1_0, 007.5, 007e1, -0.0, 0.1, 1.5e-400]',
  '[1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 123456789012345678901234567890.5]',
  '[9007199254740993.0, 2.4703282292062328e-324, 0.30000000000000004, 1e-5, 123e-20]',
  `0.${'1'.repeat(400)}`,
  '[9007199254740991, 9007199254740992, -9007199254740993, 18446744073709551616, 0xFFFFFFFFFFFFFFFFFF]',
  DIGITS_4000,
  `-${DIGITS_4000}`,
  '9'.repeat(4300),
  '0'.repeat(5000),
  `${'['.repeat(60)}${']'.repeat(60)}`,
  // Rejected by both.
  "'a",
  '"a',
  "'''a",
  '"""a""',
  "'a\nb'",
  "r'\\'",
  "'''a''''",
  '--5',
  '-(-5)',
  '-True',
  "-'a'",
  '-(1,)',
  '1+2',
  "{'a': 1} + {}",
  '007',
  '0_7',
  '1__0',
  '1_',
  '0x',
  '0b_',
  '0b102',
  '0o8',
  '1e',
  '1._5',
  '1abc',
  '[1,,2]',
  '[,]',
  '{,}',
  '(,)',
  '[1 2]',
  "{'a': 1 'b': 2}",
  "{'a': 1, 'b'}",
  'inf',
  'nan',
  'true',
  'null',
  'Ｔｒｕｅ',
  "__import__('os').system('x')",
  "{'a': open('/etc/passwd')}",
  '{**x}',
  '[*x]',
  'lambda: 0',
  'dict(a=1)',
  'frozenset()',
  "'a'.upper()",
  "'a'[0]",
  '(1)(2)',
  '[x for x in y]',
  '1 if 1 else 2',
  'not 1',
  '1;2',
  'x = 1',
  "f'x'",
  "ur'x'",
  "'\\x4'",
  "'\\u12'",
  "'\\U00110000'",
  "'\\N'",
  "'a'\n'b'",
  '-\n5',
  '1 \\\n',
  '1\v',
  '\u00a01',
  '\ufeff1',
  '',
  '  ',
  '# only a comment',
  "'a\0'",
  '9'.repeat(4301),
  `${'1_'.repeat(4300)}1`,
];

/** Python accepts these; pyrq rejects them on purpose (see the module comment). */
const REJECTED_ON_PURPOSE = [
  '{1, 2}',
  "{'a'}",
  'set()',
  "{1: 'a'}",
  '{None: 1}',
  '{(1, 2): 3}',
  "{'a': {1.5: 2}}",
  "b'x'",
  "Rb'x'",
  '1j',
  '1+2j',
  '1e400',
  '-1e400',
  "'\\N{BULLET}'",
  `0x${'f'.repeat(4000)}`,
  `${'['.repeat(65)}${']'.repeat(65)}`,
];

/** Python raises IndentationError for these; pyrq ignores surrounding whitespace on purpose. */
const ACCEPTED_ON_PURPOSE: [string, PyLiteralValue][] = [
  ["\n  {'a': 1}", { a: 1 }],
  ["{'a': 1}\n  ", { a: 1 }],
  ["\n\n  {'a': 1}\n\n", { a: 1 }],
];

describe(`equivalence with ast.literal_eval`, () => {
  let results: PyResult[];
  let rejectedOnPurpose: PyResult[];
  let acceptedOnPurpose: PyResult[];

  beforeAll(async () => {
    [results, rejectedOnPurpose, acceptedOnPurpose] = await Promise.all([
      literalEval(EQUIVALENCE_CASES),
      literalEval(REJECTED_ON_PURPOSE),
      literalEval(ACCEPTED_ON_PURPOSE.map(([text]) => text)),
    ]);
  });

  it('covers accepted and rejected input in about equal measure', () => {
    const accepted = results.filter((r) => 'ok' in r).length;
    expect(accepted).toBeGreaterThanOrEqual(30);
    expect(results.length - accepted).toBeGreaterThanOrEqual(30);
  });

  it.each(EQUIVALENCE_CASES.map((text, i) => [i, text.length > 60 ? `${text.slice(0, 60)}...` : text] as const))(
    'case %i: %j',
    (i) => {
      const text = EQUIVALENCE_CASES[i] as string;
      const py = results[i] as PyResult;
      if ('ok' in py) {
        expect(mismatches(parsePyLiteral(text), py.ok)).toEqual([]);
      } else {
        expect(() => parsePyLiteral(text), `Python: ${py.error}`).toThrow(PyLiteralError);
      }
    },
  );

  it.each(REJECTED_ON_PURPOSE.map((text, i) => [i, text.length > 60 ? `${text.slice(0, 60)}...` : text] as const))(
    'rejects on purpose what Python accepts: %i %j',
    (i) => {
      expect(rejectedOnPurpose[i]).toHaveProperty('ok');
      expect(() => parsePyLiteral(REJECTED_ON_PURPOSE[i] as string)).toThrow(PyLiteralError);
    },
  );

  it.each(ACCEPTED_ON_PURPOSE.map(([text], i) => [i, text] as const))(
    'accepts on purpose what Python rejects: %i %j',
    (i) => {
      const [text, expected] = ACCEPTED_ON_PURPOSE[i] as [string, PyLiteralValue];
      expect((acceptedOnPurpose[i] as { error?: string }).error).toMatch(/^IndentationError/);
      expect(parsePyLiteral(text)).toEqual(expected);
    },
  );
});

describe('hostile input', () => {
  /** Parses and returns the error and the elapsed milliseconds. */
  function timedError(text: string): { error: PyLiteralError; ms: number } {
    const t0 = performance.now();
    const error = parseError(text);
    return { error, ms: performance.now() - t0 };
  }

  it.each([
    ['[', ']'],
    ['(', ')'],
    ["{'a':", '}'],
  ])('rejects 100,000-deep %s nesting quickly, without overflowing the stack', (open, close) => {
    const { error, ms } = timedError(open.repeat(100_000) + close.repeat(100_000));
    expect(error.reason).toBe('nesting deeper than 64 levels');
    expect(ms).toBeLessThan(500);
  });

  it('rejects 100,000 unary signs without recursing', () => {
    expect(timedError(`${'-'.repeat(100_000)}1`).error.reason).toMatch(/^unexpected '-'/);
  });

  it('honours a custom maxDepth', () => {
    expect(parsePyLiteral('[[1]]', { maxDepth: 2 })).toEqual([[1]]);
    expect(errorOf(() => parsePyLiteral('[[[1]]]', { maxDepth: 2 })).message).toBe(
      'line 1, column 3: nesting deeper than 2 levels',
    );
  });

  it('rejects a 5,000-digit int', () => {
    expect(parseError('7'.repeat(5000)).reason).toMatch(/more than 4300 digits/);
    expect(parseError(`{'a': -${'7'.repeat(5000)}}`).reason).toMatch(/more than 4300 digits/);
  });

  it("accepts a 4,000-digit int as a bigint equal to Python's value", async () => {
    const value = parsePyLiteral(`-${DIGITS_4000}`);
    expect(typeof value).toBe('bigint');
    const fromPython = await python('import ast, sys; print(ast.literal_eval(sys.stdin.read()))', {
      input: `-${DIGITS_4000}`,
    });
    expect((value as bigint).toString()).toBe(fromPython.trim());
  });

  it('rejects a megabyte of digits quickly', () => {
    const { error, ms } = timedError('1'.repeat(1024 * 1024 - 10));
    expect(error.reason).toMatch(/more than 4300 digits/);
    expect(ms).toBeLessThan(500);
  });

  it.each([
    ["{'a': 'abc", 'unterminated string', 7],
    ["{'a': \"abc", 'unterminated string', 7],
    ["{'a': '''abc''", 'unterminated triple-quoted string', 7],
    ['{\'a\': """abc\n\n', 'unterminated triple-quoted string', 7],
    ["{'a': r'abc\\'", 'unterminated string', 7],
    ["{'a': 'abc\\", 'unterminated string', 7],
  ])('reports unterminated strings where they start: %j', (text, reason, column) => {
    const e = parseError(text);
    expect([e.reason, e.line, e.column]).toEqual([reason, 1, column]);
  });

  it.each([
    [
      "__import__('os').system('x')",
      "line 1, column 1: unexpected name '__import__' (only True, False and None are allowed)",
    ],
    ["{'a': open('/etc/passwd')}", "line 1, column 7: unexpected name 'open' (only True, False and None are allowed)"],
    ['{**x}', "line 1, column 2: unexpected '**'"],
    [
      "{'a': 1} + {}",
      "line 1, column 10: unexpected '+' after the value; operators, calls, attributes and subscripts are not allowed",
    ],
    ['lambda: 0', "line 1, column 1: unexpected name 'lambda' (only True, False and None are allowed)"],
    [
      'True.__class__',
      "line 1, column 5: unexpected '.' after the value; operators, calls, attributes and subscripts are not allowed",
    ],
  ])('never evaluates code: %j', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });

  it('has no eval or Function in its source', () => {
    const source = readFileSync(new URL('../../sources/btu/py-literal.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/\beval\s*\(|\bFunction\s*\(/);
  });

  it('rejects input over maxLength before parsing', () => {
    const { error, ms } = timedError(`[${'1, '.repeat(700_000)}]`);
    expect(error.reason).toBe('input is longer than 1048576 characters');
    expect(ms).toBeLessThan(200);
    expect(errorOf(() => parsePyLiteral("{'a': 1}", { maxLength: 4 })).reason).toBe(
      'input is longer than 4 characters',
    );
  });

  it('accepts input just under 1 MiB', () => {
    const text = `['${'x'.repeat(1024 * 1024 - 4)}']`;
    expect(text.length).toBe(1024 * 1024);
    expect((parsePyLiteral(text) as string[])[0]).toHaveLength(1024 * 1024 - 4);
  });

  it('does not pollute Object.prototype through __proto__ keys', () => {
    const v = parsePyLiteral("{'__proto__': {'polluted': 1}}") as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(true);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: 1 });
    const kwargs = parseKwargsLiteral("{'__proto__': {'polluted': 1}, 'constructor': {'prototype': 2}}");
    expect(Object.keys(kwargs)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["'\\u12'", /^truncated \\u escape/],
    ["'\\uD8'", /^truncated \\u escape/],
    ["'\\U0010FFFF'", null],
    ["'\\U00110000'", /^illegal Unicode character/],
    ["'\\UFFFFFFFF'", /^illegal Unicode character/],
    ["'\\U1234'", /^truncated \\U escape/],
    ["'\\xZZ'", /^truncated \\x escape/],
    ["'\\N{LATIN SMALL LETTER A}'", /^\\N\{\.\.\.\} escapes are not supported/],
  ])('checks unicode escapes: %j', (text, reason) => {
    if (reason === null) expect(parsePyLiteral(text)).toBe('\u{10FFFF}');
    else expect(parseError(text).reason).toMatch(reason);
  });

  it.each([
    ["{'a': 'b\0'}", 1, 9],
    ['\0', 1, 1],
    ["{'a': 1}\n\0", 2, 1],
  ])('rejects NUL characters anywhere: %j', (text, line, column) => {
    const e = parseError(text);
    expect([e.reason, e.line, e.column]).toEqual(['NUL character (U+0000) is not allowed', line, column]);
  });
});
