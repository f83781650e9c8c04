/**
 * The owner's side of "one writer per source": the leading daemon listens for write
 * notices (src/registry/write-notice.ts) and, when another process wrote entries of a
 * source this daemon reconciles, re-reconciles that source at once, so the daemon's own
 * desired state is back within about a second and a foreign write never silently stands.
 * A write that changed nothing the daemon disagrees with (a standby daemon serving a push,
 * a one-shot apply with the same configuration) repairs nothing and is logged at debug;
 * one the daemon had to undo is a warning naming the writer and what was put back.
 *
 * A write outside pyrq (redis-cli) announces nothing. When the server publishes
 * keyspace notifications for hashes (`notify-keyspace-events` with K and h, or A: off by
 * default, and pyrq never turns them on), a change of the index that no write notice
 * accounts for (none within `UNANNOUNCED_AFTER_MS`, and no reconcile of this daemon in
 * flight) is taken as such a write and repaired the same way. Otherwise the periodic deep
 * re-sync (`daemon.resyncInterval`) repairs it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../src/log.js';
import { FencedError } from '../src/redis/commands/fence.js';
import { type Keys, keyspaceChannel } from '../src/redis/keys.js';
import { THIS_WRITER, type WriteNotice, parseWriteNotice } from '../src/registry/write-notice.js';
import type { ReconcileResult } from './reconcile-once.js';

/** How long after an index change a write notice may come (a notice follows the last batch of an apply). */
export const UNANNOUNCED_AFTER_MS = 300;

export interface ForeignWritesDeps {
  /** A connection of its own: a subscribed connection can do nothing else. */
  sub: Redis;
  /** The main connection: asks whether the server publishes keyspace notifications. */
  redis: Redis;
  /** True while a reconcile of this daemon runs (its own writes come without a notice until it ends). */
  busy(): boolean;
  keys: Keys;
  /** The sources this daemon reconciles now, while it leads; [] on a standby. */
  owned(): readonly string[];
  /** Re-reconciles these sources (the reconcile loop). */
  repair(sources: readonly string[], reason: string): Promise<ReconcileResult>;
  logger: Logger;
}

export class ForeignWrites {
  /** When the last write notice came (any writer, this daemon included). */
  private lastNoticeAt = 0;
  /** The first index change not yet accounted for, and the timer that judges it. */
  private changedAt = 0;
  private judge?: NodeJS.Timeout;
  private indexChannel?: string;

  constructor(private readonly d: ForeignWritesDeps) {}

  async start(): Promise<void> {
    this.d.sub.on('message', (channel: string, message: string) => {
      if (channel === this.indexChannel) return this.onIndexChanged(message);
      if (channel !== this.d.keys.writes) return;
      this.lastNoticeAt = Date.now();
      const notice = parseWriteNotice(message);
      if (notice) void this.onNotice(notice);
    });
    await this.d.sub.subscribe(this.d.keys.writes);
    await this.watchIndex();
  }

  /** Subscribes to the index's keyspace notifications when the server publishes them (never turns them on). */
  private async watchIndex(): Promise<void> {
    let flags: string;
    try {
      const reply = (await this.d.redis.config('GET', 'notify-keyspace-events')) as string[];
      flags = reply[1] ?? '';
    } catch {
      return; // CONFIG refused (ACL, a managed Redis): announced writes only
    }
    if (!flags.includes('K') || !(flags.includes('h') || flags.includes('A'))) return;
    this.indexChannel = keyspaceChannel(this.d.redis.options.db ?? 0, this.d.keys.index);
    await this.d.sub.subscribe(this.indexChannel);
    this.d.logger.debug({ channel: this.indexChannel }, 'watching the index for writes outside pyrq');
  }

  private onIndexChanged(event: string): void {
    if (this.d.owned().length === 0) return;
    if (this.changedAt === 0) this.changedAt = Date.now();
    this.judge ??= setTimeout(() => this.judgeChange(event), UNANNOUNCED_AFTER_MS);
  }

  /** A change with no notice after it, and no reconcile of ours running: written outside pyrq. */
  private judgeChange(event: string): void {
    this.judge = undefined;
    if (this.d.busy()) {
      this.judge = setTimeout(() => this.judgeChange(event), UNANNOUNCED_AFTER_MS);
      return;
    }
    const announced = this.lastNoticeAt >= this.changedAt;
    this.changedAt = 0;
    if (announced) return;
    const sources = [...this.d.owned()];
    if (sources.length === 0) return;
    void this.repair(
      sources,
      'a client outside pyrq',
      `changed the registry index (${event}) of source(s) ${sources.join(', ')} that this daemon owns`,
      { event },
    );
  }

  private async onNotice(n: WriteNotice): Promise<void> {
    if (n.writer === THIS_WRITER) return;
    const owned = new Set(this.d.owned());
    const sources = n.sources.filter((s) => owned.has(s));
    if (sources.length === 0) return;
    const who = `${n.by} (${n.writer})`;
    this.d.logger.debug(
      { writer: n.writer, by: n.by, sources, ids: n.ids },
      `entries written by ${who}: re-reconciling`,
    );
    const what = `wrote ${n.count} entr${n.count === 1 ? 'y' : 'ies'} of source(s) ${sources.join(', ')} that this daemon owns (${n.ids.slice(0, 5).join(', ')}${n.count > 5 ? ', ...' : ''})`;
    await this.repair(sources, who, what, { writer: n.writer, by: n.by, written: n.ids, writtenCount: n.count });
  }

  /** Re-reconciles `sources`; warns, naming `who`, what it did and what was put back, when something was. */
  private async repair(sources: string[], who: string, what: string, fields: Record<string, unknown>): Promise<void> {
    try {
      const r = await this.d.repair(sources, `repair after a write by ${who}`);
      const a = r.applied;
      if (!a || a.created.length + a.updated.length + a.deleted.length === 0) return;
      this.d.logger.warn(
        {
          ...fields,
          sources,
          restored: {
            created: a.created.slice(0, 20),
            updated: a.updated.slice(0, 20),
            deleted: a.deleted.slice(0, 20),
          },
        },
        `${who} ${what}: restored this daemon's own (${a.created.length} created, ${a.updated.length} updated, ${a.deleted.length} deleted)`,
      );
    } catch (err) {
      // Fenced: this daemon lost the lease meanwhile (the lease says so once); the new leader repairs.
      if (err instanceof FencedError) return;
      // The loop logged the failure and retries; the deep re-sync is the backstop.
      this.d.logger.warn({ err, sources }, `could not re-reconcile after a write by ${who}`);
    }
  }

  async stop(): Promise<void> {
    if (this.judge) clearTimeout(this.judge);
    this.d.sub.disconnect();
  }
}
