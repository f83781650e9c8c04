import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePickle, PyTuple, type PyValue } from '../../src/rq/pickle.js';
import { python } from '../helpers/python.js';

/**
 * What Python sees, spelled so that int/float/str/list/tuple/dict/bool/None are told apart
 * exactly: floats by their IEEE bits, strings with their length in code points (so a
 * surrogate pair that Python split in two would show up).
 */
type Tag =
  | ['None']
  | ['bool', boolean]
  | ['int', string]
  | ['float', string]
  | ['str', string, number]
  | ['list', Tag[]]
  | ['tuple', Tag[]]
  | ['dict', [Tag, Tag][]];

const TAG_PY = `
import base64, io, json, pickle, pickletools, struct, sys, zlib
def tag(v):
    t = type(v)
    if v is None: return ['None']
    if t is bool: return ['bool', v]
    if t is int: return ['int', str(v)]
    if t is float: return ['float', struct.pack('>d', v).hex()]
    if t is str: return ['str', v, len(v)]
    if t is list: return ['list', [tag(x) for x in v]]
    if t is tuple: return ['tuple', [tag(x) for x in v]]
    if t is dict: return ['dict', [[tag(k), tag(x)] for k, x in v.items()]]
    raise TypeError(repr(t))
`;

/** The tag Python must produce for `v`, derived from the documented mapping. */
function expected(v: PyValue): Tag {
  if (v === null) return ['None'];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'bigint') return ['int', v.toString()];
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return ['int', String(v)];
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return ['float', b.toString('hex')];
  }
  if (typeof v === 'string') return ['str', v, [...v].length];
  if (Array.isArray(v)) return ['list', v.map(expected)];
  if (v instanceof PyTuple) return ['tuple', v.items.map(expected)];
  return ['dict', Object.entries(v).map(([k, x]): [Tag, Tag] => [expected(k), expected(x)])];
}

function nested(depth: number): PyValue {
  let v: PyValue = ['leaf'];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

const JOB = new PyTuple(['myapp.tasks.send', null, [1, 'a'], { x: 1, y: [true, null] }]);

const CASES: [string, PyValue][] = [
  ['None', null],
  ['True', true],
  ['False', false],
  ...[
    0,
    1,
    -1,
    255,
    256,
    65535,
    65536,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    -(2 ** 31) - 1,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
  ].map((n): [string, PyValue] => [`int ${n}`, n]),
  ['int from 1.0', 1.0],
  ['int from -0', -0],
  ...[
    2n ** 63n,
    -(2n ** 63n),
    2n ** 63n - 1n,
    2n ** 64n,
    -(2n ** 64n),
    10n ** 40n,
    -(10n ** 40n),
    7n,
    -128n,
    127n,
    128n,
    -129n,
    2n ** 2100n,
    -(2n ** 2100n),
  ].map((n): [string, PyValue] => [`bigint ${n.toString().slice(0, 24)}`, n]),
  ...[
    0.5,
    -1e-300,
    1e300,
    3.141592653589793,
    2 ** 53,
    -(2 ** 60),
    1e21,
    Number.MIN_VALUE,
    NaN,
    Infinity,
    -Infinity,
  ].map((n): [string, PyValue] => [`float ${n}`, n]),
  ['empty str', ''],
  ['ascii', 'hello world'],
  ['é', 'é'],
  ['日本', '日本'],
  ['emoji', '😀'],
  ['64 ascii (longest copied byte by byte)', 'b'.repeat(64)],
  ['63 ascii + é (falls back to Buffer.write)', 'b'.repeat(63) + 'é'],
  ['85 CJK chars (255 bytes, short)', '日'.repeat(85)],
  ['86 CJK chars (258 bytes, long)', '日'.repeat(86)],
  ['255 ascii', 'a'.repeat(255)],
  ['256 ascii', 'a'.repeat(256)],
  ['300 chars', 'x'.repeat(299) + 'é'],
  ['70,000 chars', 'ab😀'.repeat(17_500)],
  ['quotes, backslashes, newlines, NUL', `'"\\\n\r\t\0 end`],
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate in text', 'a\udc00b'],
  ['reversed surrogate pair', '\ude00\ud83d'],
  ['pair next to lone surrogate', '😀\ud83d'],
  ['empty list', []],
  ['list 50 deep', nested(50)],
  ...[0, 1, 2, 3, 4, 5].map((n): [string, PyValue] => [
    `tuple of ${n}`,
    new PyTuple(Array.from({ length: n }, (_, i) => i)),
  ]),
  ['nested tuples', new PyTuple([new PyTuple([]), new PyTuple([new PyTuple([1])]), [new PyTuple([null, 'x'])]])],
  ['empty dict', {}],
  ['dict with one key', { a: 1 }],
  ['nested dict', { a: { b: { c: [1, { d: new PyTuple(['e']) }] } }, z: {} }],
  ['unicode keys', { é: 1, 日本: '語', '😀': [], '': null, '\ud800': 'lone' }],
  ['null-prototype object', Object.assign(Object.create(null) as Record<string, PyValue>, { k: 'v' })],
  ['1,000-element list', Array.from({ length: 1000 }, (_, i) => i * 7)],
  ['1,001-element list (two batches, one APPEND)', Array.from({ length: 1001 }, (_, i) => `s${i}`)],
  ['2,500-element list', Array.from({ length: 2500 }, (_, i) => (i % 2 ? i : null))],
  ['1,001-key dict', Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]))],
  ['RQ job tuple', JOB],
];

