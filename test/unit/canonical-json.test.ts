import { describe, expect, it } from 'vitest';
import { canonicalStringify, JsonSyntaxError, parseJson, stableHash } from '../../src/canonical-json.js';

describe('canonicalStringify', () => {
  it('sorts keys recursively, by UTF-16 code units, without whitespace', () => {
    const v = { b: 1, a: { z: [{ y: 1, x: 2 }], é: 0, B: 0, '10': 1, '9': 2, '😀': 3, '\uffff': 4 } };
    // Code-unit order puts the emoji's high surrogate (0xD83D) before U+FFFF, unlike code-point order.
    expect(canonicalStringify(v)).toBe('{"a":{"10":1,"9":2,"B":0,"z":[{"x":2,"y":1}],"é":0,"😀":3,"\uffff":4},"b":1}');
  });

  it('writes bigints as bare integers and numbers as JSON.stringify does', () => {
    expect(canonicalStringify([2n ** 64n, -(10n ** 40n), 0n, 1.5, -0, 1e21, 5e-324, 2 ** 53])).toBe(
      '[18446744073709551616,-10000000000000000000000000000000000000000,0,1.5,0,1e+21,5e-324,9007199254740992]',
    );
  });

  it('matches JSON.stringify on bigint-free input apart from key order', () => {
    const v = {
      s: 'quote " backslash \\ nl \n tab \t nul \0 lone \ud800 emoji 😀',
      n: [null, true, false, 0.1, -3],
      o: {},
    };
    expect(JSON.parse(canonicalStringify(v))).toEqual(v);
    expect(canonicalStringify(v)).toBe(JSON.stringify({ n: v.n, o: v.o, s: v.s }));
  });

  it('writes every string as JSON.stringify does: each code unit, and random strings of them', () => {
    // Every UTF-16 code unit on its own (escapes, controls, DEL, U+2028, both surrogate
    // halves), pairs of them (a surrogate pair passes as is), and seeded random strings.
    for (let c = 0; c <= 0xffff; c++) {
      const s = String.fromCharCode(c);
      expect(canonicalStringify(s)).toBe(JSON.stringify(s));
    }
    const units = [
      'a',
      '"',
      '\\',
      '\n',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u2028',
      'é',
      '\ud83d',
      '\ude00',
      '\udfff',
      ' ',
    ];
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let n = i % 12; n > 0; n--) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        s += units[seed % units.length];
      }
      expect(canonicalStringify({ k: s, l: [s] })).toBe(JSON.stringify({ k: s, l: [s] }));
    }
  });

  it('omits undefined properties, uses toJSON, and accepts null-prototype objects', () => {
    const bare = Object.assign(Object.create(null) as object, { k: new Date(0), u: undefined });
    expect(canonicalStringify({ a: undefined, b: bare })).toBe('{"b":{"k":"1970-01-01T00:00:00.000Z"}}');
  });

  it.each([
    ['undefined in an array', { args: [1, undefined] }, /^cannot write \$\.args\[1\] as JSON: undefined/],
    ['undefined at the top', undefined, /^cannot write \$ as JSON: undefined/],
    ['a function', { a: { 'odd key': () => 1 } }, /^cannot write \$\.a\["odd key"\] as JSON: a function/],
    ['a symbol', [Symbol('s')], /^cannot write \$\[0\] as JSON: a symbol/],
    ['NaN', { n: NaN }, /^cannot write \$\.n as JSON: NaN is not a JSON number/],
    ['Infinity', [[-Infinity]], /^cannot write \$\[0\]\[0\] as JSON: -Infinity/],
    ['a Map', { m: new Map([[1, 2]]) }, /\$\.m as JSON: a Map instance is not a plain object/],
    ['a class instance', [new (class Spec {})()], /\$\[0\] as JSON: a Spec instance/],
  ])('rejects %s, naming the path', (_name, v, message) => {
    expect(() => canonicalStringify(v)).toThrow(TypeError);
    expect(() => canonicalStringify(v)).toThrow(message);
  });

  it('rejects circular references and nesting beyond 512 levels', () => {
    const loop: Record<string, unknown> = { a: [] };
    (loop.a as unknown[]).push(loop);
    expect(() => canonicalStringify(loop)).toThrow(/^cannot write \$\.a\[0\] as JSON: circular reference/);
    expect(() => canonicalStringify(nest(512))).not.toThrow();
    expect(() => canonicalStringify(nest(513))).toThrow(/nested more than 512 levels deep/);
  });
});

