/**
 * The socket source: schedules pushed over the control socket (`upsert`). They are
 * persisted in Redis (`pyrq:source:socket`, id -> the schedule as pushed), so they
 * survive daemon restarts and every daemon sees the same set. The raw form is kept,
 * not the normalised one, so config defaults (timezone, catch-up) apply on every read,
 * exactly as for files.
 */
import type { Redis } from 'ioredis';
import { canonicalStringify, parseJson } from '../../src/canonical-json.js';
import type { FieldIssue } from '../../src/model/issues.js';
import { type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { Keys } from '../../src/redis/keys.js';
import type { DesiredSchedule, Source, SourceError, SourceSnapshot } from '../../src/source.js';

export const SOCKET_SOURCE = 'socket';
/** Origin recorded for pushed schedules. */
export const SOCKET_ORIGIN = 'socket';

export type UpsertResult =
  { ok: true; schedule: Schedule; hash: string } | { ok: false; issues: FieldIssue[]; id?: string };

export class SocketSource implements Source {
  readonly name = SOCKET_SOURCE;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly ctx: NormalizeContext,
  ) {}

  async snapshot(): Promise<SourceSnapshot> {
    // `changed: []`: pushed schedules change only through the control socket, whose
    // handlers name the ids they change when they ask for a reconcile (its scope); a
    // deep re-sync covers anything else (the store edited by hand).
    const snap: SourceSnapshot = {
      source: this.name,
      schedules: [],
      errors: [],
      stale: false,
      heldOrigins: [],
      heldIds: [],
      changed: [],
    };
    let stored: Record<string, string>;
    try {
      stored = await this.redis.hgetall(this.keys.socketStore);
    } catch (e) {
      snap.stale = true;
      snap.errors.push({
        source: this.name,
        message: `cannot read pushed schedules from Redis: ${(e as Error).message}`,
      });
      return snap;
    }
    for (const [id, json] of Object.entries(stored)) {
      const r = this.check(json);
      if (r.ok)
        snap.schedules.push({ spec: r.schedule, hash: r.hash, origin: SOCKET_ORIGIN } satisfies DesiredSchedule);
      else {
        // Valid when pushed; invalid now only if the config changed (e.g. an allowlist).
        snap.heldIds.push(id);
        for (const i of r.issues)
          snap.errors.push({
            source: this.name,
            origin: SOCKET_ORIGIN,
            id,
            path: i.path || undefined,
            message: i.message,
          } satisfies SourceError);
      }
    }
    return snap;
  }

  private check(json: string): UpsertResult {
    let raw: unknown;
    try {
      raw = parseJson(json);
    } catch (e) {
      return { ok: false, issues: [{ path: '', message: `stored schedule is not JSON: ${(e as Error).message}` }] };
    }
    return this.validate(raw);
  }

  validate(raw: unknown): UpsertResult {
    const r = normalizeSchedule(raw, this.ctx);
    return r.ok
      ? { ok: true, schedule: r.schedule, hash: specHash(r.schedule) }
      : { ok: false, issues: r.issues, id: r.id };
  }

  /** Validates and stores a pushed schedule. Nothing is stored when it is invalid. */
  async upsert(raw: unknown): Promise<UpsertResult> {
    const r = this.validate(raw);
    if (r.ok) await this.redis.hset(this.keys.socketStore, r.schedule.id, canonicalStringify(raw));
    return r;
  }

  /** Removes a pushed schedule; false when it was not pushed (then nothing changes). */
  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.socketStore, id)) === 1;
  }

  async has(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.socketStore, id)) === 1;
  }

  async close(): Promise<void> {}
}
