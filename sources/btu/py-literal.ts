/**
 * A safe parser for the Python literals that the Frappe app BTU stores in its `arguments` and
 * `argument_overrides` columns, e.g. `{'company': 'ACME', 'days': 7, 'dry_run': False}`.
 *
 * It accepts the JSON-compatible subset of `ast.literal_eval` and evaluates nothing: a hand-written
 * scanner plus recursive descent over the text (no eval, no Function, no regex over unbounded input).
 * Where it differs from `ast.literal_eval` it only ever rejects or is more lenient, never gives
 * another value:
 * - rejected although Python accepts: sets and `set()`, bytes, complex numbers, `\N{...}` escapes,
 *   floats that overflow to inf, non-string dict keys, ints of any base whose value has more than
 *   4300 decimal digits (Python limits only decimal literals), nesting deeper than `maxDepth`;
 * - accepted although Python rejects: indented whitespace after a leading or trailing newline
 *   (Python raises IndentationError; surrounding whitespace is never meaningful in a column value).
 *
 * This is one file of ~570 lines, over the usual 250, because scanner and parser share the
 * position, nesting and error state; splitting them would only add plumbing.
 */

/** A parsed literal: dict -> plain object, list/tuple -> array, int -> number or bigint (beyond 2^53-1). */
export type PyLiteralValue =
  string | number | bigint | boolean | null | PyLiteralValue[] | { [key: string]: PyLiteralValue };

/** Limits that keep hostile input cheap to reject. */
export interface PyLiteralOptions {
  /** Deepest nesting of (), [] and {} accepted; deeper input is an error. Default 64. Keep it modest: parsing recurses. */
  maxDepth?: number;
  /** Longest input accepted, in UTF-16 code units (JS string length), checked before parsing. Default 1 MiB. */
  maxLength?: number;
}

