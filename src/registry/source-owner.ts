/**
 * One writer per source: the daemon that leads records which sources it reconciles and
 * where each reads (`Keys.daemon`, field `owner`). A one-shot `apply`, `tick` or `prune`
 * reads the record before writing; while that daemon's lease is live, a write that would
 * change one of its sources from another place (another directory, database or table) is
 * refused (exit 3) unless forced. The decision is pure; reading and recording are the
 * two small functions at the end.
 */
import type { Redis } from 'ioredis';
import type { Plan } from '../plan/types.js';
import type { Keys } from '../redis/keys.js';

/** A source as its owner reads it. `place` is what "the same configuration" compares. */
export interface OwnedSource {
  name: string;
  /** Where it reads, as logs name it: a directory, `mysql://user@host/db (btu)`. */
  location: string;
  place: string;
}

/** The leading daemon and its sources. */
export interface SourceOwner {
  holderId: string;
  host: string;
  pid: number;
  sources: OwnedSource[];
}

/**
 * What makes two readers of a source the same: its location; for files also the host (a
 * directory is one machine's, another host's /etc/pyrq/schedules is other files).
 */
export function ownedSource(name: string, location: string | undefined, host: string, hostLocal: boolean): OwnedSource {
  const loc = location ?? '';
  return { name, location: loc, place: hostLocal ? `${host}:${loc}` : loc };
}

/** The owner's sources that `mine` reads from another place (same name, other place). */
export function sourcesReadElsewhere(owner: SourceOwner, mine: readonly OwnedSource[]): OwnedSource[] {
  return owner.sources.filter((o) => mine.some((m) => m.name === o.name && m.place !== o.place));
}

/** The changes of `plan` that touch entries of these sources (as owner, or moved from). */
export function changesOf(plan: Plan, names: ReadonlySet<string>): Plan['changes'] {
  return plan.changes.filter((c) => names.has(c.source) || (c.fromSource !== undefined && names.has(c.fromSource)));
}

/** The daemon as refusals name it. */
export function ownerText(owner: SourceOwner): string {
  return `the pyrq daemon on ${owner.host} (pid ${owner.pid})`;
}

/**
 * The refusal of a one-shot write to sources a live daemon owns: who owns them, where
 * the daemon reads and where this command reads, what would change, and the two ways on.
 */
export function refusalText(
  command: string,
  owner: SourceOwner,
  conflicts: readonly OwnedSource[],
  mine: readonly OwnedSource[],
  changes: Plan['changes'],
): string {
  const lines = conflicts.map((o) => {
    const here = mine.find((m) => m.name === o.name);
    return `source "${o.name}" is owned by ${ownerText(owner)}, which reads ${o.location}; this ${command} reads ${here?.location ?? 'elsewhere'}`;
  });
  const shown = changes
    .slice(0, 5)
    .map((c) => `${c.action} ${c.id}`)
    .join(', ');
  const more = changes.length > 5 ? `, and ${changes.length - 5} more` : '';
  return `${lines.join('\n')}\nit would ${shown}${more}: refused, nothing written. Change the daemon's configuration instead (and reload it: SIGHUP), or pass --force (the daemon then restores its own schedules within a second).`;
}

/** The refusal of `pyrq prune` of a source a live daemon reconciles. */
export function pruneRefusalText(owner: SourceOwner, source: OwnedSource, count: number): string {
  return `source "${source.name}" is owned by ${ownerText(owner)}, which reads ${source.location}: pruning its ${count} schedule(s) would only last until its next reconcile. Remove the source from the daemon's configuration first (and reload it), or pass --force.`;
}

/** The recorded owner, when its lease is live (its holder id is the lease's value); else null. */
export async function readLiveOwner(redis: Redis, keys: Keys): Promise<SourceOwner | null> {
  const [raw, holder] = await Promise.all([redis.hget(keys.daemon, 'owner'), redis.get(keys.leader)]);
  if (typeof raw !== 'string' || holder === null) return null;
  try {
    const owner = JSON.parse(raw) as SourceOwner;
    return owner.holderId === holder && Array.isArray(owner.sources) ? owner : null;
  } catch {
    return null;
  }
}

/** Records this daemon as the owner of its sources (the leader, at each leadership and reload). */
export async function recordOwner(redis: Redis, keys: Keys, owner: SourceOwner): Promise<void> {
  await redis.hset(keys.daemon, 'owner', JSON.stringify(owner));
}
