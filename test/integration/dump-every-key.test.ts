import { describe, expect, it } from 'vitest';
import { dumpEveryKey, useRedis } from '../helpers/redis-server.js';

// The "writes nothing" checks of other tests compare two of these snapshots, so the
// snapshot must see every change and nothing that is not one.
const priv = useRedis();

describe('dumpEveryKey', () => {
  it('is unchanged by reads, even of a hash Redis is still rehashing', async () => {
    const r = priv.redis;
    // (On a server that has not yet been flushed, the first hash happened not to show it.)
    await r.flushall();
    // A schedule hash as apply-changes.lua writes it: six fields in one HSET, one value
    // too long for a listpack, so a hashtable that reads step through rehashing.
    await r.hset(
      'h',
      'spec',
      'x'.repeat(200),
      'hash',
      'abc',
      'source',
      's',
      'origin',
      'o',
      'updatedAt',
      '1',
      'createdAt',
      '1',
    );
    const before = await dumpEveryKey(r);
    for (let i = 0; i < 10; i++) await r.hget('h', 'spec');
    expect(await dumpEveryKey(r)).toEqual(before);
  });

  it('sees a change to any type of value, to an expiry, a new key and a deleted one', async () => {
    const r = priv.redis;
    const seed = async () => {
      await r.flushall();
      await r.set('s', 'v');
      await r.hset('h', 'a', '1', 'b', '2');
      await r.rpush('l', 'x', 'y');
      await r.sadd('set', 'm', 'n');
      await r.zadd('z', 1, 'p', 2, 'q');
    };
    const changes: [string, () => Promise<unknown>][] = [
      ['string', () => r.set('s', 'w')],
      ['hash field', () => r.hset('h', 'b', '3')],
      ['hash new field', () => r.hset('h', 'c', '1')],
      ['list order', () => r.lset('l', 0, 'y')],
      ['set member', () => r.sadd('set', 'o')],
      ['zset score', () => r.zadd('z', 5, 'p')],
      ['expiry', () => r.pexpire('s', 60_000)],
      ['new key', () => r.set('new', '')],
      ['deleted key', () => r.del('l')],
    ];
    for (const [what, change] of changes) {
      await seed();
      const before = await dumpEveryKey(r);
      await change();
      expect(await dumpEveryKey(r), what).not.toEqual(before);
    }
  });
});