/** Invalid or unsupported input. `line` and `column` are 1-based (column in UTF-16 code units); `reason` omits them. */
export class PyLiteralError extends Error {
  override readonly name = 'PyLiteralError';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_LENGTH = 1024 * 1024;
/** Python's default `sys.int_max_str_digits`. */
const MAX_INT_DIGITS = 4300;
const INT_LIMIT = 10n ** BigInt(MAX_INT_DIGITS);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// Character codes used by the scanner.
const TAB = 9,
  LF = 10,
  FF = 12,
  CR = 13,
  SPACE = 32,
  DQUOTE = 34,
  HASH = 35,
  SQUOTE = 39;
const LPAREN = 40,
  RPAREN = 41,
  PLUS = 43,
  COMMA = 44,
  MINUS = 45,
  DOT = 46,
  ZERO = 48;
const COLON = 58,
  LBRACKET = 91,
  BACKSLASH = 92,
  RBRACKET = 93,
  UNDERSCORE = 95,
  LBRACE = 123,
  RBRACE = 125;

const ID_START = /[\p{ID_Start}_]/u;
const ID_CONTINUE = /\p{ID_Continue}/u;
/** Python's whitespace; anything else (\v, U+00A0, BOM) is an invalid character outside strings. */
const BLANK = /^[ \t\f\r\n]*$/;

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Python type names, used in messages and to enforce "keys are str" and "signs apply to numbers". */
type Kind = 'str' | 'int' | 'float' | 'bool' | 'None' | 'list' | 'tuple' | 'dict';

interface Parsed {
  value: PyLiteralValue;
  kind: Kind;
  /** Carries a unary sign already: Python accepts `-5` and `-(5)` but not `--5` or `-(-5)`. */
  signed: boolean;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isQuote = (c: number): boolean => c === SQUOTE || c === DQUOTE;
const isAsciiLetter = (c: number): boolean => (c | 0x20) >= 97 && (c | 0x20) <= 122;

function isDigitOf(c: number, base: number): boolean {
  if (base === 16) return isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
  return c >= 48 && c < 48 + base;
}

/** Length of the line break at `at` (\n, \r\n or \r), 0 if none. */
function newlineAt(s: string, at: number): number {
  const c = s.charCodeAt(at);
  if (c === LF) return 1;
  if (c === CR) return s.charCodeAt(at + 1) === LF ? 2 : 1;
  return 0;
}

/** Computed only when an error is thrown, so the happy path does not track lines. */
function lineCol(s: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === LF || (c === CR && s.charCodeAt(i + 1) !== LF)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}

function errorAt(s: string, at: number, reason: string): PyLiteralError {
  const { line, column } = lineCol(s, at);
  return new PyLiteralError(reason, line, column);
}

/** Python ints become numbers when exactly representable, else bigint; magnitude is capped like Python's. */
function intValue(n: bigint): number | bigint {
  return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

class Parser {
  private pos = 0;
  private depth = 0;
  /** Set once the first token is consumed: from then on a newline outside brackets ends the value. */
  private started = false;

  constructor(
    private readonly src: string,
    private readonly maxDepth: number,
  ) {}

  /** expressions := expr (',' expr)* [','] — a bare top-level comma makes a tuple, as in Python. */
  parseDocument(): { parsed: Parsed; start: number } {
    this.skip();
    const start = this.pos;
    if (start >= this.src.length) throw this.fail('expected a value, got end of input', start);
    let parsed = this.parseExpr();
    this.skip();
    if (this.peek() === COMMA) {
      const items = [parsed.value];
      while (this.peek() === COMMA) {
        this.pos++;
        this.skip();
        if (this.pos >= this.src.length) break;
        items.push(this.parseExpr().value);
        this.skip();
      }
      parsed = { value: items, kind: 'tuple', signed: false };
    }
    if (this.pos < this.src.length) {
      throw this.unexpected(this.pos, 'after the value; operators, calls, attributes and subscripts are not allowed');
    }
    return { parsed, start };
  }

  private peek(): number {
    return this.src.charCodeAt(this.pos);
  }

  private fail(reason: string, at: number): PyLiteralError {
    return errorAt(this.src, at, reason);
  }

  private unexpected(at: number, hint?: string): PyLiteralError {
    return this.fail(
      `unexpected ${this.describe(at)}${hint ? ` ${hint.startsWith('after') ? hint : `(${hint})`}` : ''}`,
      at,
    );
  }

  private describe(at: number): string {
    const s = this.src;
    if (at >= s.length) return 'end of input';
    const c = s.charCodeAt(at);
    if (isQuote(c)) return 'string';
    if (isDigit(c)) return 'number';
    const name = this.nameAt(at);
    if (name !== undefined) return `name '${name.length > 40 ? `${name.slice(0, 40)}...` : name}'`;
    if (s.startsWith('**', at)) return "'**'";
    const cp = s.codePointAt(at) ?? c;
    const ch = String.fromCodePoint(cp);
    if (cp < 0x20 || cp === 0x7f || /[\p{C}\p{Z}]/u.test(ch)) {
      return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    }
    return `'${ch}'`;
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) throw this.fail(`nesting deeper than ${this.maxDepth} levels`, this.pos);
  }

  /** Skips whitespace, comments and backslash-newline continuations, following Python's line rules. */
  private skip(): void {
    const s = this.src;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === SPACE || c === TAB || c === FF) {
        this.pos++;
      } else if (c === HASH) {
        while (this.pos < s.length && newlineAt(s, this.pos) === 0) this.pos++;
      } else if (c === LF || c === CR) {
        if (this.depth === 0 && this.started) return this.skipTrailing();
        this.pos += newlineAt(s, this.pos);
      } else if (c === BACKSLASH) {
        const n = newlineAt(s, this.pos + 1);
        if (n === 0) throw this.fail('unexpected character after line continuation', this.pos);
        const at = this.pos;
        this.pos += 1 + n;
        if (this.blankFrom(this.pos) === s.length)
          throw this.fail('unexpected end of input after line continuation', at);
      } else {
        return;
      }
    }
  }

