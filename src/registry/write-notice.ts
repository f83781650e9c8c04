/**
 * The write notice: after a registry write, the writer says on `Keys.writes` which
 * sources' entries it changed and who it is. The daemon that owns a source (the leader)
 * subscribes and tells its own writes from anyone else's, so a one-shot `pyrq apply
 * --force` (or a second daemon with another configuration) never silently stands: the
 * owner re-reconciles the source (reconcilers/foreign-writes.ts). Pure but for `publish`.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Change } from '../plan/types.js';
import type { Keys } from '../redis/keys.js';
import { appliedChanges } from './plan-writes.js';
import type { ApplyResult } from './registry-port.js';

/** This process as a writer: `host:pid`. The daemon compares notices with its own. */
export const THIS_WRITER = `${hostname()}:${process.pid}`;

/** Ids named in one notice, at most (the count says how many there were). */
const IDS_NAMED = 20;

export interface WriteNotice {
  /** `host:pid` of the writing process. */
  writer: string;
  /** What the writer is (`pyrq apply`, `pyrq daemon`): for log lines. */
  by: string;
  /** Every source whose entries were written (a move names both). */
  sources: string[];
  /** The first ids written, and how many there were. */
  ids: string[];
  count: number;
}

/** The notice of the changes of `changes` that `applied` says were written; null when none was. */
export function writeNoticeOf(changes: readonly Change[], applied: ApplyResult, by: string): WriteNotice | null {
  const done = appliedChanges(changes, applied);
  if (done.length === 0) return null;
  const sources = new Set<string>();
  const ids: string[] = [];
  for (const c of done) {
    sources.add(c.source);
    if (c.fromSource !== undefined) sources.add(c.fromSource);
    if (ids.length < IDS_NAMED) ids.push(c.id);
  }
  return { writer: THIS_WRITER, by, sources: [...sources].sort(), ids, count: done.length };
}

/** A notice from the channel, or null when the message is not one (another version, garbage). */
export function parseWriteNotice(message: string): WriteNotice | null {
  try {
    const n = JSON.parse(message) as Partial<WriteNotice>;
    if (typeof n.writer !== 'string' || !Array.isArray(n.sources) || !n.sources.every((s) => typeof s === 'string'))
      return null;
    return {
      writer: n.writer,
      by: typeof n.by === 'string' ? n.by : 'unknown',
      sources: n.sources,
      ids: Array.isArray(n.ids) ? n.ids.filter((i): i is string => typeof i === 'string') : [],
      count: typeof n.count === 'number' ? n.count : 0,
    };
  } catch {
    return null;
  }
}

/** Publishes a notice (best effort: the write itself has succeeded; the deep re-sync is the backstop). */
export async function publishWriteNotice(redis: Redis, keys: Keys, notice: WriteNotice): Promise<void> {
  await redis.publish(keys.writes, JSON.stringify(notice)).catch(() => 0);
}

/** What this process is, for notices: `pyrq apply`, `pyrq daemon`, ... */
export function writerRole(): string {
  const cmd = process.argv[2];
  return cmd && /^[a-z:-]{1,20}$/.test(cmd) ? `pyrq ${cmd}` : 'pyrq';
}
