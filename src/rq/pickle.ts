/**
 * A minimal Python pickle *encoder* for the values an RQ job payload carries:
 * `(func_name, instance, args, kwargs)` built from JSON-like data.
 *
 * Protocol: 4, without FRAME opcodes. Protocol 4 is the newest one every Python >= 3.4
 * loads (protocol 5 needs 3.8 and only adds out-of-band buffers), and it has
 * SHORT_BINUNICODE, which saves 3 bytes on each of the many short strings in a job.
 * Framing is only a read-ahead hint for unpicklers reading from a stream; RQ calls
 * `pickle.loads` on bytes it already holds, and both CPython unpicklers accept unframed
 * opcodes in a protocol 4 stream (CPython's own pickler writes tiny payloads and large
 * strings outside frames). Skipping it keeps the encoder single-pass.
 *
 * No MEMOIZE/PUT opcodes are written: the input is a tree (no shared references that
 * Python would need to see as identical objects), so a memo would only cost bytes.
 */
import { keySegment, PathError, pathText, rethrowAt } from '../value-path.js';

/**
 * A Python tuple. JS arrays pickle as lists, so tuples need their own marker; RQ's job
 * payload itself is a 4-tuple.
 */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/**
 * The values {@link encodePickle} accepts and what they become in Python:
 * - `null` -> `None`; `boolean` -> `bool`.
 * - `number`: a safe integer (|n| <= 2^53-1, so `1.0` and `-0` too) -> `int`; anything
 *   else, including NaN and ±Infinity, -> `float`. Integers beyond 2^53 are already rounded
 *   in a JS number, so they stay floats; pass a `bigint` for an exact big `int`.
 * - `bigint` -> `int` of any size.
 * - `string` -> `str` (never `bytes`). Lone surrogates are kept as lone surrogates, the way
 *   Python itself pickles such a `str` (UTF-8 with `surrogatepass`).
 * - array -> `list`; {@link PyTuple} -> `tuple`.
 * - plain object (prototype `Object.prototype` or `null`) -> `dict` with `str` keys, in JS
 *   enumeration order (integer-like keys first, then insertion order).
 */
export type PyValue = null | boolean | number | bigint | string | PyValue[] | PyTuple | { [k: string]: PyValue };

/** Python's default recursion limit: deeper data could not be pickled by Python itself. */
const MAX_DEPTH = 1000;
/** Items per APPENDS/SETITEMS batch, as CPython's pickler does (`_BATCHSIZE`). */
const BATCH = 1000;

// Opcodes, named as in CPython's Lib/pickle.py.
const PROTO = 0x80,
  STOP = 0x2e,
  MARK = 0x28,
  NONE = 0x4e,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89;
const BININT = 0x4a,
  BININT1 = 0x4b,
  BININT2 = 0x4d,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINFLOAT = 0x47;
const SHORT_BINUNICODE = 0x8c,
  BINUNICODE = 0x58;
const EMPTY_LIST = 0x5d,
  APPEND = 0x61,
  APPENDS = 0x65;
const EMPTY_TUPLE = 0x29,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  TUPLE = 0x74;
const EMPTY_DICT = 0x7d,
  SETITEM = 0x73,
  SETITEMS = 0x75;

/**
 * Pickles `value` (see {@link PyValue} for the mapping). Output is deterministic.
 *
 * @param rootLabel names the value in error messages, e.g. `kwargs` gives `kwargs.items[3]`.
 * @throws TypeError naming the path of the first value that has no Python equivalent
 *   (undefined, functions, symbols, Date, Map, class instances, ...), or of a container
 *   nested more than 1000 levels deep (usually a circular reference).
 */
export function encodePickle(value: PyValue, rootLabel = 'value'): Buffer {
  const enc = new Encoder();
  enc.byte(PROTO);
  enc.byte(4);
  try {
    enc.value(value, 0);
  } catch (err) {
    if (err instanceof PathError) {
      throw new TypeError(`cannot pickle ${pathText(rootLabel, err)}: ${err.problem}`, { cause: err });
    }
    throw err;
  }
  enc.byte(STOP);
  return enc.buf.subarray(0, enc.pos);
}

