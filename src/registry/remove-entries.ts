/**
 * Removing registry entries on an operator's request, outside any source's reconcile:
 * `pyrq delete` (pushed schedules, without a daemon) and `pyrq prune --source NAME`
 * (every entry of one source, typically one no longer configured: an orphan). The
 * removal is a plan of deletes, applied like any plan: compare-and-set on the hash
 * observed, so an entry changed meanwhile is left alone (reported as a conflict).
 */
import type { Plan } from '../plan/types.js';
import type { RegistryPort } from './registry-port.js';

/** A plan that deletes every entry of `source` (the ids in `only`, when given). */
export async function removalPlan(
  registry: Pick<RegistryPort, 'readIndex' | 'readSpecs'>,
  source: string,
  now: number,
  only?: readonly string[],
): Promise<Plan> {
  const index = await registry.readIndex();
  const wanted = only ? new Set(only) : undefined;
  const entries = [...index]
    .filter(([id, e]) => e.source === source && (!wanted || wanted.has(id)))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const specs = await registry.readSpecs(entries.map(([id]) => id));
  return {
    createdAt: now,
    changes: entries.map(([id, e]) => ({
      action: 'delete',
      id,
      source: e.source,
      origin: e.origin,
      beforeHash: e.hash,
      before: specs.get(id),
      fields: [],
      triggerChanged: false,
    })),
    unchanged: 0,
    held: [],
    errors: [],
    sources: [],
  };
}

/** Where an operator removes an id that a source owns (for refusals that say so). */
export function whereToRemove(source: string, origin: string): string {
  if (source === 'files') return `remove it from ${origin} in the schedules directory`;
  return `remove it in the ${source} source (${origin}), or run "pyrq prune --source ${source}" if that source is no longer used`;
}
