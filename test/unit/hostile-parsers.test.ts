/**
 * Reserved keys and out-of-range TOML integers in schedule files (issue 22, point 6):
 * each case here was accepted before (a `__proto__` that became a prototype, an integer
 * that wrapped), and is now refused with an error that names the field. And the TOML
 * fast path's cost on one hostile line.
 */
import { describe, expect, it, vi } from 'vitest';
import { parseScheduleFile } from '../../sources/files/parse-file.js';
import { DECLINED, parseSimpleToml } from '../../sources/files/simple-toml.js';

const parse = (name: string, text: string) => parseScheduleFile(name, new TextEncoder().encode(text));
const error = (name: string, text: string): string => {
  const r = parse(name, text);
  expect(r.ok, `${name} should be refused: ${text}`).toBe(false);
  return r.ok ? '' : r.message;
};

const BASE = { id: 'x', function: 'app.tasks.run', every: '1h' };

describe('__proto__, constructor and prototype are refused in every format', () => {
  it('YAML: the fast path and the yaml package (a flow mapping, anchors) both refuse, naming the path', () => {
    // Block style goes through `yaml` (the fast path declines __proto__).
    expect(
      error('a.yaml', 'id: x\nfunction: app.tasks.run\nevery: 1h\n__proto__:\n  enabled: false\n  queue: hidden\n'),
    ).toBe('the key "__proto__" is refused (__proto__, constructor and prototype are reserved names); rename it');
    expect(error('a.yaml', 'id: x\nfunction: app.tasks.run\nevery: 1h\nkwargs:\n  __proto__: 1\n')).toMatch(
      /^kwargs: the key "__proto__" is refused/,
    );
    // Inside a JSON-style flow value the fast path reads.
    expect(error('a.yaml', '- id: x\n  kwargs: {"__proto__": {"a": 1}}\n')).toMatch(
      /^\[0\]\.kwargs: the key "__proto__" is refused/,
    );
    expect(error('a.yaml', '- id: x\n  constructor: 1\n')).toMatch(/^\[0\]: the key "constructor" is refused/);
    expect(error('a.yaml', 'schedules:\n  - id: x\n    kwargs:\n      deep:\n        prototype: 1\n')).toMatch(
      /^schedules\[0\]\.kwargs\.deep: the key "prototype" is refused/,
    );
    expect(error('a.yaml', 'base: &b {x: 1}\nid: x\n__proto__: *b\n')).toMatch(/the key "__proto__" is refused/);
  });

  it('TOML: a key, a table and an inline table', () => {
    expect(error('a.toml', 'id = "x"\n__proto__ = { enabled = false }\n')).toMatch(/^the key "__proto__" is refused/);
    expect(error('a.toml', 'id = "x"\n[kwargs.__proto__]\nq = 1\n')).toMatch(/^kwargs: the key "__proto__" is refused/);
    expect(error('a.toml', 'id = "x"\nkwargs = { constructor = 1 }\n')).toMatch(/^kwargs: the key "constructor"/);
  });

  it('JSON: top level and inside kwargs', () => {
    expect(error('a.json', JSON.stringify(BASE).replace('{', '{"__proto__": {"queue": "hidden"}, '))).toMatch(
      /^the key "__proto__" is refused/,
    );
    expect(error('a.json', JSON.stringify([{ ...BASE, kwargs: { prototype: 1 } }]))).toMatch(
      /^\[0\]\.kwargs: the key "prototype" is refused/,
    );
  });

  it('the same names as values, or inside longer keys, are plain data', () => {
    for (const [name, text] of [
      [
        'a.yaml',
        'id: x\nfunction: app.tasks.run\nevery: 1h\nkwargs:\n  kind: __proto__\n  my_prototype: constructor\n',
      ],
      ['a.toml', 'id = "x"\nfunction = "app.tasks.run"\nevery = "1h"\n[kwargs]\nkind = "__proto__"\n'],
      ['a.json', JSON.stringify({ ...BASE, kwargs: { kind: 'constructor' } })],
    ] as const)
      expect(parse(name, text).ok, text).toBe(true);
  });
});

