import * as Args from '@oclif/core/args';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { PyrqError } from '../../src/errors.js';
import { removalPlan, whereToRemove } from '../../src/registry/remove-entries.js';
import { SOCKET_SOURCE, SocketSource } from '../../sources/socket/socket-source.js';
import { BaseCommand } from '../base-command.js';
import { exitCodes } from '../help.js';
import { askDaemon } from '../daemon-client.js';
import { redisFlags, socketFlags } from '../flags.js';

interface DeleteResult {
  deleted: string[];
  /** Ids refused or not found, with why. */
  refused: { id: string; reason: string }[];
  via: 'daemon' | 'redis';
}

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete pushed schedules (those of the socket source).';
  static override description = `Removes schedules that were pushed over the socket ("pyrq push", the socket's "upsert"): from the socket source's store and from the registry, with their run history and pause. Asks the running daemon; with none answering, does the same in Redis directly.

An id owned by another source (a file, a database) is refused, naming its owner and where to remove it: the next reconcile would bring it back otherwise. Entries of a source that is no longer configured are removed with "pyrq prune --source NAME".

${exitCodes({ 0: 'every id deleted', 1: 'some id was refused or not found (the others were deleted), or any other error (a setting, Redis)' })}`;

  static override examples = [
    { description: 'Delete two pushed schedules', command: '<%= config.bin %> delete backfill-2026 adhoc-report' },
  ];

  static override strict = false;
  static override args = { ids: Args.string({ description: 'Schedule ids.', required: true }) };
  static override flags = { ...socketFlags, ...redisFlags };

  async run(): Promise<DeleteResult> {
    const cfg = this.loadSettings();
    const { argv } = await this.parse(Delete);
    const ids = [...new Set(argv as string[])];
    const result = (await this.viaDaemon(cfg.daemon.socket, ids)) ?? (await this.viaRedis(ids));
    if (!this.jsonEnabled()) {
      for (const id of result.deleted) this.log(`- ${id} (deleted)`);
      for (const r of result.refused) this.logToStderr(`Error: ${r.id}: ${r.reason}`);
    }
    if (result.refused.length > 0) process.exitCode = 1;
    return result;
  }

  /** Through the daemon's socket; undefined when no daemon answers. */
  private async viaDaemon(socket: string, ids: string[]): Promise<DeleteResult | undefined> {
    const out: DeleteResult = { deleted: [], refused: [], via: 'daemon' };
    for (const id of ids) {
      try {
        const r = (await askDaemon(socket, { op: 'delete', id })) as { deleted: boolean; reason?: string };
        if (r.deleted) out.deleted.push(id);
        else out.refused.push({ id, reason: r.reason ?? 'not deleted' });
      } catch (e) {
        if (e instanceof PyrqError && e.code === 'DAEMON_UNAVAILABLE' && out.deleted.length + out.refused.length === 0)
          return undefined;
        if (e instanceof PyrqError && e.code === 'DAEMON_ERROR') out.refused.push({ id, reason: e.message });
        else throw e;
      }
    }
    return out;
  }

  /** Without a daemon: the socket source's store and the registry, in Redis. */
  private async viaRedis(ids: string[]): Promise<DeleteResult> {
    const cfg = this.loadSettings();
    const registry = await this.openRegistry();
    const out: DeleteResult = { deleted: [], refused: [], via: 'redis' };
    const owners = await registry.readIndexIds(ids);
    const store = new SocketSource(registry.redis, registry.keys, normalizeContext(cfg));
    const mine: string[] = [];
    for (const id of ids) {
      const owner = owners.get(id);
      if (owner && owner.source !== SOCKET_SOURCE) {
        out.refused.push({
          id,
          reason: `owned by source "${owner.source}" (${owner.origin}), not pushed: ${whereToRemove(owner.source, owner.origin)}`,
        });
        continue;
      }
      const pushed = await store.remove(id);
      if (owner) mine.push(id);
      else if (pushed) out.deleted.push(id);
      else out.refused.push({ id, reason: 'no such pushed schedule' });
    }
    if (mine.length > 0) {
      const now = Date.now();
      const applied = await registry.applyPlan(await removalPlan(registry, SOCKET_SOURCE, now, mine), now);
      out.deleted.push(...applied.deleted, ...applied.noop);
      for (const id of applied.conflicts) out.refused.push({ id, reason: 'changed while being deleted; try again' });
    }
    return out;
  }
}
