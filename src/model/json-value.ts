/**
 * Checks that args/kwargs/meta hold only JSON-compatible values (plus big integers, which
 * TOML and YAML can express and Python ints can hold). These values are pickled for RQ
 * and hashed, so anything else (dates, NaN, class instances) is refused up front.
 */
import { describeType } from './duration.js';

export const MAX_VALUE_DEPTH = 64;

/**
 * Whether `value` holds only what {@link jsonValueProblem} accepts, without building the
 * path of every key on the way (a template string and a regex test per key of every
 * schedule's kwargs): only a value that fails is walked again for its path.
 */
function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > MAX_VALUE_DEPTH) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJsonValue(value[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k of Object.keys(value))
        if (!isJsonValue((value as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** Returns the first problem as [path suffix, reason], or null when the value is fine. */
export function jsonValueProblem(value: unknown, path: string, depth = 0): [string, string] | null {
  if (value === undefined && depth === 0) return null; // field absent
  if (depth === 0 && isJsonValue(value, 0)) return null;
  // The path of the 65th level is 65 segments long; name the start of it, not all of it.
  if (depth > MAX_VALUE_DEPTH)
    return [path.replace(/^([^[.]*(?:[[.][^[.]*){3}).*$/, '$1…'), `nested deeper than ${MAX_VALUE_DEPTH} levels`];
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint')
    return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : [path, `${value} is not a JSON number`];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonValueProblem(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  if (value instanceof Date) return [path, 'a date is not a JSON value; write it as a string'];
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return [path, `${describeType(value)} is not a JSON value`];
    for (const [k, v] of Object.entries(value)) {
      const p = jsonValueProblem(
        v,
        /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`,
        depth + 1,
      );
      if (p) return p;
    }
    return null;
  }
  return [path, `${describeType(value)} is not a JSON value`];
}
