/**
 * Source status as `pyrq status` shows it when no daemon answers, made from a plan. The
 * daemon records it (`RegistryPort.recordSourceStatus`) after every reconcile; `pyrq
 * apply` records it too, so what a one-shot apply refused (a function outside the
 * allowlist, a broken file, an unreadable database) is still shown by `status` after
 * the command has exited. Pure.
 */
import type { Plan } from '../src/plan/types.js';
import type { SourceStatus } from '../src/registry/registry-port.js';
import { formatSourceError } from '../src/source.js';

export function sourceStatusFromPlan(
  plan: Plan,
  at: number,
  by?: string,
  locations: Readonly<Record<string, string | undefined>> = {},
  details: Readonly<Record<string, string | undefined>> = {},
): SourceStatus[] {
  return plan.sources.map((s) => ({
    ...(locations[s.source] ? { location: locations[s.source] } : {}),
    ...(details[s.source] ? { detail: details[s.source] } : {}),
    source: s.source,
    stale: s.stale,
    schedules: s.schedules,
    held: s.held,
    errors: plan.errors
      .filter((e) => e.source === s.source)
      .slice(0, 50)
      .map(formatSourceError),
    at,
    ...(by !== undefined ? { by } : {}),
  }));
}
