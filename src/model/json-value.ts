/**
 * Checks that args/kwargs/meta hold only JSON-compatible values (plus big integers, which
 * TOML and YAML can express and Python ints can hold). These values are pickled for RQ
 * and hashed, so anything else (dates, NaN, class instances) is refused up front.
 */
import { describeType } from './duration.js';

export const MAX_VALUE_DEPTH = 64;

/** A key written after a dot in a path (`kwargs.days`); any other is quoted (`kwargs["a b"]`). */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Returns the first problem as [path, reason], or null when the value is fine. The keys
 * on the way down are kept on a stack and written out as a path only for a problem found:
 * a template string and a regex test per key of every schedule's kwargs cost more than
 * the check.
 */
export function jsonValueProblem(value: unknown, path: string): [string, string] | null {
  if (value === undefined) return null; // field absent
  const trail: (string | number)[] = [];
  const why = problemIn(value, trail);
  if (why === null) return null;
  let at = path;
  for (const seg of trail)
    at += typeof seg === 'number' ? `[${seg}]` : PLAIN_KEY.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
  // The path of the 65th level is 65 segments long; name the start of it, not all of it.
  if (trail.length > MAX_VALUE_DEPTH) at = at.replace(/^([^[.]*(?:[[.][^[.]*){3}).*$/, '$1…');
  return [at, why];
}

/** Why `value` is not a JSON value (`trail` then holds the keys down to it), or null. */
function problemIn(value: unknown, trail: (string | number)[]): string | null {
  if (trail.length > MAX_VALUE_DEPTH) return `nested deeper than ${MAX_VALUE_DEPTH} levels`;
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${value} is not a JSON number`;
    case 'object': {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          trail.push(i);
          const p = problemIn(value[i], trail);
          if (p !== null) return p;
          trail.pop();
        }
        return null;
      }
      if (value instanceof Date) return 'a date is not a JSON value; write it as a string';
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return `${describeType(value)} is not a JSON value`;
      for (const k of Object.keys(value)) {
        trail.push(k);
        const p = problemIn((value as Record<string, unknown>)[k], trail);
        if (p !== null) return p;
        trail.pop();
      }
      return null;
    }
    default:
      return `${describeType(value)} is not a JSON value`;
  }
}
