import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { readHistory } from '../../src/dispatch/history.js';
import { ScheduleCache } from '../../src/dispatch/schedule-cache.js';
import { manualRun } from '../../src/dispatch/manual-run.js';
import { specHash } from '../../src/model/spec-hash.js';
import { Keys } from '../../src/redis/keys.js';
import { encodeSchedule, jobHashFields } from '../../src/rq/job-encoding.js';
import { Registry } from '../../src/registry/registry.js';
import { statusRow } from '../../src/status/status-view.js';
import { eventually } from '../helpers/eventually.js';
import { useRedis } from '../helpers/redis-server.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';

// One private Redis for the file, emptied before each test (useRedis).
const priv = useRedis();
let redis: Redis;
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');
const clock = new ManualClock(T);
const dispatcher = (over: Parameters<typeof dispatchConfig>[0] = {}) =>
  new Dispatcher({ redis, keys, clock, config: dispatchConfig(over) });

beforeAll(() => {
  redis = priv.redis;
});
beforeEach(() => {
  clock.set(T);
});

const queue = (name = 'default') => redis.lrange(`rq:queue:${name}`, 0, -1);

describe('dispatcher: firing due schedules', () => {
  it('enqueues one RQ job per occurrence, records the run and stores the next fire time', async () => {
    await applySpecs(redis, [makeSpec({ id: 'tick.tock', every: 60, kwargs: { n: 1 } })], clock);
    const d = dispatcher();
    clock.set(T + 59_000);
    expect((await d.tickOnce()).enqueued).toBe(0);
    expect(await queue()).toEqual([]);

    clock.set(T + 60_000 + 15); // 15 ms late
    const r = await d.tickOnce();
    expect(r.enqueued).toBe(1);
    const jobId = 'pyrq_tick_otock_20260601T120100Z';
    expect(await queue()).toEqual([jobId]);
    expect(await redis.smembers('rq:queues')).toEqual(['rq:queue:default']);
    const job = await redis.hgetall(`rq:job:${jobId}`);
    expect(job).toMatchObject({
      status: 'queued',
      origin: 'default',
      timeout: '180',
      created_at: '2026-06-01T12:01:00.015000Z',
      enqueued_at: '2026-06-01T12:01:00.015000Z',
    });
    // The script assembles exactly the reference layout of jobHashFields (which the unit
    // tests load with RQ's own Job.restore).
    const spec = makeSpec({ id: 'tick.tock', every: 60, kwargs: { n: 1 } });
    const reference = jobHashFields(encodeSchedule(spec, specHash(spec)), T + 60_000, T + 60_015, 'schedule');
    const stored = await redis.hgetallBuffer(`rq:job:${jobId}`);
    expect(Object.keys(stored).sort()).toEqual(
      reference
        .filter((_, i) => i % 2 === 0)
        .map(String)
        .sort(),
    );
    reference.forEach((v, i) => {
      if (i % 2 === 1) expect(stored[String(reference[i - 1])]!.equals(Buffer.from(v))).toBe(true);
    });
    expect(await redis.zscore(keys.next, 'tick.tock')).toBe(String(T + 120_000));
    expect(await redis.hgetall(keys.schedule('tick.tock'))).toMatchObject({
      lastRunAt: String(T + 60_000),
      lastOutcome: 'enqueued',
      lastLatenessMs: '15',
      lastJobId: jobId,
    });
    expect(await readHistory(redis, keys, 'tick.tock', 10)).toEqual([
      {
        occurrence: '2026-06-01T12:01:00.000Z',
        at: '2026-06-01T12:01:00.015Z',
        latenessMs: 15,
        trigger: 'schedule',
        outcome: 'enqueued',
        jobId,
        jobStatus: 'queued',
        // No worker ran it: no result yet (the outcome reader fills these in).
        result: null,
        durationMs: null,
        error: null,
      },
    ]);

    // The same instant again, and a second dispatcher: nothing more.
    expect((await d.tickOnce()).enqueued).toBe(0);
    expect((await dispatcher().tickOnce()).enqueued).toBe(0);
    expect(await queue()).toEqual([jobId]);
  });

  it('jobIdKwarg and onFailure: each job of a catch-up carries its own id, and the script writes the reference layout', async () => {
    const spec = makeSpec({
      id: 'own.id',
      every: 60,
      catchup: 'all',
      kwargs: { n: 1 },
      jobIdKwarg: 'rq_job_id',
      onFailure: 'app.hooks.failed',
    });
    await applySpecs(redis, [spec], clock);
    clock.set(T + 180_000); // three occurrences due: 12:01, 12:02, 12:03
    expect((await dispatcher().tickOnce()).enqueued).toBe(3);
    const enc = encodeSchedule(spec, specHash(spec));
    const ids = ['pyrq_own_oid_20260601T120100Z', 'pyrq_own_oid_20260601T120200Z', 'pyrq_own_oid_20260601T120300Z'];
    for (const [i, jobId] of ids.entries()) {
      const reference = jobHashFields(enc, T + 60_000 * (i + 1), T + 180_000, 'schedule', jobId);
      const stored = await redis.hgetallBuffer(`rq:job:${jobId}`);
      expect(Object.keys(stored).sort(), jobId).toEqual(
        reference
          .filter((_, k) => k % 2 === 0)
          .map(String)
          .sort(),
      );
      reference.forEach((v, k) => {
        if (k % 2 === 1)
          expect(stored[String(reference[k - 1])]!.equals(Buffer.from(v)), `${jobId} ${String(reference[k - 1])}`).toBe(
            true,
          );
      });
      expect(stored.data!.includes(Buffer.from(jobId))).toBe(true);
      expect(String(stored.failure_callback_name)).toBe('app.hooks.failed');
    }
  });

  it('fires after Redis forgot its scripts (SCRIPT FLUSH, as after a restart): loads the script and runs it once', async () => {
    await applySpecs(redis, [makeSpec({ id: 'after.flush', every: 60 })], clock);
    const d = dispatcher();
    await redis.script('FLUSH');
    clock.set(T + 60_000);
    expect((await d.tickOnce()).enqueued).toBe(1);
    expect(await queue()).toEqual(['pyrq_after_oflush_20260601T120100Z']);
    expect(await readHistory(redis, keys, 'after.flush', 10)).toHaveLength(1);
  });

  it('"at" fires once and is then done; status says so', async () => {
    await applySpecs(redis, [makeSpec({ id: 'once', at: '2026-06-01T12:00:30Z' })], clock);
    const d = dispatcher();
    clock.set(T + 30_000);
    expect((await d.tickOnce()).enqueued).toBe(1);
    clock.set(T + 3_600_000);
    expect((await d.tickOnce()).enqueued).toBe(0);
    expect(await queue()).toEqual(['pyrq_once_20260601T120030Z']);
    expect(await redis.zscore(keys.next, 'once')).toBeNull();
    const [entry] = await new Registry(redis).readEntries(['once']);
    const row = statusRow(entry!, clock.now());
    expect(row).toMatchObject({
      done: true,
      nextRelative: 'done',
      lastOutcome: 'enqueued',
      lastRun: '2026-06-01T12:00:30.000Z',
      lastLatenessMs: 0,
    });
  });

  it('startAt delays the first run, endAt ends the schedule, disabled never fires', async () => {
    await applySpecs(
      redis,
      [
        makeSpec({ id: 'later', every: 60, startAt: '2026-06-01T12:10:00Z' }),
        makeSpec({ id: 'ending', every: 60, endAt: '2026-06-01T12:02:30Z' }),
        makeSpec({ id: 'off', every: 60, enabled: false }),
      ],
      clock,
    );
    const d = dispatcher();
    const fired: string[] = [];
    for (let t = T; t <= T + 12 * 60_000; t += 60_000) {
      clock.set(t);
      await d.tickOnce();
    }
    fired.push(...(await queue()));
    expect(fired).toEqual([
      'pyrq_ending_20260601T120100Z',
      'pyrq_ending_20260601T120200Z',
      'pyrq_later_20260601T121000Z',
      'pyrq_later_20260601T121100Z',
      'pyrq_later_20260601T121200Z',
    ]);
    expect(await redis.zscore(keys.next, 'ending')).toBeNull();
    expect(await redis.hget(keys.schedule('ending'), 'done')).toBeNull();
    expect(await redis.zscore(keys.next, 'off')).toBeNull();
  });

  it('a spec edited after the dispatcher cached it fires with the new payload, never the stale one', async () => {
    await applySpecs(redis, [makeSpec({ id: 'edit', every: 60, kwargs: { v: 1 } })], clock);
    const d = dispatcher();
    clock.set(T + 60_000);
    await d.tickOnce(); // caches v1
    await applySpecs(redis, [makeSpec({ id: 'edit', every: 60, kwargs: { v: 2 } })], clock);
    clock.set(T + 120_000);
    expect((await d.tickOnce()).enqueued).toBe(1);
    const meta2 = await redis.hget('rq:job:pyrq_edit_20260601T120200Z', 'description');
    expect(meta2).toBe('pyrq_fixtures.tasks.echo(v=2)');
  });

  it('fires thousands of schedules due at the same instant in one tick, in batches, exactly once', async () => {
    const n = 2500;
    await applySpecs(
      redis,
      Array.from({ length: n }, (_, i) => makeSpec({ id: `s${i}`, cron: '* * * * *', queue: `q${i % 3}` })),
      clock,
    );
    const d = dispatcher({ batchSize: 300 });
    clock.set(T + 60_000);
    const r = await d.tickOnce();
    expect(r.enqueued).toBe(n);
    const lens = await Promise.all(['q0', 'q1', 'q2'].map((q) => redis.llen(`rq:queue:${q}`)));
    expect(lens.reduce((a, b) => a + b, 0)).toBe(n);
    expect(await redis.zcount(keys.next, '-inf', T + 60_000)).toBe(0);
    expect((await dispatcher().tickOnce()).enqueued).toBe(0);
  });

  it('keeps only the last historyLength runs', async () => {
    await applySpecs(redis, [makeSpec({ id: 'h', every: 1 })], clock);
    const d = dispatcher({ historyLength: 5 });
    for (let i = 1; i <= 8; i++) {
      clock.set(T + i * 1000);
      await d.tickOnce();
    }
    // Since issue 14 a list is trimmed back to historyLength once it holds a fifth more
    // (5 + 1 here), not at every push; readers read no more than historyLength.
    expect(await redis.llen(keys.runs('h'))).toBeLessThanOrEqual(6);
    expect((await readHistory(redis, keys, 'h', 50, 5)).map((r) => r.occurrence)).toEqual(
      [8, 7, 6, 5, 4].map((s) => new Date(T + s * 1000).toISOString()),
    );
    for (let i = 9; i <= 20; i++) {
      clock.set(T + i * 1000);
      await d.tickOnce();
      expect(await redis.llen(keys.runs('h'))).toBeLessThanOrEqual(6);
      expect(await redis.llen(keys.runs('h'))).toBeGreaterThanOrEqual(5);
    }
    expect((await readHistory(redis, keys, 'h', 50, 5)).map((r) => r.occurrence)).toEqual(
      [20, 19, 18, 17, 16].map((s) => new Date(T + s * 1000).toISOString()),
    );
  });

  it('a schedule whose stored spec is unreadable is reported and left alone; the others fire', async () => {
    await applySpecs(redis, [makeSpec({ id: 'good', every: 60 }), makeSpec({ id: 'bad', every: 60 })], clock);
    await redis.hset(keys.schedule('bad'), 'spec', '{"not":"a schedule"}');
    clock.set(T + 60_000);
    const r = await dispatcher().tickOnce();
    expect(r.enqueued).toBe(1);
    expect(r.problems).toEqual([
      { id: 'bad', message: 'the stored spec is not a valid schedule (run apply --deep to repair)' },
    ]);
    expect(await queue()).toEqual(['pyrq_good_20260601T120100Z']);
    expect(await redis.zscore(keys.next, 'bad')).toBe(String(T + 60_000));
  });

  it('a schedule that leaves the fire set between the read of it and of its entry is no problem; one still in it is', async () => {
    await applySpecs(redis, [makeSpec({ id: 'gone', every: 60 }), makeSpec({ id: 'broken', every: 60 })], clock);
    // `broken`: in the fire set, its entry deleted behind pyrq's back (a real fault).
    await redis.del(keys.schedule('broken'));
    // `gone`: deleted (as Redis restarted empty would lose it) just after the dispatcher
    // read the fire set, before it reads the entry.
    const racing = new Proxy(redis, {
      get(target, prop, receiver) {
        if (prop !== 'zrangebyscore') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<Redis['zrangebyscore']>) => {
          const due = await target.zrangebyscore(...args);
          await target.multi().del(keys.schedule('gone')).zrem(keys.next, 'gone').hdel(keys.index, 'gone').exec();
          return due;
        };
      },
    });
    clock.set(T + 60_000);
    const r = await new Dispatcher({ redis: racing, keys, clock, config: dispatchConfig() }).tickOnce();
    expect(r.problems).toEqual([
      {
        id: 'broken',
        message: 'the schedule is in the fire set but its registry entry is missing (run apply --deep to repair)',
      },
    ]);
    expect(r.enqueued).toBe(0);
    expect(await queue()).toEqual([]);
  });

  it('pyrq trigger: one manual job now, recorded as manual; the schedule keeps its next fire time', async () => {
    await applySpecs(redis, [makeSpec({ id: 'report', cron: '0 7 * * 1' })], clock);
    const next = await redis.zscore(keys.next, 'report');
    const r = await manualRun({ redis, keys, clock, config: dispatchConfig() }, 'report');
    expect(r.jobId).toMatch(/^pyrq_report_manual-20260601T120000000Z-[0-9a-f]{8}$/);
    expect(await queue()).toEqual([r.jobId]);
    expect(await redis.zscore(keys.next, 'report')).toBe(next);
    const [h] = await readHistory(redis, keys, 'report', 1);
    expect(h).toMatchObject({ trigger: 'manual', outcome: 'enqueued', jobId: r.jobId, jobStatus: 'queued' });
    await expect(manualRun({ redis, keys, clock, config: dispatchConfig() }, 'nope')).rejects.toThrow(
      /no schedule "nope"/,
    );
  });
});

