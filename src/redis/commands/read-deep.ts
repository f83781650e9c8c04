/**
 * The typed wrapper of `read-deep.lua`: one call reads, for a slice of entries, what the
 * registry's deep read checks (the schedule HASH's spec, hash, owner and `done`, and the
 * next fire time), instead of an HMGET and a ZSCORE per entry.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';
import { ensureScript, runScript } from '../scripts.js';

/** What the deep read sees of one entry; null where absent. */
export interface DeepFields {
  spec: string | null;
  hash: string | null;
  source: string | null;
  origin: string | null;
  done: string | null;
  /** The score in the next ZSET (ms, as Redis prints it). */
  score: string | null;
}

const PER_ENTRY = 6;

/** Makes sure Redis knows the script, so that the calls sent in a row find it. */
export function loadReadDeep(redis: Redis): Promise<void> {
  return ensureScript(redis, 'read-deep');
}

/** Reads the deep-check fields of `ids`, in order. */
export async function readDeepFields(redis: Redis, keys: Keys, ids: readonly string[]): Promise<DeepFields[]> {
  if (ids.length === 0) return [];
  const k = [keys.next];
  for (const id of ids) k.push(keys.schedule(id));
  const flat = (await runScript<(string | null)[]>(redis, 'read-deep', k, ids)) ?? [];
  const out: DeepFields[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const b = i * PER_ENTRY;
    out[i] = {
      spec: flat[b] ?? null,
      hash: flat[b + 1] ?? null,
      source: flat[b + 2] ?? null,
      origin: flat[b + 3] ?? null,
      done: flat[b + 4] ?? null,
      score: flat[b + 5] ?? null,
    };
  }
  return out;
}
