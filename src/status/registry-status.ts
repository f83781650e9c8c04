/**
 * The status as Redis alone knows it (no daemon answering): schedules, the source
 * health the daemon or `pyrq apply` last recorded, the last reconcile and the current lease holder.
 */
import type { Redis } from 'ioredis';
import { readLeaseHolder } from '../redis/commands/lease.js';
import type { Registry } from '../registry/registry.js';
import type { SourceStatus } from '../registry/registry-port.js';
import { type DaemonClockRow, daemonClocks } from './daemon-clocks.js';
import { type StatusRow, statusRow } from './status-view.js';

export interface StatusReport {
  via: 'daemon' | 'redis';
  daemon?: Record<string, unknown>;
  leader: string | null;
  /** `by`: who recorded it when not the daemon (`pyrq apply`). */
  sources: SourceStatus[];
  lastReconcile: Record<string, unknown> | null;
  /** Each daemon's clock offset from Redis, as it last recorded it. */
  clocks: DaemonClockRow[];
  schedules: StatusRow[];
}

export async function statusFromRedis(redis: Redis, registry: Registry, now: number, ids?: readonly string[]): Promise<StatusReport> {
  const [entries, leader, sources, facts] = await Promise.all([registry.readEntries(ids), readLeaseHolder(redis, registry.keys.leader), registry.readSourceStatus(), registry.readDaemonFacts()]);
  return {
    via: 'redis',
    leader,
    sources,
    lastReconcile: facts.lastReconcile ? { ...facts.lastReconcile } : null,
    clocks: daemonClocks(facts),
    schedules: entries.map((e) => statusRow(e, now)),
  };
}
