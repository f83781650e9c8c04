/**
 * The compare-and-set at the heart of "one job per occurrence", tested head-on: the fire
 * script called (through its adapter, fire.ts) with an item whose view is stale must
 * write nothing at all. Deterministic: no second dispatcher, no timing; the state before
 * and after is compared key by key (DUMP), so any write (a job, a queue push, a run
 * record, the last-run state, the next fire time) fails the test.
 *
 * Every stale case is paired with the same item made current, which must fire: so "no
 * change" cannot come from an item the script would have refused anyway.
 */
import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { fireItems } from '../../src/dispatch/fire.js';
import { parseRunRecord } from '../../src/dispatch/run-record.js';
import type { FireItem } from '../../src/redis/commands/fire-batch.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { Keys } from '../../src/redis/keys.js';
import { encodeSchedule, jobMeta } from '../../src/rq/job-encoding.js';
import { dumpEveryKey, useRedis } from '../helpers/redis-server.js';
import { applySpecs, makeSpec } from '../helpers/schedules.js';

// One private Redis for the file, emptied before each test (useRedis).
const priv = useRedis();
let redis: Redis;
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');
const OCC = T + 60_000; // the first occurrence of an `every: 60` schedule applied at T
const JOB = 'pyrq_cas_20260601T120100Z';
const clock = new ManualClock(T);
const opts = { historyLength: 50, batchSize: 500, at: OCC + 7, trigger: 'schedule' as const };

beforeAll(() => {
  redis = priv.redis;
});
beforeEach(() => {
  clock.set(T);
});

/** The item the dispatcher would build for `spec` at its first occurrence. */
function item(spec: Schedule, over: Partial<FireItem> = {}): FireItem {
  const hash = specHash(spec);
  const enc = encodeSchedule(spec, hash);
  const occ = OCC;
  return {
    id: spec.id,
    expected: occ,
    hash,
    next: { set: occ + 60_000 },
    overlap: 'allow' as const,
    prevJobId: '',
    job: enc,
    ops: [
      {
        kind: 'enqueue',
        occurrence: occ,
        jobId: `pyrq_${spec.id}_20260601T120100Z`,
        meta: jobMeta(enc, occ, 'schedule'),
      },
    ],
    ...over,
  };
}