  /** Index of the first non-blank, non-comment character at or after `from`. */
  private blankFrom(from: number): number {
    const s = this.src;
    let i = from;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === SPACE || c === TAB || c === FF || c === LF || c === CR) i++;
      else if (c === HASH) while (i < s.length && newlineAt(s, i) === 0) i++;
      else break;
    }
    return i;
  }

  /** A newline outside brackets ends the logical line, as in Python: only blanks and comments may follow. */
  private skipTrailing(): void {
    const next = this.blankFrom(this.pos);
    if (next < this.src.length) {
      throw this.unexpected(next, 'on a new line; a value spanning lines must be inside brackets');
    }
    this.pos = next;
  }

  private parseExpr(): Parsed {
    this.skip();
    const signAt = this.pos;
    const c = this.peek();
    if (c !== PLUS && c !== MINUS) return this.parseAtom();
    this.pos++;
    this.started = true;
    // parseAtom, not parseExpr: a run of signs must not recurse (and Python rejects `--5` anyway).
    const operand = this.parseAtom();
    if ((operand.kind !== 'int' && operand.kind !== 'float') || operand.signed) {
      const what = operand.signed ? 'a signed number' : operand.kind;
      throw this.fail(`unary '${String.fromCharCode(c)}' only applies to an unsigned number, not ${what}`, signAt);
    }
    let value = operand.value as number | bigint;
    if (c === MINUS) value = typeof value === 'bigint' ? -value : operand.kind === 'int' && value === 0 ? 0 : -value;
    return { value, kind: operand.kind, signed: true };
  }

  private parseAtom(): Parsed {
    this.skip();
    this.started = true;
    const at = this.pos;
    const c = this.peek();
    if (c === LBRACKET) {
      this.enter();
      this.pos++;
      return { value: this.parseItems(RBRACKET, []), kind: 'list', signed: false };
    }
    if (c === LPAREN) return this.parseParen();
    if (c === LBRACE) return this.parseBrace();
    if (this.stringPrefixAt(at) !== undefined) return this.parseStrings();
    if (isDigit(c) || (c === DOT && isDigit(this.src.charCodeAt(at + 1)))) return this.parseNumber();
    const name = this.nameAt(at);
    if (name === undefined) throw this.unexpected(at);
    this.pos += name.length;
    if (name === 'True' || name === 'False') return { value: name === 'True', kind: 'bool', signed: false };
    if (name === 'None') return { value: null, kind: 'None', signed: false };
    throw this.fail(`unexpected ${this.describe(at)} (only True, False and None are allowed)`, at);
  }

  /** Items up to `close`, with an optional trailing comma; `items` may hold an already parsed first item. */
  private parseItems(close: number, items: PyLiteralValue[]): PyLiteralValue[] {
    const closeChar = String.fromCharCode(close);
    for (;;) {
      this.skip();
      if (this.peek() === close) break;
      items.push(this.parseExpr().value);
      this.skip();
      if (this.peek() === COMMA) this.pos++;
      else if (this.peek() === close) break;
      else throw this.unexpected(this.pos, `expected ',' or '${closeChar}'`);
    }
    this.pos++;
    this.depth--;
    return items;
  }

  /** `()` is an empty tuple, `(x)` is just x (so `-(5)` works as in Python), `(x,)` is a tuple. */
  private parseParen(): Parsed {
    this.enter();
    this.pos++;
    this.skip();
    if (this.peek() === RPAREN) return { value: this.parseItems(RPAREN, []), kind: 'tuple', signed: false };
    const first = this.parseExpr();
    this.skip();
    if (this.peek() === RPAREN) {
      this.pos++;
      this.depth--;
      return first;
    }
    if (this.peek() !== COMMA) throw this.unexpected(this.pos, "expected ',' or ')'");
    this.pos++;
    return { value: this.parseItems(RPAREN, [first.value]), kind: 'tuple', signed: false };
  }

  private parseBrace(): Parsed {
    const open = this.pos;
    this.enter();
    this.pos++;
    // defineProperty makes every key, `__proto__` included, an own data property of a plain object:
    // no prototype is ever replaced or polluted. Redefining keeps the first position, like Python.
    const dict: { [key: string]: PyLiteralValue } = {};
    for (let first = true; ; first = false) {
      this.skip();
      if (this.peek() === RBRACE) break;
      const keyAt = this.pos;
      const key = this.parseExpr();
      this.skip();
      if (this.peek() !== COLON) {
        if (first && (this.peek() === COMMA || this.peek() === RBRACE)) {
          throw this.fail('sets are not supported (not JSON-compatible); use a list', open);
        }
        throw this.unexpected(this.pos, "expected ':' after the dict key");
      }
      if (key.kind !== 'str') throw this.fail(`dict keys must be strings, got ${key.kind}`, keyAt);
      this.pos++;
      const value = this.parseExpr().value;
      Object.defineProperty(dict, key.value as string, { value, writable: true, enumerable: true, configurable: true });
      this.skip();
      if (this.peek() === COMMA) this.pos++;
      else if (this.peek() === RBRACE) break;
      else throw this.unexpected(this.pos, "expected ',' or '}'");
    }
    this.pos++;
    this.depth--;
    return { value: dict, kind: 'dict', signed: false };
  }

  /** A Python identifier starting at `at`, if any. */
  private nameAt(at: number): string | undefined {
    const s = this.src;
    let i = at;
    while (i < s.length) {
      const cp = s.codePointAt(i) ?? 0;
      const ok =
        cp < 128
          ? isAsciiLetter(cp) || cp === UNDERSCORE || (i > at && isDigit(cp))
          : (i === at ? ID_START : ID_CONTINUE).test(String.fromCodePoint(cp));
      if (!ok) break;
      i += cp > 0xffff ? 2 : 1;
    }
    return i > at ? s.slice(at, i) : undefined;
  }

  /** The prefix (possibly '') of a string literal starting at `at`, or undefined if none starts there. */
  private stringPrefixAt(at: number): string | undefined {
    let i = at;
    while (i < at + 3 && isAsciiLetter(this.src.charCodeAt(i))) i++;
    return i - at <= 2 && isQuote(this.src.charCodeAt(i)) ? this.src.slice(at, i) : undefined;
  }

  /** Adjacent literals concatenate: `'a' "b"` is 'ab'. */
  private parseStrings(): Parsed {
    let value = '';
    do {
      value += this.parseString();
      this.skip();
    } while (this.stringPrefixAt(this.pos) !== undefined);
    return { value, kind: 'str', signed: false };
  }

  private parseString(): string {
    const s = this.src;
    const start = this.pos;
    const prefix = this.stringPrefixAt(start) ?? '';
    const p = prefix.toLowerCase();
    if (p === 'b' || p === 'br' || p === 'rb')
      throw this.fail('bytes literals are not supported (not JSON-compatible)', start);
    if (p === 'f' || p === 'fr' || p === 'rf')
      throw this.fail('f-strings are not supported (they are code, not literals)', start);
    if (p !== '' && p !== 'r' && p !== 'u') throw this.fail(`unexpected ${this.describe(start)}`, start);
    const raw = p === 'r';
    this.pos += prefix.length;
    const q = s.charCodeAt(this.pos);
    const triple = s.charCodeAt(this.pos + 1) === q && s.charCodeAt(this.pos + 2) === q;
    this.pos += triple ? 3 : 1;
    let out = '';
    let run = this.pos;
    for (;;) {
      if (this.pos >= s.length)
        throw this.fail(triple ? 'unterminated triple-quoted string' : 'unterminated string', start);
      const c = s.charCodeAt(this.pos);
      if (c === q && (!triple || (s.charCodeAt(this.pos + 1) === q && s.charCodeAt(this.pos + 2) === q))) {
        out += s.slice(run, this.pos);
        this.pos += triple ? 3 : 1;
        return out;
      }
      if (c === LF || c === CR) {
        if (!triple) throw this.fail('unterminated string (a line break needs \\n or a triple-quoted string)', start);
        // Python reads source with universal newlines, so \r\n and \r inside strings become \n.
        out += `${s.slice(run, this.pos)}\n`;
        this.pos += newlineAt(s, this.pos);
        run = this.pos;
      } else if (c === BACKSLASH) {
        out += s.slice(run, this.pos);
        if (this.pos + 1 >= s.length)
          throw this.fail(triple ? 'unterminated triple-quoted string' : 'unterminated string', start);
        out += raw ? this.rawEscape() : this.escape();
        run = this.pos;
      } else {
        this.pos++;
      }
    }
  }

  /** In raw strings a backslash only stops the next character (quote or newline) from ending the string. */
  private rawEscape(): string {
    const n = newlineAt(this.src, this.pos + 1);
    if (n > 0) {
      this.pos += 1 + n;
      return '\\\n';
    }
    // Both characters are consumed so that an escaped quote does not end the string.
    const ch = this.src[this.pos + 1] ?? '';
    this.pos += 2;
    return `\\${ch}`;
  }

  private escape(): string {
    const s = this.src;
    const at = this.pos;
    const ch = s[at + 1] ?? '';
    const n = newlineAt(s, at + 1);
    if (n > 0) {
      this.pos += 1 + n;
      return '';
    }
    const simple = SIMPLE_ESCAPES[ch];
    if (simple !== undefined) {
      this.pos += 2;
      return simple;
    }
    if (ch >= '0' && ch <= '7') {
      let end = at + 2;
      while (end < at + 4 && isDigitOf(s.charCodeAt(end), 8)) end++;
      this.pos = end;
      return String.fromCodePoint(parseInt(s.slice(at + 1, end), 8));
    }
    if (ch === 'x' || ch === 'u' || ch === 'U') {
      const len = ch === 'x' ? 2 : ch === 'u' ? 4 : 8;
      for (let i = at + 2; i < at + 2 + len; i++) {
        if (!isDigitOf(s.charCodeAt(i), 16)) throw this.fail(`truncated \\${ch} escape (needs ${len} hex digits)`, at);
      }
      const cp = parseInt(s.slice(at + 2, at + 2 + len), 16);
      if (cp > 0x10ffff) throw this.fail(`illegal Unicode character in \\${ch} escape (above U+10FFFF)`, at);
      this.pos = at + 2 + len;
      return String.fromCodePoint(cp);
    }
    if (ch === 'N')
      throw this.fail('\\N{...} escapes are not supported; write the character itself or use \\uXXXX', at);
    // Unknown escapes keep their backslash (Python's behaviour); the character is scanned normally.
    this.pos += 1;
    return '\\';
  }

  private parseNumber(): Parsed {
    const s = this.src;
    const start = this.pos;
    const radix = s.charCodeAt(start) === ZERO ? s[start + 1]?.toLowerCase() : undefined;
    if (radix === 'x' || radix === 'o' || radix === 'b') {
      const base = radix === 'x' ? 16 : radix === 'o' ? 8 : 2;
      const what = radix === 'x' ? 'hexadecimal' : radix === 'o' ? 'octal' : 'binary';
      this.pos += 2;
      const digits = this.scanDigits(base, true, start, what);
      if (isDigit(this.peek())) throw this.fail(`invalid digit '${s[this.pos]}' in ${what} literal`, start);
      if (digits === '' || this.nameAt(this.pos) !== undefined) throw this.fail(`invalid ${what} literal`, start);
      return this.intResult(BigInt(`0${radix}${digits}`), start);
    }
    const intPart = this.scanDigits(10, false, start, 'decimal');
    let isFloat = false;
    let text = intPart;
    if (this.peek() === DOT) {
      this.pos++;
      isFloat = true;
      text += `.${this.scanDigits(10, false, start, 'decimal')}`;
    }
    if ((this.peek() | 0x20) === 101 /* e */) {
      this.pos++;
      const sign = this.peek() === PLUS || this.peek() === MINUS ? s[this.pos++] : '';
      const exp = this.scanDigits(10, false, start, 'decimal');
      if (exp === '') throw this.fail('invalid decimal literal', start);
      isFloat = true;
      text += `e${sign}${exp}`;
    }
    if ((this.peek() | 0x20) === 106 /* j */)
      throw this.fail('complex numbers are not supported (not JSON-compatible)', start);
    if (this.nameAt(this.pos) !== undefined) throw this.fail('invalid decimal literal', start);
    if (isFloat) {
      const value = Number(text);
      if (!Number.isFinite(value))
        throw this.fail('float literal out of range (Python would make it inf, which is not JSON-compatible)', start);
      return { value, kind: 'float', signed: false };
    }
    const significant = intPart.replace(/^0+/, '');
    if (significant.length < intPart.length && significant !== '') {
      throw this.fail(
        'leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers',
        start,
      );
    }
    // Checked before BigInt() so that a megabyte of digits is never converted.
    if (significant.length > MAX_INT_DIGITS) throw this.tooManyDigits(start);
    return this.intResult(BigInt(intPart), start);
  }

  private intResult(n: bigint, start: number): Parsed {
    if (n >= INT_LIMIT) throw this.tooManyDigits(start);
    return { value: intValue(n), kind: 'int', signed: false };
  }

  private tooManyDigits(at: number): PyLiteralError {
    return this.fail(`integer literal has more than ${MAX_INT_DIGITS} digits (Python's int_max_str_digits limit)`, at);
  }

  /** Digits of `base` with single underscores between them (and after a 0x/0o/0b prefix); returns them without underscores. */
  private scanDigits(base: number, underscoreFirst: boolean, start: number, what: string): string {
    const s = this.src;
    let out = '';
    let run = this.pos;
    let i = this.pos;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === UNDERSCORE && (underscoreFirst || i > run || out !== '')) {
        if (!isDigitOf(s.charCodeAt(i + 1), base)) throw this.fail(`invalid ${what} literal`, start);
        out += s.slice(run, i);
        run = ++i;
      } else if (isDigitOf(c, base)) {
        i++;
      } else {
        break;
      }
    }
    this.pos = i;
    return out + s.slice(run, i);
  }
}

