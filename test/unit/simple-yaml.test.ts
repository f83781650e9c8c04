import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { DECLINED, parseSimpleYaml } from '../../sources/files/simple-yaml.js';

// What the yaml package gives (as parse-file.ts calls it): the reference the fast path
// must equal whenever it does not decline.
function reference(text: string): unknown {
  const docs = YAML.parseAllDocuments(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length !== 1 || list[0]!.errors.length > 0) return 'ERROR';
  const big = (v: unknown): unknown => {
    if (typeof v === 'bigint')
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (Array.isArray(v)) return v.map(big);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, big(x)]));
    return v;
  };
  return big(list[0]!.toJS({ maxAliasCount: 100 }));
}

function same(text: string): 'fast' | 'declined' {
  const fast = parseSimpleYaml(text);
  if (fast === DECLINED) return 'declined';
  expect(fast, text).toStrictEqual(reference(text));
  return 'fast';
}

const FAST = [
  '- id: a\n  function: app.tasks.run\n  cron: 0 3 * * *\n  timezone: Europe/Berlin\n',
  '- id: "sched-1"\n  kwargs: {"company":"Company 0","days":11,"dry_run":false}\n  args: ["item-0","x"]\n  every: 5m\n',
  'schedules:\n  - id: a\n    every: 1h30m\n    enabled: false\n    timeout: 300\n  - id: b\n    args:\n      - 1\n      - two\n      - "three"\n',
  "schedules:\n- id: a\n  kwargs:\n    nested:\n      deep: -12\n    list:\n    - x\n    -\n    - null\n  description: 'it''s here'\n",
  '# a comment\n$schema: ./schema.json\nid: one\nfunction: a.b # not a comment? no: declined\n',
  'id: one\nfunction: a.b\n\n   # indented comment\nempty:\nafter: x\n',
  '-   id: wide\n    function: a.b\n',
  'id: x\nbig: {"n": 123456789012345678901}\nfloat: [1.5, 2e3, -0.5, 1E400]\nunicode: "\\u00e9\\ud83d\\ude00 \\/ \\n"\n',
  'id: x\nwords: hello world, and more? yes = 1 ~ 2 ^ 3 $ 4 % 5\npath: /var/run/x.sock\n',
  // Every JSON escape in the double-quoted style, in a scalar and inside flow collections
  // (a fast path that read one of them literally, `\t` as backslash-t, would differ here).
  'id: x\nq: "tab\\there\\nnl \\\\ bs \\" dq \\/ sl \\b\\f\\r \\u00e9\\u0009"\nkw: {"k\\t": "a\\tb\\n\\\\\\""}\nargs: ["\\t", "\\\\t", "\\u0041\\t"]\n',
];

const DECLINE = [
  '---\nid: x\n',
  'id: x\r\nfunction: a.b\r\n',
  'id: x\n\tfunction: a.b\n',
  'id: &a x\nother: *a\n',
  'id: !!str 1\n',
  'id: x\nid: y\n',
  'id: x\nn: 0x10\nm: 0o7\nf: 1.5\ne: 1e3\nt: True\nnil: ~\nnu: Null\ninf: .inf\n',
  'id: x\nlong: 12345678901234567890\n',
  'id: x\ndesc: a: b\n',
  'id: x\ndesc: |\n  multi\n  line\n',
  'id: x\ndesc: first\n  continued\n',
  'id: x\nq: "\\x41"\n',
  'id: x\nq: "a" # comment\n',
  'id: x\nkw: {"a": 1, "a": 2}\n',
  'id: x\nkw: {a: 1}\n',
  'id: x\nz: -0\nzz: [-0]\n',
  '  id: indented\n',
  'id: x\n- y\n',
  '"quoted key": 1\n',
  'a:b: c\n',
  '__proto__: {"polluted": true}\n',
  'id: x\nn: 007\np: +5\n',
  'url: http://example.com\n',
  '- - nested\n',
];

describe('simple YAML fast path', () => {
  it('reads plain key: value files exactly as the yaml package does', () => {
    for (const t of FAST.filter((t) => !t.includes('declined'))) expect(same(t), t).toBe('fast');
  });

  it('declines everything outside its subset (the yaml package reads those)', () => {
    for (const t of [...DECLINE, FAST[4]!]) expect(parseSimpleYaml(t), t).toBe(DECLINED);
  });

  it('agrees with the yaml package on every shipped YAML file, and on variations of them', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (/\.ya?ml$/.test(name) && statSync(full).size < 1_000_000) files.push(full);
      }
    };
    walk(join(PACKAGE_ROOT, 'fixtures'));
    walk(join(PACKAGE_ROOT, 'docs'));
    expect(files.length).toBeGreaterThan(5);
    let fast = 0;
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      // The file, and each of its lines cut off or indented by one more space.
      const lines = text.split('\n');
      const variants = [
        text,
        ...lines.map((_, i) => lines.slice(0, i).join('\n')),
        ...lines.map((_, i) => lines.map((l, j) => (j === i ? ` ${l}` : l)).join('\n')),
      ];
      for (const v of variants) if (same(v) === 'fast') fast++;
    }
    expect(fast).toBeGreaterThan(10);
  });
});