describe('fire-batch.lua: a stale view writes nothing', () => {
  const spec = makeSpec({ id: 'cas', every: 60 });

  it('a stale expected next fire time (earlier, later, or a one-shot that is gone) is refused: no job, no run record, no change', async () => {
    await applySpecs(redis, [spec], clock);
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(OCC));
    const before = await dumpEveryKey(redis);
    // Earlier: another dispatcher already fired OCC - 60 s and moved on; later: the
    // caller saw a next fire time the registry never had (a reschedule by apply).
    for (const expected of [OCC - 60_000, OCC - 1, OCC + 1, OCC + 60_000]) {
      expect(
        await fireItems(redis, keys, [item(spec, { expected })], opts),
        `expected ${expected - OCC} ms off`,
      ).toEqual(['not-due']);
      expect(await dumpEveryKey(redis), `expected ${expected - OCC} ms off`).toEqual(before);
    }
    // Not in the fire set at all (ended, disabled, or fired as a one-shot meanwhile).
    await redis.zrem(keys.next, 'cas');
    const gone = await dumpEveryKey(redis);
    expect(await fireItems(redis, keys, [item(spec)], opts)).toEqual(['not-due']);
    expect(await dumpEveryKey(redis)).toEqual(gone);
  });

  it('the same item with the current next fire time fires once (the control for the case above)', async () => {
    await applySpecs(redis, [spec], clock);
    expect(await fireItems(redis, keys, [item(spec)], opts)).toEqual([1]);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([JOB]);
    expect(await redis.hget(`rq:job:${JOB}`, 'status')).toBe('queued');
    expect(await redis.llen(keys.runs('cas'))).toBe(1);
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(OCC + 60_000));
    // Replaying the very same item is now stale in its turn: the next fire time moved.
    const after = await dumpEveryKey(redis);
    expect(await fireItems(redis, keys, [item(spec)], opts)).toEqual(['not-due']);
    expect(await dumpEveryKey(redis)).toEqual(after);
  });

  it('the same item twice in one script call fires once: the second sees the next fire time the first stored', async () => {
    // The compare-and-set values of a call are read up front (one ZMSCORE) and the next
    // fire times written at its end (one ZADD): an id met again must be read live.
    await applySpecs(redis, [spec], clock);
    expect(await fireItems(redis, keys, [item(spec), item(spec)], opts)).toEqual([1, 'not-due']);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([JOB]);
    expect(await redis.llen(keys.runs('cas'))).toBe(1);
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(OCC + 60_000));
    // And an item built on what the first one stores, in the same call, fires too.
    await redis.flushall();
    await applySpecs(redis, [spec], clock);
    const occ2 = OCC + 60_000;
    const enc = encodeSchedule(spec, specHash(spec));
    const second = item(spec, {
      expected: occ2,
      next: { set: occ2 + 60_000 },
      ops: [
        { kind: 'enqueue', occurrence: occ2, jobId: 'pyrq_cas_20260601T120200Z', meta: jobMeta(enc, occ2, 'schedule') },
      ],
    });
    expect(await fireItems(redis, keys, [item(spec), second], { ...opts, at: occ2 + 7 })).toEqual([1, 1]);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([JOB, 'pyrq_cas_20260601T120200Z']);
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(occ2 + 60_000));
  });

  it('one job id twice in one script call (no compare-and-set: manual) is enqueued once, the second a duplicate', async () => {
    // No job key exists before the call, so the duplicate is found by what the call
    // itself wrote (kept only when the caller does not vouch that every id occurs once).
    await applySpecs(redis, [spec], clock);
    const manual = item(spec, { expected: null, next: 'keep' });
    expect(await fireItems(redis, keys, [manual, manual], opts)).toEqual([1, 0]);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([JOB]);
    const texts = await redis.lrange(keys.runs('cas'), 0, -1);
    expect(texts.map((t) => parseRunRecord(t)?.outcome)).toEqual(['skipped:duplicate', 'enqueued']);
  });

  it('an occurrence whose job already exists is not enqueued again: the job is untouched, no second queue push', async () => {
    // The duplicate guard (`skipped:duplicate`): a job of this id was enqueued before (by
    // an earlier run that lost its next-fire write, or by hand); the CAS alone would pass.
    await applySpecs(redis, [spec], clock);
    await redis.hset(`rq:job:${JOB}`, 'status', 'finished', 'origin', 'default', 'data', 'the earlier job');
    await redis.expire(`rq:job:${JOB}`, 3600);
    const job = await redis.dumpBuffer(`rq:job:${JOB}`);
    expect(await fireItems(redis, keys, [item(spec)], opts)).toEqual([0]);
    expect((await redis.dumpBuffer(`rq:job:${JOB}`)).equals(job), 'the existing job hash').toBe(true);
    expect(await redis.ttl(`rq:job:${JOB}`)).toBeGreaterThan(3000);
    expect(await redis.exists('rq:queue:default')).toBe(0);
    expect(await redis.sismember('rq:queues', 'rq:queue:default')).toBe(0);
    const [text] = await redis.lrange(keys.runs('cas'), 0, -1);
    expect(parseRunRecord(text!)).toMatchObject({ occurrence: OCC, outcome: 'skipped:duplicate', jobId: JOB });
    // The occurrence is still consumed: the next fire time moved on.
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(OCC + 60_000));
  });

  it('run records stay valid JSON when a job id needs escaping (the script checks ids the caller could not vouch for)', async () => {
    await applySpecs(redis, [spec], clock);
    const odd = 'odd"job\\id/\u0001é';
    await redis.hset(keys.schedule('cas'), 'lastJobId', odd);
    await redis.hset(`rq:job:${odd}`, 'status', 'started');
    expect(await fireItems(redis, keys, [item(spec, { overlap: 'forbid', prevJobId: odd })], opts)).toEqual([0]);
    const [text] = await redis.lrange(keys.runs('cas'), 0, -1);
    expect(parseRunRecord(text!)).toEqual({
      occurrence: OCC,
      at: OCC + 7,
      latenessMs: 7,
      trigger: 'schedule',
      outcome: 'skipped:overlap',
      previousJobId: odd,
    });
  });

  it('a stale spec hash (the spec changed after the payload was encoded) is refused: no job, no run record, no change', async () => {
    await applySpecs(redis, [spec], clock);
    const edited = makeSpec({ id: 'cas', every: 60, kwargs: { v: 2 } });
    await applySpecs(redis, [edited], clock);
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(OCC)); // same trigger: same next fire time
    const before = await dumpEveryKey(redis);
    // The old payload, with the current next fire time: only the hash is stale.
    expect(await fireItems(redis, keys, [item(spec)], opts)).toEqual(['stale-spec']);
    expect(await dumpEveryKey(redis)).toEqual(before);
    // A hash that never existed, too.
    expect(await fireItems(redis, keys, [item(spec, { hash: '0'.repeat(64) })], opts)).toEqual(['stale-spec']);
    expect(await dumpEveryKey(redis)).toEqual(before);
    // Control: the payload of the current spec fires.
    expect(await fireItems(redis, keys, [item(edited)], opts)).toEqual([1]);
    expect(await redis.hget(`rq:job:${JOB}`, 'description')).toBe('pyrq_fixtures.tasks.echo(v=2)');
  });

  it('in one batch, a stale item changes nothing while the current one beside it fires', async () => {
    const other = makeSpec({ id: 'other', every: 60 });
    await applySpecs(redis, [spec, other], clock);
    const casBefore = await redis.dumpBuffer(keys.schedule('cas'));
    const codes = await fireItems(
      redis,
      keys,
      [item(spec, { expected: OCC - 60_000 }), item(other), item(spec, { hash: 'f'.repeat(64) })],
      opts,
    );
    expect(codes).toEqual(['not-due', 1, 'stale-spec']);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual(['pyrq_other_20260601T120100Z']);
    expect(await redis.exists(`rq:job:${JOB}`, keys.runs('cas'))).toBe(0);
    expect(await redis.zscore(keys.next, 'cas')).toBe(String(OCC));
    expect((await redis.dumpBuffer(keys.schedule('cas'))).equals(casBefore)).toBe(true);
  });
});
