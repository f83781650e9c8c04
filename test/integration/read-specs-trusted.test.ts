/**
 * Registry.readSpecs with the hashes the caller observed: a stored text that hashes to
 * the observed hash is what pyrq wrote and is taken without validation again (a file
 * storm's removal reads 100,000 deleted specs; validating each held the daemon's fires);
 * a text that does not hash to it is validated as before, and refused when invalid.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalStringify } from '../../src/canonical-json.js';
import { specHashOfText } from '../../src/model/spec-hash.js';
import { Registry } from '../../src/registry/registry.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

let server: PrivateRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());

describe('readSpecs with observed hashes', () => {
  it('takes a text that hashes to the observed hash as it is, and validates one that does not', async () => {
    await redis.flushall();
    const r = new Registry(redis, 'trusted:');
    // Not a valid schedule (no function, no trigger): validation refuses it.
    const text = canonicalStringify({ id: 'odd', queue: 'q' });
    await redis.hset(r.keys.schedule('odd'), 'spec', text);
    await redis.hset(r.keys.schedule('other'), 'spec', text);
    const observed = new Map([
      ['odd', specHashOfText(text)],
      ['other', 'ffffffffffffffff'],
    ]);
    const specs = await r.readSpecs(['odd', 'other'], (id) => observed.get(id));
    expect(specs.get('odd')).toEqual({ id: 'odd', queue: 'q' });
    expect(specs.has('other')).toBe(false);
    // Without observed hashes every text is validated.
    expect((await r.readSpecs(['odd'])).has('odd')).toBe(false);
  });
});
