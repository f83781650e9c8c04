/**
 * Redis's clock is the one clock (issue 14): sent with `at: 'redis'`, the fire script
 * reads Redis TIME, refuses an item with an occurrence still ahead of it (writing
 * nothing, and saying when to come back) and stamps the job's created_at/enqueued_at
 * and the run record from it. Deterministic: the schedules are placed more than a
 * minute either side of Redis's current time, so the outcome does not depend on timing.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { fireItems } from '../../src/dispatch/fire.js';
import { parseRunRecord } from '../../src/dispatch/run-record.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { earlyWaitMs, type FireItem, prepareFireBatch, sendFireBatch } from '../../src/redis/commands/fire-batch.js';
import { FencedError } from '../../src/redis/commands/fence.js';
import { pauseSchedules, resumeSchedules } from '../../src/registry/pauses.js';
import { Keys } from '../../src/redis/keys.js';
import { measureClockOffset } from '../../src/redis/redis-clock.js';
import { encodeSchedule, jobMeta, rqTimestamp } from '../../src/rq/job-encoding.js';
import { scheduledJobId } from '../../src/rq/job-id.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { applySpecs, makeSpec } from '../helpers/schedules.js';

let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const opts = { historyLength: 50, batchSize: 500, trigger: 'schedule' as const };

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
});

async function redisNow(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * Applies an `every: 60` schedule as of `offsetMs` from Redis's now: its first
 * occurrence is within the minute after that. Returns it and that occurrence.
 */
async function scheduleAt(id: string, offsetMs: number): Promise<{ spec: Schedule; occ: number }> {
  const spec = makeSpec({ id, every: 60 });
  const t = (await redisNow()) + offsetMs;
  await applySpecs(redis, [spec], new ManualClock(t));
  const occ = Number(await redis.zscore(keys.next, id));
  expect(occ).toBeGreaterThan(t);
  expect(occ).toBeLessThanOrEqual(t + 60_000);
  return { spec, occ };
}

function item(spec: Schedule, occ: number): FireItem {
  const hash = specHash(spec);
  const enc = encodeSchedule(spec, hash);
  return {
    id: spec.id,
    expected: occ,
    hash,
    next: { set: occ + 60_000 },
    overlap: 'allow' as const,
    prevJobId: '',
    job: enc,
    ops: [
      { kind: 'enqueue', occurrence: occ, jobId: scheduledJobId(spec.id, occ), meta: jobMeta(enc, occ, 'schedule') },
    ],
  };
}