function runParser(text: string, opts: PyLiteralOptions): { parsed: Parsed; start: number; text: string } {
  if (typeof text !== 'string') throw new TypeError(`expected a string, got ${typeof text}`);
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) throw errorAt(text, maxLength, `input is longer than ${maxLength} characters`);
  // Python refuses source containing NUL anywhere, strings included.
  const nul = text.indexOf('\0');
  if (nul >= 0) throw errorAt(text, nul, 'NUL character (U+0000) is not allowed');
  const { parsed, start } = new Parser(text, opts.maxDepth ?? DEFAULT_MAX_DEPTH).parseDocument();
  return { parsed, start, text };
}

/**
 * Parses one Python literal (the JSON-compatible subset of `ast.literal_eval`) without evaluating
 * anything. Throws PyLiteralError, with a 1-based position, for invalid or unsupported input.
 */
export function parsePyLiteral(text: string, opts: PyLiteralOptions = {}): PyLiteralValue {
  return runParser(text, opts).parsed.value;
}

/**
 * Parses a BTU `arguments` / `argument_overrides` value: null, empty or whitespace-only text is `{}`,
 * anything else must be a dict literal (else PyLiteralError `expected a dict literal, got list`).
 */
export function parseKwargsLiteral(
  text: string | null | undefined,
  opts: PyLiteralOptions = {},
): Record<string, unknown> {
  if (text === null || text === undefined || (typeof text === 'string' && BLANK.test(text))) return {};
  const { parsed, start } = runParser(text, opts);
  if (parsed.kind !== 'dict') throw errorAt(text, start, `expected a dict literal, got ${parsed.kind}`);
  return parsed.value as Record<string, unknown>;
}