describe('TOML integers beyond 64 bits are refused wherever TOML allows them', () => {
  const cases: [string, RegExp][] = [
    ['a = {b = 18446744073709551617}', /line 1: integer 18446744073709551617 in "b" does not fit/],
    ['a = [1, 18446744073709551617]', /line 1: integer 18446744073709551617 in "a" does not fit/],
    ['a = [[1], [2, 99999999999999999999]]', /integer 99999999999999999999 in "a"/],
    ['x = 1\n[t]\nv = { w = [ -9223372036854775809 ] }', /line 3: integer -9223372036854775809 in "w"/],
    ['a = 9223372036854775808', /integer 9223372036854775808 in "a"/],
    ['a = 0xFFFFFFFFFFFFFFFFFF', /integer 0xFFFFFFFFFFFFFFFFFF in "a"/],
    ['a = 0x8000000000000000', /integer 0x8000000000000000 in "a"/],
    ['a = 0o7777777777777777777777777', /integer 0o7777777777777777777777777 in "a"/],
    [`a = 0b1${'0'.repeat(63)}`, /integer 0b10+… in "a"/],
    ['a = 1_000_000_000_000_000_000_000', /integer 1_000_000_000_000_000_000_000 in "a"/],
    ['"quoted key" = 99999999999999999999', /in "quoted key"/],
    ['a = """\nmulti "" line\n"""\nb = 99999999999999999999', /line 4: integer 99999999999999999999 in "b"/],
  ];
  for (const [text, re] of cases)
    it(text.replace(/\n/g, '\\n'), () => {
      expect(error('a.toml', text)).toMatch(re);
      expect(error('a.toml', text)).toMatch(/^invalid TOML: .*; use a string$/);
    });

  it('in range values, and big numbers in strings, comments, keys, floats and dates, are read', () => {
    for (const text of [
      'id = "x"\nfunction = "app.tasks.run"\nevery = "1h"\n[kwargs]\nmax = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF',
      'id = "x"\nfunction = "app.tasks.run"\nevery = "1h"\n[kwargs]\ns = "99999999999999999999"\nl = \'99999999999999999999\'\n# 99999999999999999999\nf = 99999999999999999999.5\ne = 1e99999999999999999999\nd = 1979-05-27T07:32:00Z',
      'id = "x"\nfunction = "app.tasks.run"\nevery = "1h"\n[kwargs]\n99999999999999999999 = 1\n[kwargs.t.99999999999999999999]\nq = 1',
    ])
      expect(parse('a.toml', text).ok, text).toBe(true);
  });
});

describe('the TOML fast path reads a hostile line in one pass', () => {
  // Characters its searches (indexOf) cover, counted rather than timed: a search per
  // string for the line's end, or per escape for the closing quote, was quadratic.
  it('20,000 strings, or 50,000 escapes, on one line: searched within 3x the text', () => {
    const manyStrings = `x = [${Array.from({ length: 20_000 }, () => '"ab"').join(', ')}]\n`;
    const manyEscapes = `x = "${'\\n'.repeat(50_000)}"\n`;
    for (const text of [manyStrings, manyEscapes]) {
      let searched = 0;
      const indexOf = String.prototype.indexOf;
      const spy = vi.spyOn(String.prototype, 'indexOf').mockImplementation(function (
        this: string,
        search: string,
        from?: number,
      ) {
        const at = indexOf.call(this, search, from);
        if (this === text) searched += (at < 0 ? this.length : at) - (from ?? 0);
        return at;
      });
      let value: unknown;
      try {
        value = parseSimpleToml(text);
      } finally {
        spy.mockRestore();
      }
      expect(value).not.toBe(DECLINED);
      expect(searched).toBeLessThan(3 * text.length);
    }
  });
});
