/**
 * The status as Redis alone knows it (no daemon answering): schedules, the source
 * health the daemon or `pyrq apply` last recorded, the last reconcile and the current lease holder.
 */
import type { Redis } from 'ioredis';
import { readLeaseHolder } from '../redis/commands/lease.js';
import { readPauses } from '../registry/pauses.js';
import type { Registry } from '../registry/registry.js';
import type { ReconcileSummary, SourceStatus } from '../registry/registry-port.js';
import { type DaemonClockRow, daemonClocks } from './daemon-clocks.js';
import { type OrphanSource, orphansOf } from './orphans.js';
import { type StatusRow, statusRow } from './status-view.js';

export interface StatusReport {
  via: 'daemon' | 'redis';
  daemon?: Record<string, unknown>;
  leader: string | null;
  /** `by`: who recorded it when not the daemon (`pyrq apply`). */
  sources: SourceStatus[];
  /** One shape from either path (`reconcile-summary.ts`). */
  lastReconcile: ReconcileSummary | null;
  /** Daemon only: its last failed reconcile, while no run has succeeded since. */
  lastError?: { at: number; message: string } | null;
  /** Redis path: the socket where no daemon answered (absent with --no-daemon). */
  asked?: string;
  /** Each daemon's clock offset from Redis, as it last recorded it. */
  clocks: DaemonClockRow[];
  schedules: StatusRow[];
  /** Sources that own entries but are not configured in the daemon (they keep firing). */
  orphans?: OrphanSource[];
}

export async function statusFromRedis(
  redis: Redis,
  registry: Registry,
  now: number,
  ids?: readonly string[],
): Promise<StatusReport> {
  const [entries, leader, sources, facts, pauses] = await Promise.all([
    registry.readEntries(ids),
    readLeaseHolder(redis, registry.keys.leader),
    registry.readSourceStatus(),
    registry.readDaemonFacts(),
    readPauses(redis, registry.keys),
  ]);
  return {
    via: 'redis',
    leader,
    sources: [...sources].sort((a, b) => a.source.localeCompare(b.source)),
    lastReconcile: facts.lastReconcile ?? null,
    clocks: daemonClocks(facts),
    schedules: entries.map((e) => statusRow(e, now, pauses.get(e.id))),
    // Against the sources of the daemon that last started (else those recorded as reconciled).
    orphans: ids
      ? []
      : orphansOf(new Map(entries.map((e) => [e.id, e])), facts.sources ?? sources.map((s) => s.source)),
  };
}
