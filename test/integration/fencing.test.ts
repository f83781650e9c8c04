/**
 * Fencing, head-on (issue 12, point 5): a registry apply or a fire batch that carries a
 * lease token writes nothing unless the lease key holds exactly that token, checked
 * inside the Lua script. The state before and after is compared key by key (DUMP); each
 * refusal is paired with the same call made with the lease held, which must write.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { fireItems } from '../../src/dispatch/fire.js';
import { specHash } from '../../src/model/spec-hash.js';
import { FencedError } from '../../src/redis/commands/fence.js';
import type { FireItem } from '../../src/redis/commands/fire-batch.js';
import { Keys } from '../../src/redis/keys.js';
import { pauseSchedules } from '../../src/registry/pauses.js';
import { Registry } from '../../src/registry/registry.js';
import { encodeSchedule, jobMeta } from '../../src/rq/job-encoding.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { dumpEveryKey, type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { ListSource, applySpecs, makeSpec } from '../helpers/schedules.js';

let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');
const OCC = T + 60_000;
const clock = new ManualClock(T);
const ME = 'host:1:aaaaaa';

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
  clock.set(T);
});

/** A guard with a fixed token that counts refusals. */
function guard(token: string | undefined) {
  const g = { refusals: 0, token: () => token, refused: () => void g.refusals++ };
  return g;
}

describe('apply-changes.lua with a lease token', () => {
  const spec = makeSpec({ id: 'a', every: 60 });
  const source = new ListSource('test', [spec]);

  for (const [what, lease] of [
    ['another holder', 'other:2:bbbbbb'],
    ['no lease at all (Redis restarted empty)', null],
  ] as const) {
    it(`refuses the whole apply when the lease has ${what}: nothing written, the guard told once`, async () => {
      if (lease) await redis.set(keys.leader, lease, 'PX', 60_000);
      const before = await dumpEveryKey(redis);
      const g = guard(ME);
      await expect(
        reconcileOnce({ sources: [source], registry: new Registry(redis, 'pyrq:', g), clock }),
      ).rejects.toBeInstanceOf(FencedError);
      expect(await dumpEveryKey(redis)).toEqual(before);
      expect(g.refusals).toBe(1);
      // The same apply by the holder writes.
      await redis.set(keys.leader, ME, 'PX', 60_000);
      const r = await reconcileOnce({ sources: [source], registry: new Registry(redis, 'pyrq:', g), clock });
      expect(r.applied?.created).toEqual(['a']);
      expect(await redis.hexists(keys.index, 'a')).toBe(1);
    });
  }

  it('without a token (pyrq apply, a standby serving a socket request) the lease is not consulted', async () => {
    await redis.set(keys.leader, 'other:2:bbbbbb', 'PX', 60_000);
    const r = await reconcileOnce({
      sources: [source],
      registry: new Registry(redis, 'pyrq:', guard(undefined)),
      clock,
    });
    expect(r.applied?.created).toEqual(['a']);
  });
});

describe('fire-batch.lua with a lease token', () => {
  const spec = makeSpec({ id: 'f', every: 60 });
  const item = (): FireItem => {
    const hash = specHash(spec);
    const enc = encodeSchedule(spec, hash);
    return {
      id: 'f',
      expected: OCC,
      hash,
      next: { set: OCC + 60_000 },
      overlap: 'allow' as const,
      prevJobId: '',
      job: enc,
      ops: [
        { kind: 'enqueue', occurrence: OCC, jobId: 'pyrq_f_20260601T120100Z', meta: jobMeta(enc, OCC, 'schedule') },
      ],
    };
  };
  const opts = { historyLength: 50, batchSize: 500, at: OCC + 7, trigger: 'schedule' as const };

  it('a fire with a token the lease does not hold writes nothing (no job, no run record, next fire time kept); with it, fires', async () => {
    await applySpecs(redis, [spec], clock);
    await redis.set(keys.leader, 'other:2:bbbbbb', 'PX', 60_000);
    const before = await dumpEveryKey(redis);
    await expect(fireItems(redis, keys, [item()], { ...opts, fence: ME })).rejects.toBeInstanceOf(FencedError);
    expect(await dumpEveryKey(redis)).toEqual(before);
    await redis.del(keys.leader);
    const noLease = await dumpEveryKey(redis);
    await expect(fireItems(redis, keys, [item()], { ...opts, fence: ME })).rejects.toBeInstanceOf(FencedError);
    expect(await dumpEveryKey(redis)).toEqual(noLease);
    expect(await redis.exists('rq:job:pyrq_f_20260601T120100Z', keys.runs('f'))).toBe(0);
    await redis.set(keys.leader, ME, 'PX', 60_000);
    expect(await fireItems(redis, keys, [item()], { ...opts, fence: ME })).toEqual([1]);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual(['pyrq_f_20260601T120100Z']);
  });

  it('a schedule paused after its item was built: the fire writes nothing (paused); a manual run still fires', async () => {
    await applySpecs(redis, [spec], clock);
    await pauseSchedules(redis, keys, ['f'], { now: T });
    const before = await dumpEveryKey(redis);
    expect(await fireItems(redis, keys, [item()], opts)).toEqual(['paused']);
    expect(await dumpEveryKey(redis)).toEqual(before);
    const manual = { ...item(), expected: null, next: 'keep' as const };
    expect(await fireItems(redis, keys, [manual], { ...opts, trigger: 'manual' })).toEqual([1]);
  });
});
