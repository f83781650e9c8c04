/**
 * A fast path for the TOML that schedule files are made of: `[[schedules]]` tables of
 * one-line `key = value` pairs whose values are basic or literal strings, small decimal
 * integers, booleans, and one-line arrays and inline tables of those. @iarna/toml reads a
 * character at a time through a state machine and wraps every value in a typed box
 * (~6 µs a schedule of the bench's mix); this reads the same subset straight into values.
 *
 * Like simple-yaml.ts it is deliberately narrow: anything outside the subset (other table
 * headers, dotted or quoted keys, multi-line strings or arrays, floats, dates, integers
 * written with a sign, `_`, a base prefix or more than 15 digits, tabs, CR, control
 * characters, duplicate keys, mixed-type arrays, trailing commas, errors of any kind)
 * returns DECLINED, and the file goes through @iarna/toml as before, so every error
 * message is the package's. A differential test holds the two to the same values
 * (test/unit/toml-differential.test.ts).
 */
import { DECLINED, decline } from './simple-yaml.js';

export { DECLINED };

/** Key names left to the package (and to reserved-keys.ts after it). */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
/** Decimal integers that are exact as numbers; `-0` (0 to @iarna/toml) is declined. */
const SMALL_INT = /^(?:0|-?[1-9][0-9]{0,14})$/;
/** What TOML forbids unescaped anywhere (control characters; tab is declined too, for simplicity). */
// eslint-disable-next-line no-control-regex
const NOT_SIMPLE_CHARS = /[\x00-\x09\x0b-\x1f\x7f\ud800-\udfff]/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const HEADER = '[[schedules]]';

/** A character of a bare key: A-Z a-z 0-9 _ - (char codes: a regex per character cost 3x). */
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** A character of a bare value word (numbers, booleans; dates and floats are read, then declined). */
function isWordChar(c: number): boolean {
  return isKeyChar(c) || c === 43 || c === 46 || c === 58;
}

/** The type an array's elements must share (TOML 0.5, as @iarna/toml enforces it). */
type Kind = 'string' | 'integer' | 'boolean' | 'array' | 'table';

/** Reads the text from `pos`; every method leaves `pos` after what it read. */
class Reader {
  pos = 0;
  /**
   * The end of the current line (its `\n`'s index, or the text's length), found once per
   * line: every value on a line is bounded by it, and a search per string for it made a
   * line of many strings quadratic.
   */
  end = 0;
  constructor(readonly s: string) {}

  /** At the start of a line: finds where it ends. */
  startLine(): void {
    const nl = this.s.indexOf('\n', this.pos);
    this.end = nl < 0 ? this.s.length : nl;
  }

  spaces(): void {
    while (this.s.charCodeAt(this.pos) === 0x20) this.pos++;
  }

  /** Past the end of this line, where only a comment may be left. */
  endOfLine(): void {
    if (this.pos < this.end && this.s.charCodeAt(this.pos) !== 0x23 /* # */) decline();
    this.pos = this.end + 1;
  }

