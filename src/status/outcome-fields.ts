/**
 * Reads the outcome fields of many schedules' HASHes (what the failing and overdue counts
 * need, src/status/schedule-health.ts), one pipelined HMGET each, without their specs:
 * the metrics count 100,000 schedules this way in a few hundred kilobytes.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { OutcomeFields } from './schedule-health.js';

const FIELDS = ['consecutiveFailures', 'lastSuccessAt', 'firstRunAt', 'done'] as const;
const CHUNK = 5000;

/** Each id's stored `consecutiveFailures`, `lastSuccessAt`, `firstRunAt` and `done` (absent fields left out). */
export async function readOutcomeFields(
  redis: Redis,
  keys: Keys,
  ids: readonly string[],
): Promise<Map<string, OutcomeFields & { done?: string }>> {
  const out = new Map<string, OutcomeFields & { done?: string }>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const batch = ids.slice(i, i + CHUNK);
    const p = redis.pipeline();
    for (const id of batch) p.hmget(keys.schedule(id), ...FIELDS);
    const res = (await p.exec()) ?? [];
    batch.forEach((id, j) => {
      const [err, v] = res[j] ?? [];
      if (err) throw err;
      const f: Record<string, string> = {};
      (v as (string | null)[]).forEach((x, k) => {
        if (x !== null) f[FIELDS[k]!] = x;
      });
      out.set(id, f);
    });
  }
  return out;
}
