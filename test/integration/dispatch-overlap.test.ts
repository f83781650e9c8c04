import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { readHistory } from '../../src/dispatch/history.js';
import { manualRun } from '../../src/dispatch/manual-run.js';
import { Keys } from '../../src/redis/keys.js';
import { eventually } from '../helpers/eventually.js';
import { type PrivateRedis, useRedis } from '../helpers/redis-server.js';
import { burstWorker, taskCalls } from '../helpers/rq-worker.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Overlap forbid reads the previous job's status from RQ (rq:job:<id>), so the job
// states here are made by a real `rq worker`, not written by the test.
// One private Redis for the file, emptied before each test (useRedis).
const priv = useRedis();
let server: PrivateRedis;
let redis: Redis;
let out: ReturnType<typeof tmpDir>;
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');
const M = 60_000;
const clock = new ManualClock(T);
const job = (min: number) => `pyrq_o_20260601T12${String(min).padStart(2, '0')}00Z`;

beforeAll(() => {
  ({ server, redis } = priv);
});
afterAll(() => out?.cleanup());
beforeEach(() => {
  clock.set(T);
  out?.cleanup();
  out = tmpDir();
});

const waitFor = (what: string, check: () => Promise<boolean>): Promise<boolean> =>
  eventually(check, { message: what, timeout: 20_000, every: 50 });

describe('overlap policy', () => {
  it('forbid: skips while the previous job is queued, and while it is started; fires again once it finished', async () => {
    await applySpecs(
      redis,
      [
        makeSpec({
          id: 'o',
          every: 60,
          overlap: 'forbid',
          function: 'pyrq_fixtures.tasks.slow',
          kwargs: { seconds: 3 },
        }),
      ],
      clock,
    );
    const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
    const tickAt = async (min: number) => {
      clock.set(T + min * M);
      return d.tickOnce();
    };
    expect((await tickAt(1)).enqueued).toBe(1);
    expect((await tickAt(2)).enqueued).toBe(0); // job(1) still queued

    const worker = burstWorker(server.url, ['default'], out.path);
    await waitFor(
      'the worker to start job(1)',
      async () => (await redis.hget(`rq:job:${job(1)}`, 'status')) === 'started',
    );
    expect((await tickAt(3)).enqueued).toBe(0); // job(1) started
    const w = await worker;
    expect(w.code, w.output).toBe(0);
    expect(await redis.hget(`rq:job:${job(1)}`, 'status')).toBe('finished');
    expect((await tickAt(4)).enqueued).toBe(1);

    const history = (await readHistory(redis, keys, 'o', 10)).reverse();
    expect(history.map((h) => [h.occurrence.slice(11, 16), h.outcome, h.jobId ?? h.previousJobId])).toEqual([
      ['12:01', 'enqueued', job(1)],
      ['12:02', 'skipped:overlap', job(1)],
      ['12:03', 'skipped:overlap', job(1)],
      ['12:04', 'enqueued', job(4)],
    ]);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([job(4)]);
    expect(taskCalls(out.path).map((c) => c.task)).toEqual(['slow_start', 'slow_end']);
  });

  it('forbid: a manual run counts as the previous job', async () => {
    await applySpecs(redis, [makeSpec({ id: 'o', every: 60, overlap: 'forbid' })], clock);
    const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
    await d.tickOnce(); // caches the schedule with no previous job
    const manual = await manualRun({ redis, keys, clock, config: dispatchConfig() }, 'o');
    clock.set(T + M);
    expect((await d.tickOnce()).enqueued).toBe(0);
    const [last] = await readHistory(redis, keys, 'o', 1);
    expect(last).toMatchObject({ outcome: 'skipped:overlap', previousJobId: manual.jobId });
  });

  it('allow (the default): every occurrence is enqueued even while the previous one waits', async () => {
    await applySpecs(redis, [makeSpec({ id: 'o', every: 60 })], clock);
    const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
    for (const min of [1, 2, 3]) {
      clock.set(T + min * M);
      await d.tickOnce();
    }
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([job(1), job(2), job(3)]);
  });
});
