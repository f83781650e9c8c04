/**
 * The table of `pyrq doctor`'s checks, in the order they print. A new check is a module
 * with a `DoctorCheck` and a row here (`registerCheck` adds one from elsewhere, e.g. a
 * plug-in check that knows a particular source).
 */
import type { DoctorCheck } from './check.js';
import { daemonCheck } from './daemon-check.js';
import { frappeCheck } from './frappe-check.js';
import { outcomesCheck } from './outcomes-check.js';
import { redisCheck } from './redis-check.js';
import { registryCheck } from './registry-check.js';
import { sourcesCheck } from './sources-check.js';
import { workersCheck } from './workers-check.js';

const CHECKS: DoctorCheck[] = [
  redisCheck,
  sourcesCheck,
  frappeCheck,
  workersCheck,
  daemonCheck,
  registryCheck,
  outcomesCheck,
];

/** Every check, in order. */
export function doctorChecks(): readonly DoctorCheck[] {
  return CHECKS;
}

/** Adds a check (after `after`, by name, when given; else at the end). Names are unique. */
export function registerCheck(check: DoctorCheck, after?: string): void {
  if (CHECKS.some((c) => c.name === check.name)) throw new Error(`doctor check "${check.name}" is registered already`);
  const i = after === undefined ? -1 : CHECKS.findIndex((c) => c.name === after);
  if (i === -1) CHECKS.push(check);
  else CHECKS.splice(i + 1, 0, check);
}