interface PyResult {
  tag: Tag;
  pure: Tag;
  inflated: Tag;
  dis: string;
}

describe('encodePickle, loaded by Python', () => {
  let results: PyResult[];

  beforeAll(async () => {
    // One interpreter for all cases: C and pure-Python unpicklers, zlib round trip, and
    // pickletools.dis, which rejects malformed opcode streams.
    const input = JSON.stringify(
      CASES.map(([, v]) => {
        const pickle = encodePickle(v);
        return { pickle: pickle.toString('base64'), deflated: deflateSync(pickle).toString('base64') };
      }),
    );
    const out = await python(
      TAG_PY +
        `
out = []
for case in json.load(sys.stdin):
    raw = base64.b64decode(case['pickle'])
    dis = io.StringIO()
    pickletools.dis(raw, out=dis)
    out.append({
        'tag': tag(pickle.loads(raw)),
        'pure': tag(pickle._loads(raw)),
        'inflated': tag(pickle.loads(zlib.decompress(base64.b64decode(case['deflated'])))),
        'dis': dis.getvalue().splitlines()[-1],
    })
json.dump(out, sys.stdout)
`,
      { input },
    );
    results = JSON.parse(out) as PyResult[];
  });

  it.each(CASES.map(([name, v], i) => ({ name, v, i })))('$name', ({ v, i }) => {
    const r = results[i]!;
    const want = expected(v);
    expect(r.tag).toEqual(want);
    expect(r.pure).toEqual(want);
    expect(r.inflated).toEqual(want);
    // dis reports the newest opcode used (2 when no SHORT_BINUNICODE appears); never above 4.
    expect(r.dis).toMatch(/^highest protocol among opcodes = [2-4]$/);
  });
});

describe('encodePickle, read by RQ', () => {
  it('Job.restore + job.func_name/args/kwargs see the payload of a zlib-compressed job tuple', async () => {
    const data = deflateSync(encodePickle(JOB)).toString('base64');
    const out = await python(
      `
import base64, json, sys, redis
from rq.job import Job
job = Job('pyrq-test', connection=redis.Redis())  # never connects: restore() only decodes
job.restore({b'data': base64.b64decode(sys.stdin.read())})
print(json.dumps([job.func_name, job.instance, list(job.args), job.kwargs]))
`,
      { input: data },
    );
    expect(JSON.parse(out)).toEqual(['myapp.tasks.send', null, [1, 'a'], { x: 1, y: [true, null] }]);
  });
});

