/**
 * The owner's side of "one writer per source": the leading daemon listens for write
 * notices (src/registry/write-notice.ts) and, when another process wrote entries of a
 * source this daemon reconciles, re-reconciles that source at once, so the daemon's own
 * desired state is back within about a second and a foreign write never silently stands.
 * A write that changed nothing the daemon disagrees with (a standby daemon serving a push,
 * a one-shot apply with the same configuration) repairs nothing and is logged at debug;
 * one the daemon had to undo is a warning naming the writer and what was put back.
 *
 * What it cannot see: a write outside pyrq (redis-cli). The periodic deep re-sync
 * (`daemon.resyncInterval`) repairs those, as before.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../src/log.js';
import { FencedError } from '../src/redis/commands/fence.js';
import type { Keys } from '../src/redis/keys.js';
import { THIS_WRITER, type WriteNotice, parseWriteNotice } from '../src/registry/write-notice.js';
import type { ReconcileResult } from './reconcile-once.js';

export interface ForeignWritesDeps {
  /** A connection of its own: a subscribed connection can do nothing else. */
  sub: Redis;
  keys: Keys;
  /** The sources this daemon reconciles now, while it leads; [] on a standby. */
  owned(): readonly string[];
  /** Re-reconciles these sources (the reconcile loop). */
  repair(sources: readonly string[], reason: string): Promise<ReconcileResult>;
  logger: Logger;
}

export class ForeignWrites {
  constructor(private readonly d: ForeignWritesDeps) {}

  async start(): Promise<void> {
    this.d.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.d.keys.writes) return;
      const notice = parseWriteNotice(message);
      if (notice) void this.onNotice(notice);
    });
    await this.d.sub.subscribe(this.d.keys.writes);
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
    try {
      const r = await this.d.repair(sources, `repair after a write by ${who}`);
      const a = r.applied;
      const repaired = a ? a.created.length + a.updated.length + a.deleted.length : 0;
      if (repaired === 0) return;
      this.d.logger.warn(
        {
          writer: n.writer,
          by: n.by,
          sources,
          written: n.ids,
          writtenCount: n.count,
          restored: {
            created: a!.created.slice(0, 20),
            updated: a!.updated.slice(0, 20),
            deleted: a!.deleted.slice(0, 20),
          },
        },
        `${who} wrote ${n.count} entr${n.count === 1 ? 'y' : 'ies'} of source(s) ${sources.join(', ')} that this daemon owns (${n.ids.slice(0, 5).join(', ')}${n.count > 5 ? ', ...' : ''}): restored this daemon's own (${a!.created.length} created, ${a!.updated.length} updated, ${a!.deleted.length} deleted)`,
      );
    } catch (err) {
      // Fenced: this daemon lost the lease meanwhile (the lease says so once); the new leader repairs.
      if (err instanceof FencedError) return;
      // The loop logged the failure and retries; the deep re-sync is the backstop.
      this.d.logger.warn({ err, writer: n.writer, sources }, `could not re-reconcile after a write by ${who}`);
    }
  }

  async stop(): Promise<void> {
    this.d.sub.disconnect();
  }
}
