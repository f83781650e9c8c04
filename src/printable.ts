/**
 * One escaping helper for text pyrq prints that came from outside: file names, ids,
 * reasons, error messages. A file named `x\e[2J\nOK.yaml` must show as that, escaped, in
 * `pyrq status`, `diff`, `apply`, `validate`, `history`, never clear or rewrite the
 * operator's terminal. Control characters (C0, DEL, C1), the Unicode line and paragraph
 * separators and the bidirectional overrides (which reorder what a terminal shows) become
 * `\xNN` / `\uNNNN`; everything else, backslashes included, is kept as written.
 *
 * Pure: no imports.
 */

// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNPRINTABLE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One value (a file name, an id, a one-line message) with every control character escaped, newlines too. */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, escapeChar);
}

/** Rendered output: control characters escaped, its own line breaks kept. */
export function printableText(s: string): string {
  return s.replace(UNPRINTABLE_BUT_NEWLINE, escapeChar);
}
