/**
 * How user text is quoted in error messages: short, escaped, and only when it is part
 * of a schedule. A schedule file can be anything pyrq's user can read (a mistaken path,
 * a hostile link), and its errors travel to `pyrq status`, Redis (`pyrq:sources`) and
 * the status page; a line of /etc/shadow read as a YAML key must not travel with them.
 *
 * - `quote(v)`: a value of a known field (a queue, a timezone, a function): JSON-quoted
 *   (so control characters are escaped) and cut to `EXCERPT_CHARS` characters.
 * - `fieldName(k)`: the name of an unknown key: shown only when it looks like a field
 *   name someone misspelt; anything else (content that happened to parse as a key) is
 *   described by its length alone.
 *
 * Pure: no imports.
 */

/** The most characters of a user value an error message quotes. */
export const EXCERPT_CHARS = 60;

/** `text` cut to `max` characters (never inside a surrogate pair), with `…` when cut. */
export function cut(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** A user value, JSON-quoted and cut to an excerpt. */
export function quote(v: unknown, max = EXCERPT_CHARS): string {
  if (typeof v === 'string') return JSON.stringify(cut(v, max));
  const text = typeof v === 'bigint' ? `${v}` : (JSON.stringify(v) ?? String(v));
  return cut(text, max);
}

/** A name that could be a misspelt field: shown; anything else is not. */
const NAME_LIKE = /^[A-Za-z_$][A-Za-z0-9_$.-]{0,63}$/;

/** Is `key` shown in messages as itself? */
export function isNameLike(key: string): boolean {
  return NAME_LIKE.test(key);
}

/** An unknown key for a message: `"kwarg"`, or `a 37-character key (not shown)`. */
export function fieldName(key: string): string {
  return isNameLike(key) ? JSON.stringify(key) : `a ${key.length}-character key (not shown: not a field name)`;
}
