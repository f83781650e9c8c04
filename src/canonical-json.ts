/**
 * Canonical JSON for values that may hold integers beyond 2^53.
 *
 * pyrq stores normalised schedule specs in Redis and compares them by hash, so one value
 * must always give one text: keys are sorted and nothing is left to insertion order.
 * User args can carry big integers (TOML/YAML parsers return `bigint`), which plain
 * JSON.stringify rejects and JSON.parse silently rounds; both directions keep them exact.
 */
import * as crypto from 'node:crypto';
import { keySegment, PathError, pathText, rethrowAt } from './value-path.js';

const { createHash } = crypto;
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/**
 * Nesting limit for both directions. The parser is recursive, so this turns a stack
 * overflow into a clear error; the writer uses the same limit so that whatever pyrq
 * writes it can read back.
 */
const MAX_DEPTH = 512;

/**
 * JSON text with object keys sorted by UTF-16 code unit order (recursively) and no
 * whitespace. `bigint` becomes a bare integer literal; numbers, strings, booleans and
 * null are written as JSON.stringify writes them; object properties whose value is
 * `undefined` are omitted, as JSON.stringify does. Objects with `toJSON` (Date) are
 * written via `toJSON(key)`.
 *
 * @throws TypeError naming the path (e.g. `$.args[2]`) of `undefined` in an array or at the
 *   top, a function, symbol, NaN/Infinity, circular reference, nesting deeper than 512, or
 *   a non-plain object without `toJSON` (Map, Set, class instances): JSON.stringify would
 *   write those as `{}`, and two different Maps must not hash alike.
 */
export function canonicalStringify(value: unknown): string {
  try {
    return write(value, '', []);
  } catch (err) {
    if (err instanceof PathError) {
      throw new TypeError(`cannot write ${pathText('$', err)} as JSON: ${err.problem}`, { cause: err });
    }
    throw err;
  }
}

/** Lower-case hex SHA-256 of {@link canonicalStringify}: equal for equal values, whatever the key order. */
export function stableHash(value: unknown): string {
  return sha256Hex(canonicalStringify(value));
}

/** Lower-case hex SHA-256 of a text (UTF-8). `stableHash(v) === sha256Hex(canonicalStringify(v))`. */
export function sha256Hex(text: string): string {
  // One-shot crypto.hash (Node >= 20.12) skips the Hash object: a third of the cost per spec.
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

/** A character JSON.stringify writes as an escape: `"`, `\\`, a control character, or a surrogate. */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function write(value: unknown, key: string, ancestors: object[]): string {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      // JSON.stringify escapes only these (a lone surrogate too; a pair passes as is, but
      // any surrogate goes the long way): a string with none of them is written as is,
      // without a call into the runtime for every field of every spec.
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new PathError(`${value} is not a JSON number`);
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.includes(value)) throw new PathError('circular reference');
      if (ancestors.length >= MAX_DEPTH) throw new PathError(`nested more than ${MAX_DEPTH} levels deep`);
      ancestors.push(value);
      const text = Array.isArray(value) ? writeArray(value, ancestors) : writeObject(value, ancestors);
      ancestors.pop();
      return text;
    }
    default:
      throw new PathError(
        value === undefined ? 'undefined is not a JSON value' : `a ${typeof value} is not a JSON value`,
      );
  }
}

function writeArray(items: readonly unknown[], ancestors: object[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    try {
      out += (i > 0 ? ',' : '') + write(items[i], String(i), ancestors);
    } catch (err) {
      rethrowAt(err, `[${i}]`);
    }
  }
  return out + ']';
}

function writeObject(obj: object, ancestors: object[]): string {
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name: unknown = obj.constructor?.name;
    const what =
      typeof name === 'string' && name !== 'Object' ? `a ${name} instance` : 'an object with a custom prototype';
    throw new PathError(`${what} is not a plain object`);
  }
  let out = '{';
  // Default sort compares UTF-16 code units, which is what "canonical" promises here.
  // Normalised specs are built in key order already: checking is cheaper than sorting.
  const keys = Object.keys(obj);
  if (!isSorted(keys)) keys.sort();
  for (const key of keys) {
    const v = (obj as Record<string, unknown>)[key];
    if (v === undefined) continue;
    try {
      out += (out.length > 1 ? ',' : '') + quoteKey(key) + ':' + write(v, key, ancestors);
    } catch (err) {
      rethrowAt(err, keySegment(key));
    }
  }
  return out + '}';
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

// Field names repeat across a registry (every spec has the same two dozen); quoting each
// once saves a JSON.stringify per key per spec. Bounded, for keys of user data.
const quotedKeys = new Map<string, string>();

function quoteKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size < 4096) quotedKeys.set(key, q);
  }
  return q;
}

/**
 * A JSON syntax error with its 1-based position; `column` counts UTF-16 code units.
 * The message reads `line 3, column 7: unexpected end of input`, so callers can prefix a file name.
 */
export class JsonSyntaxError extends SyntaxError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'JsonSyntaxError';
  }
}

/** 16 digits in a row: the shortest integer literal that can be unsafe (2^53 has 16 digits). */
const LONG_DIGIT_RUN = /\d{16}/;

