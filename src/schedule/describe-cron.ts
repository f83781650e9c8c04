/**
 * A cron expression read out in words ("At 09:00, Monday through Friday"), with
 * cronstrue, for the status page and `pyrq status`/`next`. Croner's six-field form has
 * seconds first, as cronstrue reads it too. Pure; memoised (a registry repeats a few
 * expressions many times). Undefined when cronstrue cannot read an expression croner
 * accepted: the expression itself is then the only description.
 */
import { createRequire } from 'node:module';

// cronstrue is CommonJS: required, not imported, and only when the first expression is
// read out (CLI start-up: an ESM import makes Node scan its 55 KB for export names first,
// ~150 M instructions, ~15 ms; a registry without cron schedules needs none of it).
const requireCjs = createRequire(import.meta.url);
let cronstrue: typeof import('cronstrue').default | undefined;

const memo = new Map<string, string | undefined>();
const MEMO_MAX = 10_000;

export function describeCron(expr: string): string | undefined {
  if (memo.has(expr)) return memo.get(expr);
  let text: string | undefined;
  try {
    cronstrue ??= requireCjs('cronstrue') as typeof import('cronstrue').default;
    text = cronstrue.toString(expr, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false });
  } catch {
    text = undefined;
  }
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(expr, text);
  return text;
}

/** `trigger` followed by the cron expression in words, when there is one: `cron "0 9 * * 1-5" (UTC): At 09:00, Monday through Friday`. */
export function withCronWords(trigger: string, cron: string | undefined): string {
  const words = cron === undefined ? undefined : describeCron(cron);
  return words ? `${trigger}: ${words}` : trigger;
}
