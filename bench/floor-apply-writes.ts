/**
 * The floor of a cold apply's writes: what Redis spends writing exactly the registry a
 * cold apply left (the same ids, index values, schedule hashes and next fire times, read
 * back from Redis) with a bare Lua script that only writes, in batches of the apply's
 * size (APPLY_BATCH), all sent at once as pyrq sends them:
 *
 *   per entry   HSET of the index field, one HSET of the schedule hash (every field the
 *               apply wrote), ZADD of the next fire time
 *
 * No compare-and-set (the apply's HMGET of its batch's index fields), no `done` cleared (its HDEL), no
 * fence check, no reply per entry. pyrq's script time / this is what the apply's checks
 * cost beyond the writes it cannot skip.
 */
import type { Redis } from 'ioredis';
import { Keys } from '../src/redis/keys.js';
import { APPLY_BATCH } from '../src/registry/registry.js';

/** KEYS: index HASH, next ZSET, then one schedule HASH per entry. ARGV: per entry id, index value, next ('' none), field count, fields. */
const BARE_APPLY_LUA = `
local a = 1
for i = 3, #KEYS do
  local id, value, nextAt, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  redis.call('HSET', KEYS[1], id, value)
  redis.call('HSET', KEYS[i], unpack(ARGV, a + 4, a + 3 + n))
  if nextAt ~= '' then redis.call('ZADD', KEYS[2], nextAt, id) end
  a = a + 4 + n
end
return #KEYS - 2
`;

interface Entry {
  id: string;
  value: string;
  next: string;
  fields: string[];
}

/** Reads back the registry under `keys` (src/redis/keys.ts). */
async function snapshot(redis: Redis, keys: Keys): Promise<Entry[]> {
  const index = await redis.hgetall(keys.index);
  const nextFlat = await redis.zrange(keys.next, 0, -1, 'WITHSCORES');
  const next = new Map<string, string>();
  for (let i = 0; i < nextFlat.length; i += 2) next.set(nextFlat[i]!, nextFlat[i + 1]!);
  const ids = Object.keys(index);
  const out: Entry[] = [];
  for (let i = 0; i < ids.length; i += 2000) {
    const p = redis.pipeline();
    for (const id of ids.slice(i, i + 2000)) p.hgetall(keys.schedule(id));
    const res = (await p.exec()) ?? [];
    ids.slice(i, i + 2000).forEach((id, j) => {
      const h = res[j]![1] as Record<string, string>;
      out.push({ id, value: index[id]!, next: next.get(id) ?? '', fields: Object.entries(h).flat() });
    });
  }
  return out;
}

/** Script time (commandstats usec of EVALSHA and EVAL), µs. */
async function scriptUsec(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=\d+,usec=(\d+)/gm)) usec += Number(m[2]);
  return usec;
}

/**
 * Rewrites the registry a cold apply left with the bare script, `runs` times (each into
 * an emptied database), and returns Redis's script time of each run, in seconds. Leaves
 * the registry as it found it (the last run's writes are the same entries).
 */
export async function bareApplyWrites(redis: Redis, runs: number, keys = new Keys()): Promise<number[]> {
  const entries = await snapshot(redis, keys);
  const sha = (await redis.script('LOAD', BARE_APPLY_LUA)) as string;
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (const k of [keys.index, keys.next]) await redis.del(k);
    for (let i = 0; i < entries.length; i += 5000)
      await redis.del(...entries.slice(i, i + 5000).map((e) => keys.schedule(e.id)));
    const before = await scriptUsec(redis);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < entries.length; i += APPLY_BATCH) {
      const batch = entries.slice(i, i + APPLY_BATCH);
      const names = [keys.index, keys.next, ...batch.map((e) => keys.schedule(e.id))];
      const argv = batch.flatMap((e) => [e.id, e.value, e.next, String(e.fields.length), ...e.fields]);
      calls.push(redis.evalsha(sha, names.length, ...names, ...argv));
    }
    await Promise.all(calls);
    out.push(((await scriptUsec(redis)) - before) / 1e6);
  }
  return out;
}
