/**
 * Durable pushes and pauses. Redis is the shared truth while it is up; every daemon
 * (leader and standbys, on any host) mirrors the two things no source can give back,
 * the socket source's store and the pause overrides, into its state file
 * (src/state/state-file.ts) whenever they change. A marker key (`Keys.stateMarker`) is
 * set once per Redis data set; when a daemon finds it missing (Redis restarted empty or
 * was flushed, noticed on reconnect or within a second by a poll) it restores its file
 * into Redis in one script that also sets the marker, so the first daemon to notice
 * restores and the others find the marker and only mirror again. Then the pushed
 * schedules are reconciled back into the registry and the dispatchers re-read pauses.
 */
import { renameSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from '../src/log.js';
import type { Keys } from '../src/redis/keys.js';
import { restoreState } from '../src/redis/commands/restore-state.js';
import { STATE_FORMAT, type SavedState, readStateFile, writeStateFile } from '../src/state/state-file.js';

/** How often the marker is checked (and a change mirrored): the bound on noticing a flush without a reconnect. */
export const STATE_CHECK_MS = 1000;
/** A full comparison of Redis with the file at least this often, even without an event. */
const FULL_CHECK_MS = 30_000;

export interface StateMirrorDeps {
  redis: Redis;
  /** A connection of its own for the events channel (a subscribed connection can do nothing else). */
  sub: Redis;
  keys: Keys;
  file: string;
  /** Redis as logs name it, and the prefix: recorded in the file. */
  redisName: string;
  prefix: string;
  /** Who restores (the marker's value names it). */
  holderId(): string;
  /** After a restore that brought something back: reconcile the socket source, wake the dispatchers. */
  afterRestore(restored: { pushed: number; paused: number }): Promise<void>;
  logger: Logger;
}

/** An HGETALL reply inside MULTI: ioredis gives an object, a flat array without its transformer. */
function hashOf(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return (reply ?? {}) as Record<string, string>;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/** Field -> value with the fields sorted, so that equal hashes compare equal as text. */
function sorted(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class StateMirror {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private again = false;
  private dirty = true;
  private lastFull = 0;
  /** The content last written to (or read from) the file: `{socket, paused}` as JSON. */
  private saved?: string;
  private lastProblem?: string;
  private stopped = false;

  constructor(private readonly d: StateMirrorDeps) {}

  async start(): Promise<void> {
    const onFile = readStateFile(this.d.file);
    if (typeof onFile === 'object') this.saved = JSON.stringify({ socket: onFile.socket, paused: onFile.paused });
    this.d.sub.on('message', (channel: string) => {
      if (channel !== this.d.keys.events) return;
      this.dirty = true;
      void this.check();
    });
    this.d.redis.on('ready', () => void this.check());
    this.timer = setInterval(() => void this.check(), STATE_CHECK_MS);
    this.timer.unref();
    void this.d.sub.subscribe(this.d.keys.events).catch(() => {});
    await this.check();
  }

  /** One round: restore when the marker is missing, else mirror a change. Never two at once. */
  async check(): Promise<void> {
    if (this.stopped || this.d.redis.status !== 'ready') return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.round();
      } while (this.again && !this.stopped);
      this.lastProblem = undefined;
    } catch (err) {
      const text = (err as Error).message;
      // Once per distinct problem (Redis down is logged by the connection already).
      if (text !== this.lastProblem && this.d.redis.status === 'ready')
        this.d.logger.warn({ err, file: this.d.file }, `could not mirror pushed schedules and pauses: ${text}`);
      this.lastProblem = text;
    } finally {
      this.busy = false;
    }
  }

  private async round(): Promise<void> {
    const { redis, keys } = this.d;
    const full = this.dirty || Date.now() - this.lastFull >= FULL_CHECK_MS;
    if (!full) {
      if ((await redis.exists(keys.stateMarker)) === 0) await this.restore();
      return;
    }
    this.dirty = false;
    const res =
      (await redis.multi().exists(keys.stateMarker).hgetall(keys.socketStore).hgetall(keys.paused).exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const [marker, socket, paused] = [res[0]?.[1], hashOf(res[1]?.[1]), hashOf(res[2]?.[1])];
    if (marker === 0) {
      // Never mirror a Redis that lost everything over the file that still has it.
      await this.restore();
      return;
    }
    this.lastFull = Date.now();
    const content = JSON.stringify({ socket: sorted(socket), paused: sorted(paused) });
    if (content === this.saved) return;
    const state: SavedState = {
      format: STATE_FORMAT,
      savedAt: Date.now(),
      redis: this.d.redisName,
      prefix: this.d.prefix,
      ...(JSON.parse(content) as Pick<SavedState, 'socket' | 'paused'>),
    };
    writeStateFile(this.d.file, state);
    this.saved = content;
  }

  /** The marker is missing: restore the file (the script does nothing if another daemon was first). */
  private async restore(): Promise<void> {
    let onFile = readStateFile(this.d.file);
    if (typeof onFile === 'string') {
      // Kept aside for a person to look at; the mirror then writes a fresh file.
      const aside = `${this.d.file}.unreadable-${Date.now()}`;
      renameSync(this.d.file, aside);
      this.d.logger.error(
        { file: this.d.file, aside },
        `state file unreadable (${onFile}): moved aside, nothing restored`,
      );
      onFile = undefined;
    }
    const marker = JSON.stringify({ by: this.d.holderId(), at: new Date().toISOString(), savedAt: onFile?.savedAt });
    const r = await restoreState(this.d.redis, this.d.keys, {
      marker,
      socket: onFile?.socket ?? {},
      paused: onFile?.paused ?? {},
    });
    this.dirty = true;
    this.again = true;
    if (r === null || r.pushed + r.paused === 0) return;
    this.d.logger.warn(
      {
        file: this.d.file,
        pushed: r.pushed,
        paused: r.paused,
        savedAt: onFile ? new Date(onFile.savedAt).toISOString() : undefined,
      },
      `Redis had lost ${r.pushed} pushed schedule(s) and ${r.paused} pause(s) (restarted empty?): restored from the state file`,
    );
    await this.d.afterRestore(r);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.d.sub.disconnect();
  }
}