describe("fire-batch.lua by Redis's clock", () => {
  it('refuses an occurrence not yet due by Redis time (nothing written, the wait returned); the same item by a caller time past it fires', async () => {
    const { spec, occ } = await scheduleAt('ahead', 60_000);
    const before = await redis.dump(keys.schedule('ahead'));
    const it1 = item(spec, occ);
    const reply = await sendFireBatch(redis, prepareFireBatch(keys, [it1], { ...opts, redisClock: true }), 'redis');
    expect(reply.outcomes).toEqual(['early']);
    const wait = earlyWaitMs([it1], reply)!;
    expect(wait).toBeGreaterThan(55_000);
    expect(wait).toBeLessThanOrEqual(121_000);
    expect(await redis.exists(`rq:job:${scheduledJobId('ahead', occ)}`, 'rq:queue:default', keys.runs('ahead'))).toBe(
      0,
    );
    expect(await redis.zscore(keys.next, 'ahead')).toBe(String(occ));
    expect(await redis.dump(keys.schedule('ahead'))).toEqual(before);
    // Control: the caller's clock past the occurrence (`pyrq tick --at`) fires it.
    expect(await fireItems(redis, keys, [it1], { ...opts, at: occ + 5 })).toEqual([1]);
  });

  it('stamps enqueued_at, created_at and the run record with Redis time, whatever the caller thinks', async () => {
    const { spec, occ } = await scheduleAt('due', -180_000);
    const t0 = await redisNow();
    expect(await fireItems(redis, keys, [item(spec, occ)], { ...opts, at: 'redis' })).toEqual([1]);
    const t1 = await redisNow();
    const row = parseRunRecord((await redis.lindex(keys.runs('due'), 0))!);
    expect(row!.outcome).toBe('enqueued');
    expect(row!.at).toBeGreaterThanOrEqual(t0);
    expect(row!.at).toBeLessThanOrEqual(t1);
    expect(row!.latenessMs).toBe(row!.at - occ);
    const job = await redis.hgetall(`rq:job:${scheduledJobId('due', occ)}`);
    expect(job.enqueued_at).toBe(rqTimestamp(row!.at));
    expect(job.created_at).toBe(job.enqueued_at);
  });

  it('in one batch, the due item fires and the one ahead is refused', async () => {
    // One source holds both (applying one alone would delete the other): applied in the
    // past, then 'ahead' given a next fire time a minute ahead of Redis's clock.
    const a = { spec: makeSpec({ id: 'due', every: 60 }), occ: 0 };
    const b = { spec: makeSpec({ id: 'ahead', every: 60 }), occ: (await redisNow()) + 60_000 };
    await applySpecs(redis, [a.spec, b.spec], new ManualClock((await redisNow()) - 180_000));
    a.occ = Number(await redis.zscore(keys.next, 'due'));
    await redis.zadd(keys.next, b.occ, 'ahead');
    expect(await fireItems(redis, keys, [item(a.spec, a.occ), item(b.spec, b.occ)], { ...opts, at: 'redis' })).toEqual([
      1,
      'early',
    ]);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([scheduledJobId('due', a.occ)]);
  });

  it('by Redis time with a lease token: fenced when the lease is not ours; paused (-4) and early (-5) told apart; fires once both clear', async () => {
    // Both in one source: 'due' a few minutes in the past, 'ahead' a minute ahead of Redis's clock.
    const a = { spec: makeSpec({ id: 'due', every: 60 }), occ: 0 };
    const b = { spec: makeSpec({ id: 'ahead', every: 60 }), occ: (await redisNow()) + 60_000 };
    await applySpecs(redis, [a.spec, b.spec], new ManualClock((await redisNow()) - 180_000));
    a.occ = Number(await redis.zscore(keys.next, 'due'));
    await redis.zadd(keys.next, b.occ, 'ahead');
    const ME = 'me:1:aaaaaa';
    const send = () =>
      sendFireBatch(
        redis,
        prepareFireBatch(keys, [item(a.spec, a.occ), item(b.spec, b.occ)], { ...opts, redisClock: true, fence: ME }),
        'redis',
      );
    await redis.set(keys.leader, 'other:2:bbbbbb', 'PX', 60_000);
    await expect(send()).rejects.toBeInstanceOf(FencedError);
    await redis.set(keys.leader, ME, 'PX', 60_000);
    await pauseSchedules(redis, keys, ['due'], { now: await redisNow() });
    expect((await send()).outcomes).toEqual(['paused', 'early']);
    expect(await redis.exists('rq:queue:default', keys.runs('due'), keys.runs('ahead'))).toBe(0);
    await resumeSchedules(redis, keys, ['due']);
    const reply = await send();
    expect(reply.outcomes).toEqual([1, 'early']);
    expect(reply.at).toBeGreaterThanOrEqual(a.occ); // the reply's trailing value: Redis's time, after the fence's
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([scheduledJobId('due', a.occ)]);
  });

  it("measures this machine's clock offset from Redis (same machine: near zero)", async () => {
    const m = await measureClockOffset(redis, { now: () => Date.now() });
    expect(Math.abs(m.offsetMs)).toBeLessThan(1000);
    const skewed = await measureClockOffset(redis, { now: () => Date.now() + 3000 });
    expect(m.offsetMs - skewed.offsetMs).toBeGreaterThan(2000); // 3 s ahead: 3 s less to add
    expect(m.offsetMs - skewed.offsetMs).toBeLessThan(4000);
  });
});
