/**
 * Source health as `pyrq status` reads it from Redis (`pyrq:sources`) when no daemon
 * answers. The daemon records it after every reconcile; `pyrq apply` records it too, so
 * what a one-shot apply refused (a function outside the allowlist, a broken file, an
 * unreadable database) is still shown by `status` after the command has exited.
 */
import type { Plan } from '../src/plan/types.js';
import type { Registry } from '../src/registry/registry.js';
import { formatSourceError } from '../src/source.js';

/** One source's health, as stored in `pyrq:sources` (field = source name, value = this as JSON). */
export interface RecordedHealth {
  source: string;
  stale: boolean;
  schedules: number;
  held: number;
  /** Formatted error lines, at most 50 (redacted by the sources that produced them). */
  errors: string[];
  /** When it was recorded (epoch ms). */
  at: number;
  /** Who recorded it when not the daemon, e.g. "pyrq apply". */
  by?: string;
}

export function healthFromPlan(plan: Plan, at: number, by?: string): RecordedHealth[] {
  return plan.sources.map((s) => ({
    source: s.source,
    stale: s.stale,
    schedules: s.schedules,
    held: s.held,
    errors: plan.errors.filter((e) => e.source === s.source).slice(0, 50).map(formatSourceError),
    at,
    ...(by !== undefined ? { by } : {}),
  }));
}

/** Replaces the recorded health of these sources (others keep theirs). */
export async function recordHealth(registry: Registry, health: readonly RecordedHealth[]): Promise<void> {
  if (health.length === 0) return;
  await registry.redis.hset(registry.keys.sourceHealth, ...health.flatMap((h) => [h.source, JSON.stringify(h)]));
}
