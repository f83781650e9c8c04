/**
 * The one helper for user data in log fields: a value that came from outside (a BTU
 * command, a request line) is logged as a bounded prefix, so one hostile 10 MB value
 * cannot write 10 MB of logs per line it appears in. Pure.
 */

import { cut } from './model/excerpt.js';

/** Characters of user data a log field carries at most (plus a note of the full length). */
export const LOG_EXCERPT_CHARS = 200;

/**
 * `text` itself when it is at most `max` characters; else its first `max` characters
 * followed by `… (N chars)`, N the full length. null and undefined pass through.
 */
export function logExcerpt<T extends string | null | undefined>(text: T, max = LOG_EXCERPT_CHARS): T | string {
  if (typeof text !== 'string' || text.length <= max) return text;
  // The same cut as error messages use (never inside a surrogate pair), plus the full length.
  return `${cut(text, max)} (${text.length} chars)`;
}
