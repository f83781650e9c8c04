/**
 * TOML integers are 64-bit signed; @iarna/toml (2.2.5) wraps larger ones with
 * `BigInt.asIntN(64, …)`, silently: `{a = 18446744073709551617}` reads as 1 and
 * `0xFFFFFFFFFFFFFFFFFF` as -1. Its integer parsing is not reachable from outside, so
 * this scans the text first, the way TOML's grammar splits it: strings (the four
 * kinds) and comments are skipped, table headers hold keys, a bare word followed by `=`
 * or `.` is a key; every other word that is a whole integer (decimal, hex, octal or
 * binary, with `_` separators) is a value, and one beyond 64 bits is refused with its
 * line and the key it belongs to (the nearest `key =` before it: the array's or inline
 * table's field).
 *
 * Pure: no I/O.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Characters of a bare word: keys, numbers, dates, times, booleans, inf/nan. */
const WORD = /[A-Za-z0-9_+\-.:]/;

/** The integer a whole word spells, or undefined when it is not an integer literal. */
function integerOf(word: string): bigint | undefined {
  const m = /^([+-]?)(?:0x([0-9A-Fa-f_]+)|0o([0-7_]+)|0b([01_]+)|([0-9][0-9_]*))$/.exec(word);
  if (!m) return undefined;
  const [, sign, hex, oct, bin, dec] = m;
  const digits = (hex ?? oct ?? bin ?? dec)!.replace(/_/g, '');
  if (digits === '') return undefined;
  const v = BigInt(hex ? `0x${digits}` : oct ? `0o${digits}` : bin ? `0b${digits}` : digits);
  return sign === '-' ? -v : v;
}

/**
 * A run every integer beyond 64 bits contains: 2^63 needs 19 decimal digits, 16 hex, 21
 * octal or 64 binary ones (`_` separators only lengthen it). A text without one has no
 * such integer, and the scan below (a sixtieth of a cold apply's parse CPU) is skipped.
 */
const LONG_DIGIT_RUN = /[0-9A-Fa-f_]{16}/;

/** An error message for the first integer beyond 64 bits in `text`, or undefined. */
export function tomlIntegerRangeError(text: string): string | undefined {
  if (!LONG_DIGIT_RUN.test(text)) return undefined;
  let i = 0;
  let line = 1;
  let depth = 0; // open [ and { of values (arrays, inline tables)
  let lastKey = '';
  let atLineStart = true;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const lineStart = atLineStart;
    atLineStart = false;
    if (c === '"' || c === "'") {
      const start = i;
      const triple = text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      i += close.length;
      while (i < n && !text.startsWith(close, i)) {
        if (text[i] === '\n') line++;
        else if (c === '"' && text[i] === '\\') i++; // skip the escaped character
        i++;
      }
      // A triple-quoted string may end in up to two extra quotes.
      i += close.length;
      while (triple && text[i] === c) i++;
      if (nextIs(text, i, '=')) lastKey = text.slice(start, i);
      continue;
    }
    if (lineStart && depth === 0 && c === '[') {
      // A table header: keys only, up to the end of the line (strings in it skipped above
      // would need the quote handling, but a header's integers are keys either way).
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '[' || c === '{') {
      depth++;
      i++;
      continue;
    }
    if (c === ']' || c === '}') {
      if (depth > 0) depth--;
      i++;
      continue;
    }
    if (WORD.test(c)) {
      const start = i;
      while (i < n && WORD.test(text[i]!)) i++;
      const word = text.slice(start, i);
      if (nextIs(text, i, '=')) {
        lastKey = word.split('.').pop()!;
        continue;
      }
      // A dotted key broken by spaces (`a . b = 1`) or a key followed by a quoted part.
      if (nextIs(text, i, '.')) continue;
      const v = integerOf(word);
      if (v !== undefined && (v > INT64_MAX || v < INT64_MIN))
        return `line ${line}: integer ${word.length > 40 ? `${word.slice(0, 40)}…` : word}${lastKey ? ` in ${JSON.stringify(lastKey.replace(/^["']|["']$/g, ''))}` : ''} does not fit TOML's 64-bit integers; use a string`;
      continue;
    }
    i++;
  }
  return undefined;
}

/** Is the next character after optional spaces `ch`? */
function nextIs(text: string, i: number, ch: string): boolean {
  while (text[i] === ' ' || text[i] === '\t') i++;
  return text[i] === ch;
}
