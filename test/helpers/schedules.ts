import type { Redis } from 'ioredis';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config/config.js';
import { DEFAULT_CONTEXT, type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { Registry } from '../../src/registry/registry.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';

/** A normalised schedule for tests; throws on invalid input so a typo fails the test. */
export function makeSpec(fields: Record<string, unknown>, ctx: Partial<NormalizeContext> = {}): Schedule {
  const r = normalizeSchedule({ function: 'pyrq_fixtures.tasks.echo', ...fields }, { ...DEFAULT_CONTEXT, ...ctx });
  if (!r.ok) throw new Error(`invalid test schedule: ${JSON.stringify(r.issues)}`);
  return r.schedule;
}

/** A source whose desired state the test sets directly. */
export class ListSource implements Source {
  constructor(
    readonly name: string,
    public specs: Schedule[] = [],
  ) {}
  async snapshot(): Promise<SourceSnapshot> {
    return {
      source: this.name,
      schedules: this.specs.map((s) => ({ spec: s, hash: specHash(s), origin: 'test' })),
      errors: [],
      stale: false,
      heldOrigins: [],
      heldIds: [],
    };
  }
  async close(): Promise<void> {}
}

/** Applies exactly `specs` (as source "test") to the registry, as `pyrq apply` would at `clock.now()`. */
export async function applySpecs(redis: Redis, specs: Schedule[], clock: Clock, prefix = 'pyrq:'): Promise<void> {
  const registry = new Registry(redis, prefix);
  const r = await reconcileOnce({ sources: [new ListSource('test', specs)], registry, clock });
  if (r.plan.errors.length > 0) throw new Error(`apply failed: ${JSON.stringify(r.plan.errors)}`);
}

/** The settings the dispatcher reads, with test defaults. */
export function dispatchConfig(
  over: { historyLength?: number; batchSize?: number; benchId?: string; site?: string; graceMs?: number } = {},
): Pick<Config, 'dispatch' | 'frappe'> {
  return {
    dispatch: {
      catchup: 'latest',
      overlap: 'allow',
      historyLength: over.historyLength ?? 50,
      batchSize: over.batchSize ?? 500,
      graceMs: over.graceMs ?? 5_000,
    },
    frappe: { benchId: over.benchId, site: over.site, user: 'Administrator' },
  };
}