function nest(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('parseJson', () => {
  it('returns bigint only for integer literals outside the safe range', () => {
    const v = parseJson(
      '{"big": 123456789012345678901234567890, "neg": -9007199254740992, "max": 9007199254740991, "min": -9007199254740991, "f": 12345678901234567.5, "e": 1e300, "z": -0}',
    ) as Record<string, unknown>;
    expect(v.big).toBe(123456789012345678901234567890n);
    expect(v.neg).toBe(-9007199254740992n);
    expect(v.max).toBe(9007199254740991);
    expect(v.min).toBe(-9007199254740991);
    // eslint-disable-next-line no-loss-of-precision -- the same literal JSON.parse rounds
    expect(v.f).toBe(12345678901234567.5);
    expect(v.e).toBe(1e300);
    expect(Object.is(v.z, -0)).toBe(true);
  });

  it('round-trips bigints through canonicalStringify', () => {
    const v = { ids: [2n ** 64n, -(2n ** 63n), 10n ** 40n], n: 1, nested: { x: [9007199254740993n] } };
    const text = canonicalStringify(v);
    expect(parseJson(text)).toEqual(v);
    expect(canonicalStringify(parseJson(text))).toBe(text);
  });

  const SAMPLES = [
    '{}',
    '[]',
    ' \t\r\n{ "a" : [ 1 , 2.5 , -3e-7 , true , false , null ] , "b" : { } }\n',
    '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00 \\ud800 \\u0000"',
    '{"dup": 1, "dup": 2, "order": 0}',
    '{"__proto__": {"polluted": true}, "x": 1}',
    '[0, -0, 0.0, 1E2, 1e+2, 123456789012345, 900719925474099]',
    '"日本語 😀"',
    'null',
    '  42  ',
  ];

  it.each(SAMPLES)('gives the same result as JSON.parse on the slow path: %s', (text) => {
    // A 16-digit run inside a string forces the recursive-descent parser.
    const wrapped = `{"pad": "1234567890123456", "v": ${text}}`;
    const slow = parseJson(wrapped) as { v: unknown };
    const native = JSON.parse(wrapped) as { v: unknown };
    expect(slow.v).toEqual(native.v);
    expect(Object.keys(slow.v ?? {})).toEqual(Object.keys(native.v ?? {}));
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it('keeps "__proto__" as an own property instead of setting the prototype', () => {
    const v = parseJson('{"__proto__": {"polluted": 1}, "n": 12345678901234567890}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'n']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{\n  "a": [1,\n    2,\n', 4, 1, 'unexpected end of input'],
    ['{"a": 1,}', 1, 9, `expected a string key but found character "}"`],
    ['[1 2]', 1, 4, `expected ',' or ']' but found character "2"`],
    ['{"a" 1}', 1, 6, `expected ':' but found character "1"`],
    ['[tru]', 1, 2, 'expected a JSON value but found character "t"'],
    ['', 1, 1, 'unexpected end of input'],
    ['"abc', 1, 5, 'unexpected end of input'],
    ['"a\nb"', 1, 3, 'control character in string (write it as an escape)'],
    ['"\\x"', 1, 2, "invalid escape '\\x'"],
    ['"\\u12G4"', 1, 2, 'invalid \\u escape (expected 4 hex digits)'],
    ['[01]', 1, 3, `expected ',' or ']' but found character "1"`],
    ['[1.]', 1, 4, 'expected a digit after the decimal point but found character "]"'],
    ['[-]', 1, 3, 'expected a digit but found character "]"'],
    ['{} x', 1, 4, 'unexpected character "x" after the JSON value'],
    ['\r\n\r\n  😀', 3, 3, 'expected a JSON value but found character "😀"'],
    ['[12345678901234567890,', 1, 23, 'unexpected end of input'],
  ])('reports %j at line %i, column %i', (text, line, column, reason) => {
    let err: unknown;
    try {
      parseJson(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonSyntaxError);
    expect(err).toBeInstanceOf(SyntaxError);
    expect(err).toMatchObject({ line, column, reason, message: `line ${line}, column ${column}: ${reason}` });
  });

  it('limits nesting to 512 levels with a clear error', () => {
    const deep = (n: number): string => '['.repeat(n) + '12345678901234567' + ']'.repeat(n);
    let v = parseJson(deep(512));
    for (let i = 0; i < 512; i++) v = (v as unknown[])[0];
    expect(v).toBe(12345678901234567n);
    expect(() => parseJson(deep(513))).toThrow('line 1, column 513: nested more than 512 levels deep');
  });
});

describe('stableHash', () => {
  it('is the hex SHA-256 of the canonical text and ignores key order', () => {
    const a = stableHash({ id: 'nightly', cron: '0 3 * * *', args: [1, 2n ** 70n], kwargs: { b: 1, a: 2 } });
    const b = stableHash({ kwargs: { a: 2, b: 1 }, args: [1, 2n ** 70n], cron: '0 3 * * *', id: 'nightly' });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(
      stableHash({ id: 'nightly', cron: '0 3 * * *', args: [1, 2n ** 70n + 1n], kwargs: { b: 1, a: 2 } }),
    ).not.toBe(a);
    // Pinned: a change here changes every stored hash, so it must be deliberate.
    // sha256 of '{"a":null,"b":[1,"x"]}'
    expect(stableHash({ b: [1, 'x'], a: null })).toBe(
      'c22cb7b0353770e2b38094af641143ebf008ddf2d1f2dedb9d875996fcf245fa',
    );
  });
});
