/**
 * Validation issues: where (a field path inside one schedule) and why. Formatting into
 * the full "file: schedules[2] (id "x"): field: reason" line happens in `formatSourceError` (`src/source.ts`).
 */
import type { z } from 'zod';
import { describeType, parseDuration } from './duration.js';
import { fieldName, isNameLike, quote } from './excerpt.js';
import { didYouMean } from './suggest.js';

/** One problem with one field of one schedule. `path` is "" for the schedule as a whole. */
export interface FieldIssue {
  path: string;
  message: string;
}

export function formatPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p))) out += out === '' ? String(p) : `.${String(p)}`;
    else out += `[${quote(String(p))}]`;
  }
  return out;
}

export function issueText(i: FieldIssue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

export { suggest } from './suggest.js';

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  date: 'a timestamp',
};

/** The field names of the (possibly nested, possibly optional) object schema at `path`. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: unknown = schema;
  const unwrap = (t: unknown): unknown => {
    let x = t as { _zod?: { def?: { type?: string; innerType?: unknown } } };
    while (x?._zod?.def?.type === 'optional' || x?._zod?.def?.type === 'default') x = x._zod.def.innerType as typeof x;
    return x;
  };
  for (const p of path) {
    const shape = (unwrap(cur) as { shape?: Record<string, unknown> }).shape;
    if (!shape || typeof p !== 'string') return [];
    cur = shape[p];
  }
  return Object.keys((unwrap(cur) as { shape?: Record<string, unknown> }).shape ?? {});
}

/**
 * "a string", "an array"; a fraction or a big integer is shown as itself, because
 * "expected an integer, got a number" says neither that 1.5 was the problem nor that
 * 2^64 is too large.
 */
function describeInput(v: unknown): string {
  if (typeof v === 'bigint') return `${v}, which is too large`;
  if (typeof v === 'number' && !Number.isInteger(v)) return String(v);
  return describeType(v);
}

/** Turns zod's issues into ours, with messages that say what was expected and what came. */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  knownFields: readonly string[] | ((path: readonly PropertyKey[]) => readonly string[]),
): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const iss of issues) {
    const path = formatPath(iss.path);
    const input = (iss as { input?: unknown }).input;
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const key of iss.keys) {
          // A key that is no field name (content read as a key: a line of some other file)
          // is not echoed, only described (excerpt.ts).
          if (!isNameLike(key)) {
            out.push({ path, message: `unknown field: ${fieldName(key)}` });
            continue;
          }
          out.push({
            path: formatPath([...iss.path, key]),
            message: `unknown field${didYouMean(key, typeof knownFields === 'function' ? knownFields(iss.path) : knownFields)}`,
          });
        }
        break;
      case 'invalid_type':
        out.push({
          path,
          message:
            input === undefined
              ? 'required'
              : `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describeInput(input)}`,
        });
        break;
      case 'invalid_union': {
        // Our unions are "string or date" (timestamps, `input-shapes.ts`) and "string or
        // number" (durations): a union with a date branch is a timestamp, whatever its field.
        const timestamp = iss.errors.some((branch) =>
          branch.some((e) => e.code === 'invalid_type' && e.expected === 'date'),
        );
        if (!timestamp && (typeof input === 'number' || typeof input === 'bigint')) {
          // A fraction or an integer beyond 2^53: say what is wrong with the number itself.
          const d = parseDuration(input);
          if (typeof d !== 'number') {
            out.push({ path, message: `${String(input)}: ${d.reason}` });
            break;
          }
        }
        out.push({
          path,
          message: `expected ${timestamp ? 'an ISO 8601 timestamp string' : 'a duration string or a number of seconds'}, got ${describeInput(input)}`,
        });
        break;
      }
      case 'invalid_value':
        out.push({
          path,
          message: `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${quote(input)}${typeof input === 'string' ? didYouMean(input, iss.values.map(String)) : ''}`,
        });
        break;
      default:
        out.push({ path, message: iss.message });
    }
  }
  return out;
}