  /** A bare key ('' when there is none). */
  key(): string {
    const from = this.pos;
    while (isKeyChar(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(from, this.pos);
  }

  /** `key = value` into `into`, without what follows. */
  pair(into: Record<string, unknown>): void {
    const key = this.key();
    if (key === '' || RESERVED.has(key) || Object.hasOwn(into, key)) decline();
    this.spaces();
    if (this.s.charCodeAt(this.pos++) !== 0x3d /* = */) decline();
    this.spaces();
    into[key] = this.value()[0];
  }

  value(): [unknown, Kind] {
    const c = this.s.charCodeAt(this.pos);
    if (c === 0x22 /* " */) return [this.basic(), 'string'];
    if (c === 0x27 /* ' */) return [this.literal(), 'string'];
    if (c === 0x5b /* [ */) return [this.array(), 'array'];
    if (c === 0x7b /* { */) return [this.table(), 'table'];
    const from = this.pos;
    while (isWordChar(this.s.charCodeAt(this.pos))) this.pos++;
    const word = this.s.slice(from, this.pos);
    if (word === 'true') return [true, 'boolean'];
    if (word === 'false') return [false, 'boolean'];
    if (SMALL_INT.test(word)) return [Number(word), 'integer'];
    return decline();
  }

  basic(): string {
    if (this.s.startsWith('"""', this.pos)) decline();
    let out = '';
    let from = ++this.pos;
    // The next quote, searched again only once an escaped one (\") is behind: a search
    // per escape from the same place made a line of many escapes quadratic.
    let q = this.s.indexOf('"', from);
    for (;;) {
      if (q < 0 || q > this.end) return decline(); // not closed on its line
      // A backslash before the quote (searched up to it only: indexOf would scan the file).
      let b = from;
      while (b < q && this.s.charCodeAt(b) !== 0x5c) b++;
      if (b === q) {
        this.pos = q + 1;
        return out + this.s.slice(from, q);
      }
      out += this.s.slice(from, b);
      const e = this.s.charCodeAt(b + 1);
      let len = 2;
      if (e === 0x62 /* b */) out += '\b';
      else if (e === 0x74 /* t */) out += '\t';
      else if (e === 0x6e /* n */) out += '\n';
      else if (e === 0x66 /* f */) out += '\f';
      else if (e === 0x72 /* r */) out += '\r';
      else if (e === 0x22 /* " */) out += '"';
      else if (e === 0x5c /* \ */) out += '\\';
      else if (e === 0x75 /* u */) {
        const hex = this.s.slice(b + 2, b + 6);
        if (!HEX4.test(hex)) decline();
        const cp = parseInt(hex, 16);
        if (cp >= 0xd800 && cp <= 0xdfff) decline(); // not a scalar value: the package's to refuse
        out += String.fromCharCode(cp);
        len = 6;
      } else decline(); // \U and anything else
      from = b + len;
      if (from > q) q = this.s.indexOf('"', from);
    }
  }

  literal(): string {
    if (this.s.startsWith("'''", this.pos)) decline();
    const q = this.s.indexOf("'", this.pos + 1);
    if (q < 0 || q > this.end) decline();
    const v = this.s.slice(this.pos + 1, q);
    this.pos = q + 1;
    return v;
  }

  array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    let kind: Kind | undefined;
    this.spaces();
    if (this.s.charCodeAt(this.pos) === 0x5d /* ] */) {
      this.pos++;
      return out;
    }
    for (;;) {
      const [v, k] = this.value();
      if (kind !== undefined && k !== kind) decline(); // mixed types: the package's error
      kind = k;
      out.push(v);
      this.spaces();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 0x5d /* ] */) return out;
      if (c !== 0x2c /* , */) decline();
      this.spaces(); // (a trailing comma: the next value() declines)
    }
  }

  table(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.spaces();
    if (this.s.charCodeAt(this.pos) === 0x7d /* } */) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.pair(out);
      this.spaces();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 0x7d /* } */) return out;
      if (c !== 0x2c /* , */) decline();
      this.spaces();
    }
  }
}

/**
 * The value of a TOML text in the subset described above, exactly as @iarna/toml reads
 * it (less its hidden type tags); DECLINED when the text is outside the subset.
 */
export function parseSimpleToml(text: string): unknown {
  if (NOT_SIMPLE_CHARS.test(text) || text.includes('\r')) return DECLINED;
  const top: Record<string, unknown> = {};
  let schedules: Record<string, unknown>[] | undefined;
  let table = top;
  const r = new Reader(text);
  try {
    while (r.pos < text.length) {
      r.startLine();
      r.spaces();
      const c = text.charCodeAt(r.pos);
      if (c === 0x5b /* [ */) {
        // Only the array of tables this path knows; any other header is the package's.
        if (!text.startsWith(HEADER, r.pos)) return DECLINED;
        r.pos += HEADER.length;
        r.spaces();
        r.endOfLine();
        if (schedules === undefined) {
          if (Object.hasOwn(top, 'schedules')) return DECLINED;
          top.schedules = schedules = [];
        }
        table = {};
        schedules.push(table);
        continue;
      }
      // A blank or comment line, or a pair and what may follow it on its line.
      if (c !== 0x0a && c !== 0x23 && r.pos < text.length) {
        r.pair(table);
        r.spaces();
      }
      r.endOfLine();
    }
  } catch {
    // Declined, or anything unexpected: @iarna/toml decides.
    return DECLINED;
  }
  return top;
}
