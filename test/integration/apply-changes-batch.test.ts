/**
 * apply-changes.lua reads a batch's index fields with one HMGET and writes the index,
 * the next set, the deleted keys and the pauses with one variadic command each, in
 * chunks of 1,000 arguments (Lua's unpack is bounded). These batches are larger than a
 * chunk on every one of those paths, and mix every outcome, so a chunk boundary that
 * drops, repeats or misaligns a value shows up as a wrong key, score or reply code.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type EntryOutcome,
  type EntryWrite,
  applyChanges,
  loadApplyChanges,
} from '../../src/redis/commands/apply-changes.js';
import { Keys } from '../../src/redis/keys.js';
import { dumpEveryKey, useRedis } from '../helpers/redis-server.js';

const r = useRedis();
const keys = new Keys();
const NOW = Date.parse('2026-06-01T12:00:00Z');

beforeEach(async () => loadApplyChanges(r.redis));

const id = (p: string, i: number) => `${p}-${String(i).padStart(5, '0')}`;
/** Entry i's next fire time: distinct per entry, so a misaligned ZADD pair is caught. */
const nextOf = (i: number) => NOW + 60_000 + i * 1000;

function put(p: string, i: number, over: Partial<Extract<EntryWrite, { op: 'put' | 'fix' }>> = {}): EntryWrite {
  return {
    op: 'put',
    id: id(p, i),
    expected: '',
    hash: `h${p}${i}`,
    source: 'files',
    origin: `team/${p}.yaml`,
    spec: JSON.stringify({ id: id(p, i), n: i }),
    next: { set: nextOf(i) },
    ...over,
  };
}

const apply = (writes: EntryWrite[]) => applyChanges(r.redis, keys, { now: NOW, publish: false, writes });

describe('apply-changes.lua, batches larger than one variadic chunk', () => {
  it('creates 1,300 entries: every index field, schedule hash and next fire time in place', async () => {
    // Every fifth one never fires again ('remove'): those are left out of the next set.
    const writes = Array.from({ length: 1300 }, (_, i) => put('a', i, i % 5 === 4 ? { next: 'remove' } : {}));
    const out = await apply(writes);
    expect(out).toEqual(writes.map((): EntryOutcome => 'applied'));

    const index = await r.redis.hgetall(keys.index);
    expect(Object.keys(index)).toHaveLength(1300);
    for (let i = 0; i < 1300; i++) expect(index[id('a', i)]).toBe(`ha${i}\tfiles\tteam/a.yaml`);

    const next = await r.redis.zrange(keys.next, 0, -1, 'WITHSCORES');
    const scores = new Map<string, number>();
    for (let i = 0; i < next.length; i += 2) scores.set(next[i]!, Number(next[i + 1]));
    expect(scores.size).toBe(1040);
    for (let i = 0; i < 1300; i++) expect(scores.get(id('a', i))).toBe(i % 5 === 4 ? undefined : nextOf(i));

    for (const i of [0, 999, 1000, 1299])
      expect(await r.redis.hgetall(keys.schedule(id('a', i)))).toEqual({
        spec: JSON.stringify({ id: id('a', i), n: i }),
        hash: `ha${i}`,
        source: 'files',
        origin: 'team/a.yaml',
        createdAt: String(NOW),
        updatedAt: String(NOW),
      });
  });

  it('one batch of 2,601 deletes, creates, an update, a conflict and no-ops: each reply in its place', async () => {
    await apply(Array.from({ length: 1300 }, (_, i) => put('a', i)));
    // Pauses and run lists of some of the entries about to be deleted, and of one that stays.
    for (const i of [0, 700, 1299]) {
      await r.redis.hset(keys.paused, id('a', i), '{"since":1}');
      await r.redis.rpush(keys.runs(id('a', i)), 'run');
    }
    await r.redis.hset(keys.paused, 'kept', '{"since":1}');
    await r.redis.hset(keys.schedule(id('a', 5)), 'done', '1');

    const writes: EntryWrite[] = [
      // Delete a-00000 .. a-01299 except a-00005..a-00007 (handled below).
      ...Array.from({ length: 1300 }, (_, i) => i)
        .filter((i) => i < 5 || i > 7)
        .map((i): EntryWrite => ({ op: 'del', id: id('a', i), expected: `ha${i}` })),
      // An update of a-00005 (new trigger: new next time, `done` cleared).
      put('a', 5, { expected: 'ha5', hash: 'ha5-new', next: { set: NOW + 5_000 } }),
      // A conflict: a-00006 as the plan saw it is not what the index holds.
      { op: 'del', id: id('a', 6), expected: 'stale' },
      // A no-op: a-00007 exactly as it is.
      put('a', 7, { expected: 'ha7' }),
      // Deleting what is not there: a no-op.
      { op: 'del', id: 'gone', expected: 'hgone' },
      // 1,300 creates.
      ...Array.from({ length: 1300 }, (_, i) => put('b', i)),
    ];
    expect(writes).toHaveLength(2601);
    const out = await apply(writes);
    const expected = writes.map((w): EntryOutcome => {
      if (w.id === id('a', 6)) return 'conflict';
      if (w.id === id('a', 7) || w.id === 'gone') return 'noop';
      return 'applied';
    });
    expect(out).toEqual(expected);

    const index = await r.redis.hgetall(keys.index);
    expect(Object.keys(index).sort()).toEqual(
      [id('a', 5), id('a', 6), id('a', 7), ...Array.from({ length: 1300 }, (_, i) => id('b', i))].sort(),
    );
    expect(index[id('a', 5)]).toBe('ha5-new\tfiles\tteam/a.yaml');
    expect(await r.redis.zscore(keys.next, id('a', 5))).toBe(String(NOW + 5_000));
    expect(await r.redis.hget(keys.schedule(id('a', 5)), 'done')).toBeNull();
    expect(await r.redis.zscore(keys.next, id('b', 1299))).toBe(String(nextOf(1299)));
    expect(await r.redis.zcard(keys.next)).toBe(1303);
    // The deleted entries' hashes, run lists and pauses went with them; the others stayed.
    for (const i of [0, 700, 1299]) {
      expect(await r.redis.exists(keys.schedule(id('a', i)), keys.runs(id('a', i)))).toBe(0);
      expect(await r.redis.hexists(keys.paused, id('a', i))).toBe(0);
    }
    expect(await r.redis.hexists(keys.paused, 'kept')).toBe(1);
    expect(await r.redis.exists(keys.schedule(id('a', 6)), keys.schedule(id('a', 7)))).toBe(2);
  });

  it('refuses a batch that names one id twice, and writes nothing of it', async () => {
    await apply([put('a', 1)]);
    const before = await dumpEveryKey(r.redis);
    await expect(apply([put('a', 2), put('a', 1, { expected: 'ha1', hash: 'x' }), put('a', 1)])).rejects.toThrow(
      /id "a-00001" twice in one batch/,
    );
    expect(await dumpEveryKey(r.redis)).toEqual(before);
  });
});