/**
 * Like JSON.parse, except that integer literals (no fraction, no exponent) beyond
 * ±(2^53-1) come back as exact `bigint`s. Texts without a 16-digit run take native
 * JSON.parse; the rest, and every invalid text, go through a recursive-descent parser
 * limited to 512 levels of nesting.
 *
 * `uniqueKeys` makes a key that appears twice in one object an error (JSON.parse keeps
 * the last one silently); it always takes the recursive-descent parser.
 *
 * @throws JsonSyntaxError with line and column.
 */
export function parseJson(text: string, opts: { uniqueKeys?: boolean } = {}): unknown {
  if (!opts.uniqueKeys && !LONG_DIGIT_RUN.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Native messages carry no line/column; re-parse below to report one.
    }
  }
  const p = new Parser(text, opts.uniqueKeys === true);
  p.skipSpace();
  const value = p.value(0);
  p.skipSpace();
  if (p.pos < text.length) p.fail('unexpected ' + p.describeHere() + ' after the JSON value');
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Parser {
  pos = 0;
  constructor(
    readonly text: string,
    readonly uniqueKeys = false,
  ) {}

  fail(reason: string, at = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = this.text.indexOf('\n'); i !== -1 && i < at; i = this.text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    throw new JsonSyntaxError(reason, line, at - lineStart + 1);
  }

  describeHere(): string {
    const cp = this.text.codePointAt(this.pos);
    return cp === undefined ? 'end of input' : `character ${JSON.stringify(String.fromCodePoint(cp))}`;
  }

  /** Fails with "unexpected end of input" at the end, otherwise with `expected <what>`. */
  expected(what: string): never {
    if (this.pos >= this.text.length) this.fail('unexpected end of input');
    this.fail(`expected ${what} but found ${this.describeHere()}`);
  }

  skipSpace(): void {
    const t = this.text;
    for (
      let c = t.charCodeAt(this.pos);
      c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
      c = t.charCodeAt(this.pos)
    ) {
      this.pos++;
    }
  }

  value(depth: number): unknown {
    const t = this.text;
    const c = t[this.pos];
    if (c === '"') return this.string();
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} levels deep`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of LITERALS) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    this.expected('a JSON value');
  }

  object(depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return obj;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.expected('a string key');
      const keyAt = this.pos;
      const key = this.string();
      if (this.uniqueKeys && Object.hasOwn(obj, key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.expected("':'");
      this.pos++;
      this.skipSpace();
      const v = this.value(depth);
      // A plain assignment to "__proto__" would set the prototype; JSON.parse makes an own property.
      if (key === '__proto__')
        Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
      else obj[key] = v;
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return obj;
      if (c !== ',') {
        this.pos--;
        this.expected("',' or '}'");
      }
      this.skipSpace();
    }
  }

  array(depth: number): unknown[] {
    const items: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return items;
      if (c !== ',') {
        this.pos--;
        this.expected("',' or ']'");
      }
      this.skipSpace();
    }
  }

  string(): string {
    const t = this.text;
    let out = '';
    let start = ++this.pos;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(start, this.pos++);
        return out;
      }
      if (Number.isNaN(c)) this.fail('unexpected end of input');
      if (c < 0x20) this.fail('control character in string (write it as an escape)');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(start, this.pos);
      const e = t[this.pos + 1];
      if (e === 'u') {
        const hex = t.slice(this.pos + 2, this.pos + 6);
        if (!HEX4.test(hex)) this.fail('invalid \\u escape (expected 4 hex digits)');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        this.pos += 2;
      } else {
        if (e === undefined) this.fail('unexpected end of input', this.pos + 1);
        this.fail(`invalid escape '\\${e}'`);
      }
      start = this.pos;
    }
  }

  number(): number | bigint {
    const t = this.text;
    const start = this.pos;
    if (t[this.pos] === '-') this.pos++;
    if (t[this.pos] === '0') this.pos++;
    else if (!this.digits()) this.expected('a digit');
    let integer = true;
    if (t[this.pos] === '.') {
      integer = false;
      this.pos++;
      if (!this.digits()) this.expected('a digit after the decimal point');
    }
    if (t[this.pos] === 'e' || t[this.pos] === 'E') {
      integer = false;
      this.pos++;
      if (t[this.pos] === '+' || t[this.pos] === '-') this.pos++;
      if (!this.digits()) this.expected('a digit in the exponent');
    }
    const literal = t.slice(start, this.pos);
    // Up to 15 digits is always safe; only longer integer literals need the exact check.
    if (integer && literal.length > 15) {
      const big = BigInt(literal);
      if (big > MAX_SAFE || big < -MAX_SAFE) return big;
    }
    return Number(literal);
  }

  /** Consumes a run of digits; false if there was none. */
  digits(): boolean {
    const start = this.pos;
    for (let c = this.text.charCodeAt(this.pos); c >= 0x30 && c <= 0x39; c = this.text.charCodeAt(this.pos)) this.pos++;
    return this.pos > start;
  }
}

const LITERALS: ReadonlyArray<readonly [string, unknown]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];