function describe(v: unknown): string {
  let what: string;
  if (typeof v === 'object' && v !== null) {
    const name: unknown = v.constructor?.name;
    what = typeof name === 'string' && name !== 'Object' ? `a ${name} instance` : 'an object with a custom prototype';
  } else {
    what = v === undefined ? 'undefined' : `a ${typeof v}`;
  }
  return `${what} has no Python equivalent (expected null, boolean, number, bigint, string, array, PyTuple or plain object)`;
}

/** Writes opcodes into a Buffer that doubles when full (no string building on the hot path). */
class Encoder {
  buf = Buffer.allocUnsafe(512);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        if (Number.isSafeInteger(v)) return v >= -0x80000000 && v <= 0x7fffffff ? this.int32(v) : this.long(BigInt(v));
        this.ensure(9);
        this.buf[this.pos] = BINFLOAT;
        this.pos = this.buf.writeDoubleBE(v, this.pos + 1);
        return;
      case 'boolean':
        return this.byte(v ? NEWTRUE : NEWFALSE);
      case 'bigint':
        return v >= -0x80000000n && v <= 0x7fffffffn ? this.int32(Number(v)) : this.long(v);
      case 'object':
        if (v === null) return this.byte(NONE);
        if (depth >= MAX_DEPTH) throw new PathError(`nested more than ${MAX_DEPTH} levels deep (circular reference?)`);
        if (Array.isArray(v)) return this.list(v, depth + 1);
        if (v instanceof PyTuple) return this.tuple(v, depth + 1);
        {
          const proto: unknown = Object.getPrototypeOf(v);
          if (proto === Object.prototype || proto === null) return this.dict(v as Record<string, unknown>, depth + 1);
        }
    }
    throw new PathError(describe(v));
  }

  /** Same opcode choice as CPython's `save_long` for values that fit in 32 bits. */
  int32(n: number): void {
    this.ensure(5);
    const buf = this.buf;
    if (n >= 0 && n <= 0xff) {
      buf[this.pos++] = BININT1;
      buf[this.pos++] = n;
    } else if (n >= 0 && n <= 0xffff) {
      buf[this.pos++] = BININT2;
      this.pos = buf.writeUInt16LE(n, this.pos);
    } else {
      buf[this.pos++] = BININT;
      this.pos = buf.writeInt32LE(n, this.pos);
    }
  }

  /** LONG1/LONG4: minimal little-endian two's complement, byte-identical to `pickle.encode_long`. */
  long(v: bigint): void {
    // Width is decided by the non-negative value with the same bit pattern length
    // (~v = -v-1 for negatives), plus one bit for the sign.
    const magnitude = v < 0n ? ~v : v;
    const nbytes = (magnitude.toString(2).length >> 3) + 1;
    const bigEndian = Buffer.from(
      BigInt.asUintN(nbytes * 8, v)
        .toString(16)
        .padStart(nbytes * 2, '0'),
      'hex',
    );
    this.ensure(5 + nbytes);
    if (nbytes < 256) {
      this.buf[this.pos++] = LONG1;
      this.buf[this.pos++] = nbytes;
    } else {
      this.buf[this.pos++] = LONG4;
      this.pos = this.buf.writeInt32LE(nbytes, this.pos);
    }
    bigEndian.reverse().copy(this.buf, this.pos);
    this.pos += nbytes;
  }

  str(s: string): void {
    // A JS string is at most 2^29 UTF-16 units, so 3 bytes per unit stays below BINUNICODE's
    // 4 GiB limit: BINUNICODE8 is never needed.
    this.ensure(5 + s.length * 3);
    const buf = this.buf;
    const start = this.pos;
    if (s.length <= 64 && this.ascii(s, start + 2)) {
      buf[start] = SHORT_BINUNICODE;
      buf[start + 1] = s.length;
      this.pos = start + 2 + s.length;
      return;
    }
    // Up to 85 units can't exceed 255 bytes: write after a 2-byte header. Otherwise leave
    // room for the 5-byte header and move the bytes back if they turned out to fit in 255.
    const short = s.length <= 85;
    const at = start + (short ? 2 : 5);
    const n = isWellFormed(s) ? buf.write(s, at, 'utf8') : writeSurrogatePass(s, buf, at);
    if (n <= 0xff) {
      if (!short) buf.copyWithin(start + 2, at, at + n);
      buf[start] = SHORT_BINUNICODE;
      buf[start + 1] = n;
      this.pos = start + 2 + n;
    } else {
      buf[start] = BINUNICODE;
      buf.writeUInt32LE(n, start + 1);
      this.pos = start + 5 + n;
    }
  }

  /**
   * Copies `s` byte for byte if it is all ASCII (false otherwise). Job payloads are mostly
   * short ASCII names and ids, and for those this loop is ~2x faster than `Buffer.write`,
   * which crosses into C++ per call.
   */
  ascii(s: string, at: number): boolean {
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[at + i] = c;
    }
    return true;
  }

  /** EMPTY_LIST, then batches of MARK items APPENDS (a lone item uses APPEND), as CPython does. */
  list(items: readonly unknown[], depth: number): void {
    this.byte(EMPTY_LIST);
    const n = items.length;
    let i = 0;
    try {
      for (let batchStart = 0; batchStart < n; batchStart += BATCH) {
        const end = Math.min(n, batchStart + BATCH);
        if (end - batchStart > 1) this.byte(MARK);
        for (i = batchStart; i < end; i++) this.value(items[i], depth);
        this.byte(end - batchStart > 1 ? APPENDS : APPEND);
      }
    } catch (err) {
      rethrowAt(err, `[${i}]`);
    }
  }

  tuple(t: PyTuple, depth: number): void {
    const items: unknown = t.items;
    if (!Array.isArray(items)) throw new PathError('PyTuple.items is not an array');
    const n = items.length;
    if (n === 0) return this.byte(EMPTY_TUPLE);
    if (n > 3) this.byte(MARK);
    let i = 0;
    try {
      for (; i < n; i++) this.value(items[i], depth);
    } catch (err) {
      rethrowAt(err, `.items[${i}]`);
    }
    this.byte(n === 1 ? TUPLE1 : n === 2 ? TUPLE2 : n === 3 ? TUPLE3 : TUPLE);
  }

  /** EMPTY_DICT, then batches of MARK key value ... SETITEMS (a lone pair uses SETITEM). */
  dict(obj: Record<string, unknown>, depth: number): void {
    this.byte(EMPTY_DICT);
    const keys = Object.keys(obj);
    const n = keys.length;
    let key = '';
    try {
      for (let batchStart = 0; batchStart < n; batchStart += BATCH) {
        const end = Math.min(n, batchStart + BATCH);
        if (end - batchStart > 1) this.byte(MARK);
        for (let i = batchStart; i < end; i++) {
          key = keys[i]!;
          this.str(key);
          this.value(obj[key], depth);
        }
        this.byte(end - batchStart > 1 ? SETITEMS : SETITEM);
      }
    } catch (err) {
      rethrowAt(err, keySegment(key));
    }
  }
}

// `String.prototype.isWellFormed` exists in Node 20 but is not in TypeScript's ES2023 lib.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * UTF-8 with lone surrogates encoded as 3-byte sequences: Python's `surrogatepass`, which
 * its unpickler uses to decode BINUNICODE. `Buffer.write` would turn them into U+FFFD.
 */
function writeSurrogatePass(s: string, buf: Buffer, at: number): number {
  let p = at;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      const next = s.charCodeAt(i + 1);
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buf[p++] = 0xf0 | (c >> 18);
        buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      } else {
        buf[p++] = 0xe0 | (c >> 12);
      }
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - at;
}