describe('encodePickle bytes', () => {
  const hex = (v: PyValue): string => encodePickle(v).toString('hex');

  it('starts with PROTO 4, ends with STOP, and writes no FRAME or MEMOIZE', () => {
    expect(hex(null)).toBe('80044e2e');
    expect(hex(new PyTuple(['a', 'b']))).toBe('80048c01618c0162862e');
  });

  it('uses the smallest int opcode, like CPython', () => {
    expect(hex(255)).toBe('80044bff2e');
    expect(hex(256)).toBe('80044d00012e');
    expect(hex(-1)).toBe('80044affffffff2e');
    expect(hex(2n ** 31n)).toBe('80048a050000008000' + '2e');
    expect(hex(-(2n ** 63n))).toBe('80048a08' + '0000000000000080' + '2e');
    expect(hex(-(2n ** 64n))).toBe('80048a09' + '0000000000000000ff' + '2e');
  });

  it('matches pickle.encode_long for big integers', async () => {
    const values = [
      2n ** 31n,
      -(2n ** 31n) - 1n,
      -128n * 2n ** 32n,
      2n ** 63n,
      -(2n ** 63n),
      10n ** 40n,
      -(10n ** 40n),
      2n ** 2100n,
      -(2n ** 2047n),
    ];
    const out = await python(
      `import json, pickle, sys\nprint(json.dumps([pickle.encode_long(int(s)).hex() for s in json.load(sys.stdin)]))`,
      { input: JSON.stringify(values.map(String)) },
    );
    const ours = values.map((v) => {
      const b = encodePickle(v);
      // Drop PROTO, the LONG1 (1-byte length) or LONG4 (4-byte length) header, and STOP.
      return b.subarray(b[2] === 0x8a ? 4 : 7, -1).toString('hex');
    });
    expect(ours).toEqual(JSON.parse(out));
  });

  it('is deterministic and follows key insertion order', () => {
    const a = encodePickle({ b: 1, a: 2 });
    expect(encodePickle({ b: 1, a: 2 }).equals(a)).toBe(true);
    expect(encodePickle({ a: 2, b: 1 }).equals(a)).toBe(false);
  });

  it('encodes a shared (non-circular) reference twice', () => {
    const shared = [1, 2];
    expect(encodePickle([shared, shared]).toString('hex')).toBe(
      encodePickle([
        [1, 2],
        [1, 2],
      ]).toString('hex'),
    );
  });
});

describe('encodePickle rejects values Python cannot receive', () => {
  const reject = (v: unknown, label?: string): string => {
    try {
      encodePickle(v as PyValue, label);
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
      return (err as Error).message;
    }
    throw new Error('expected encodePickle to throw');
  };

  it('names the path with the root label', () => {
    expect(reject({ items: [1, 2, 3, undefined] }, 'kwargs')).toMatch(
      /^cannot pickle kwargs\.items\[3\]: undefined has no Python equivalent/,
    );
    expect(reject(new PyTuple(['f', null, [], { 'to-do': [(() => 1) as unknown as PyValue] }]))).toMatch(
      /^cannot pickle value\.items\[3\]\["to-do"\]\[0\]: a function /,
    );
    expect(reject([Symbol('s')], 'args')).toMatch(/^cannot pickle args\[0\]: a symbol /);
  });

  it.each([
    ['undefined', undefined, /cannot pickle value: undefined/],
    ['Date', new Date(0), /a Date instance/],
    ['Map', new Map(), /a Map instance/],
    ['Set', new Set(), /a Set instance/],
    ['Uint8Array', new Uint8Array(2), /a Uint8Array instance/],
    ['class instance', new (class Point {})(), /a Point instance/],
    ['boxed string', new String('x'), /a String instance/],
    [
      'object with a custom prototype',
      Object.create({ inherited: 1 }) as unknown,
      /value: an object with a custom prototype/,
    ],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
    ['sparse array hole', [1, , 3], /value\[1\]: undefined/],
    ['PyTuple with non-array items', new PyTuple({} as unknown as PyValue[]), /PyTuple\.items is not an array/],
  ])('%s', (_name, v, message) => {
    expect(reject(v)).toMatch(message);
  });

  it('reports circular references instead of overflowing the stack', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(reject(loop, 'kwargs')).toMatch(/^cannot pickle kwargs(\.self){1000}: nested more than 1000 levels deep/);
    expect(() => encodePickle(nested(1000))).not.toThrow();
    expect(reject(nested(1001))).toMatch(/nested more than 1000 levels deep/);
  });
});
