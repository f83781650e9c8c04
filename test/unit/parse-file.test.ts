import { describe, expect, it } from 'vitest';
import { isScheduleFile, parseScheduleFile } from '../../sources/files/parse-file.js';

const parse = (name: string, text: string | Uint8Array) =>
  parseScheduleFile(name, typeof text === 'string' ? Buffer.from(text) : text);

function entries(name: string, text: string) {
  const r = parse(name, text);
  if (!r.ok) throw new Error(r.message);
  return r.entries;
}

function error(name: string, text: string | Uint8Array): string {
  const r = parse(name, text);
  if (r.ok) throw new Error('expected an error');
  return r.message;
}

describe('which files are read', () => {
  it('reads json, toml, yaml and yml; skips hidden files and editor temporaries', () => {
    for (const n of ['a.json', 'a.toml', 'a.yaml', 'a.yml', 'A.YAML']) expect(isScheduleFile(n)).toBe(true);
    for (const n of [
      '.a.json',
      'a.json~',
      '.#a.json',
      '#a.json#',
      'a.json.swp',
      'a.swp',
      'a.txt',
      'a.json.tmp',
      'a.toml.bak',
      'README.md',
    ])
      expect(isScheduleFile(n)).toBe(false);
  });
});

describe('file shapes', () => {
  it('one schedule, a list, a schedules list, a schedules table keyed by id', () => {
    expect(entries('a.json', '{"id":"x","function":"a.b","every":5}')).toEqual([
      { raw: { id: 'x', function: 'a.b', every: 5 }, locator: '' },
    ]);
    expect(entries('a.yaml', '- id: x\n- id: y\n').map((e) => e.locator)).toEqual(['[0]', '[1]']);
    expect(entries('a.toml', '[[schedules]]\nid = "x"\n[[schedules]]\nid = "y"\n').map((e) => e.locator)).toEqual([
      'schedules[0]',
      'schedules[1]',
    ]);
    expect(entries('a.toml', '[schedules.nightly]\nfunction = "a.b"\n')).toEqual([
      { raw: { id: 'nightly', function: 'a.b' }, locator: 'schedules.nightly' },
    ]);
  });

  it('allows a top-level $schema for editors', () => {
    expect(entries('a.json', '{"$schema":"x","id":"x"}')).toEqual([{ raw: { id: 'x' }, locator: '' }]);
    expect(entries('a.json', '{"$schema":"x","schedules":[]}')).toEqual([]);
  });

  it('refuses other top-level fields beside schedules, and a mismatched table id', () => {
    expect(error('a.json', '{"schedules":[],"extra":1}')).toBe('unknown top-level field "extra" beside "schedules"');
    expect(error('a.toml', '[schedules.a]\nid = "b"\n')).toBe('schedules.a: id "b" differs from its key "a"');
    expect(error('a.json', '"x"')).toMatch(/expected a schedule, a list of schedules/);
    expect(error('a.json', '{"schedules": 5}')).toBe('"schedules" must be a list or a table of schedules');
  });
});

describe('syntax errors name the format and position', () => {
  it('JSON', () => {
    expect(error('a.json', '{"id": "x",\n "function": ')).toMatch(
      /^invalid JSON: line 2, column \d+: unexpected end of input/,
    );
  });
  it('TOML', () => {
    expect(error('a.toml', 'id = "x"\nfunction = \n')).toMatch(/^invalid TOML: line 2, column \d+/);
    expect(error('a.toml', 'args = ["a", 1]\n')).toMatch(/TOML arrays must hold values of one type here/);
  });
  it('YAML', () => {
    expect(error('a.yaml', 'id: x\n  bad: [\n')).toMatch(/^invalid YAML: /);
    expect(error('a.yaml', 'id: x\nid: y\n')).toMatch(/^invalid YAML: .*[Mm]ap keys must be unique/);
    expect(error('a.yaml', '- id: a\n---\n- id: b\n')).toMatch(/more than one YAML document/);
  });
  it('an empty file is an error (a save in progress), not "no schedules"', () => {
    expect(error('a.json', '')).toMatch(/file is empty/);
    expect(error('a.yaml', '  \n\n')).toMatch(/file is empty/);
  });
  it('non-UTF-8 bytes are refused with their offset', () => {
    expect(error('a.json', Uint8Array.from([0x7b, 0x22, 0x69, 0xe9, 0x22, 0x7d]))).toBe(
      'not valid UTF-8 (first bad byte at offset 3)',
    );
  });
});

describe('numbers and values', () => {
  it('keeps integers beyond 2^53 exact in every format', () => {
    const big = 12345678901234567890n;
    expect(entries('a.json', '{"args":[12345678901234567890]}')[0]!.raw).toEqual({ args: [big] });
    expect(entries('a.yaml', 'args: [12345678901234567890, 5]')[0]!.raw).toEqual({ args: [big, 5] });
    expect(entries('a.toml', 'n = 9007199254740993\n')[0]!.raw).toEqual({ n: 9007199254740993n });
  });
  it('refuses TOML integers beyond 64 bits instead of wrapping them', () => {
    expect(error('a.toml', 'n = 12345678901234567890\n')).toMatch(/does not fit TOML's 64-bit integers/);
  });
  // The scan is skipped for a text with no run of 16 digit-like characters: the shortest
  // spellings of integers just beyond 64 bits still have one.
  it('refuses the shortest TOML integers beyond 64 bits in every base', () => {
    for (const n of [
      '0x8000_0000_0000_0000',
      '0x8000000000000000',
      '-9_223_372_036_854_775_809',
      '9223372036854775808',
      '0o1_000_000_000_000_000_000_000',
      `0b1${'0'.repeat(63)}`,
    ])
      expect(error('a.toml', `n = ${n}\n`), n).toMatch(/does not fit TOML's 64-bit integers/);
    expect(entries('a.toml', 'n = 0x7FFF_FFFF_FFFF_FFFF\nm = -9223372036854775808\n')[0]!.raw).toEqual({
      n: 9223372036854775807n,
      m: -9223372036854775808n,
    });
  });
  it('refuses a YAML alias bomb', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
      );
    expect(error('a.yaml', bomb.join('\n'))).toMatch(/^invalid YAML: .*[Ee]xcessive alias count/);
  });
});