describe('schedule cache', () => {
  it('forgets schedules that left the fire set, and reloads ones whose spec changed', async () => {
    await applySpecs(redis, [makeSpec({ id: 'keep', every: 60 }), makeSpec({ id: 'gone', every: 60 })], clock);
    const cache = new ScheduleCache(redis, keys, {});
    expect(await cache.load(['keep', 'gone'])).toEqual([]);
    await applySpecs(redis, [makeSpec({ id: 'keep', every: 60, kwargs: { v: 2 } })], clock);
    expect(await cache.dropUnscheduled()).toBe(1);
    expect(cache.get('gone')).toBeUndefined();
    await cache.dropStale(['keep']);
    expect(cache.get('keep')).toBeUndefined();
    await cache.load(['keep']);
    expect(cache.get('keep')!.enc.description).toBe('pyrq_fixtures.tasks.echo(v=2)');
  });
});

describe('dispatcher loop', () => {
  it('sleeps until the next fire time and wakes early when the registry changes', async () => {
    const realClock = { now: () => Date.now() };
    // Without the wake-up on pyrq:events this would sleep for ten minutes.
    const d = new Dispatcher({ redis, keys, clock: realClock, config: dispatchConfig() }, { maxSleepMs: 600_000 });
    await d.start();
    try {
      const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000).toISOString();
      await applySpecs(redis, [makeSpec({ id: 'soon', at })], realClock);
      const jobId = `pyrq_soon_${at.replace(/[-:]/g, '').replace('.000', '')}`;
      await eventually(async () => (await redis.llen('rq:queue:default')) > 0, {
        message: 'the one-shot fired',
        timeout: 10_000,
        every: 50,
      });
      expect(await queue()).toEqual([jobId]);
    } finally {
      await d.stop();
    }
  });
});
