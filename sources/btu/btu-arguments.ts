/**
 * BTU's `arguments` (BTU Task) and `argument_overrides` (BTU Task Schedule) columns: the
 * keyword arguments of a task, as text.
 *
 * BTU documented them as "a Python Dictionary of key-values", so older rows hold Python
 * literals (`{'days': 7, 'dry_run': False}`); since June 2025 BTU's own
 * `BTUTask.built_in_arguments()` tries `json.loads` first and falls back to
 * `ast.literal_eval`, and BTU writes new values with `json.dumps` (`true`, `null`).
 * We accept exactly what BTU accepts, in the same order, so a row means here what it
 * means to BTU:
 * - JSON first (with exact big integers, as Python's json.loads keeps them). The only
 *   texts valid in both languages with different values use the `\/` escape, which
 *   JSON reads as `/` and Python as `\/`; JSON first gives BTU's answer.
 * - then the safe Python literal parser (never `eval`).
 * Empty or NULL text means no arguments. Anything but a dict is an error.
 */
import { parseJson } from '../../src/canonical-json.js';
import { parseKwargsLiteral } from './py-literal.js';

export type ArgumentsResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

const BLANK = /^\s*$/;
/** Longest text parsed (UTF-16 units): arguments are a few hundred bytes; a `longtext` column could hold gigabytes. */
export const MAX_ARGUMENTS_LENGTH = 1024 * 1024;

export function parseBtuArguments(text: string | null | undefined): ArgumentsResult {
  if (text === null || text === undefined || BLANK.test(text)) return { ok: true, value: {} };
  if (text.length > MAX_ARGUMENTS_LENGTH)
    return {
      ok: false,
      message: `is ${text.length} characters long, over the limit of ${MAX_ARGUMENTS_LENGTH}; refused without parsing`,
    };
  let jsonProblem: string;
  try {
    const v = parseJson(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      return { ok: true, value: v as Record<string, unknown> };
    // Valid JSON but not an object: Python would read the same value, so no fallback helps.
    return {
      ok: false,
      message: `expected a dict of keyword arguments, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v}`,
    };
  } catch (e) {
    jsonProblem = (e as Error).message;
  }
  try {
    return { ok: true, value: parseKwargsLiteral(text) };
  } catch (e) {
    // Most rows are Python literals, so the Python position is the useful one; the JSON
    // reason follows for rows that were meant as JSON.
    return {
      ok: false,
      message: `not a Python dict literal (${(e as Error).message}) nor a JSON object (${jsonProblem})`,
    };
  }
}

/** BTU's merge: the task's arguments, then the schedule's overrides on top, key by key (Python `a | b`). */
export function mergeArguments(
  task: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  return { ...task, ...overrides };
}
