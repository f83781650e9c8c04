/**
 * The status as Redis alone knows it (no daemon answering): schedules, the source
 * health the daemon or `pyrq apply` last recorded, the last reconcile and the current lease holder.
 */
import type { Redis } from 'ioredis';
import type { Registry } from '../registry/registry.js';
import { type StatusRow, statusRow } from './status-view.js';

export interface StatusReport {
  via: 'daemon' | 'redis';
  daemon?: Record<string, unknown>;
  leader: string | null;
  /** `by`: who recorded it when not the daemon (`pyrq apply`). */
  sources: { source: string; stale: boolean; schedules: number; held: number; errors: string[]; at: number; by?: string }[];
  lastReconcile: Record<string, unknown> | null;
  schedules: StatusRow[];
}

export async function statusFromRedis(redis: Redis, registry: Registry, now: number, ids?: readonly string[]): Promise<StatusReport> {
  const k = registry.keys;
  const [entries, leader, health, last] = await Promise.all([registry.readEntries(ids), redis.get(k.leader), redis.hgetall(k.sourceHealth), redis.hget(k.daemon, 'lastReconcile')]);
  return {
    via: 'redis',
    leader,
    sources: Object.values(health).map((v) => JSON.parse(v)),
    lastReconcile: last ? JSON.parse(last) : null,
    schedules: entries.map((e) => statusRow(e, now)),
  };
}
