import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { readHistory } from '../../src/dispatch/history.js';
import type { OverlapPolicy } from '../../src/model/schedule-schema.js';
import { Keys } from '../../src/redis/keys.js';
import { eventually } from '../helpers/eventually.js';
import { type PrivateRedis, useRedis } from '../helpers/redis-server.js';
import { type RunningWorker, startWorker, taskCalls } from '../helpers/rq-worker.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Overlap buffer-one and replace against a real `rq worker` (RQ 1.13) running a job that
// sleeps past the next occurrences: the job states are RQ's own, not written by the test.
// The worker runs in the background (not burst) and is killed at the end of each test.
const priv = useRedis();
let server: PrivateRedis;
let redis: Redis;
let out: ReturnType<typeof tmpDir>;
let worker: RunningWorker | undefined;
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');
const M = 60_000;
const clock = new ManualClock(T);
const job = (min: number) => `pyrq_o_20260601T12${String(min).padStart(2, '0')}00Z`;

beforeAll(() => {
  ({ server, redis } = priv);
});
afterAll(() => out?.cleanup());
beforeEach(async () => {
  await worker?.stop();
  worker = undefined;
  clock.set(T);
  out?.cleanup();
  out = tmpDir();
});

const waitFor = (what: string, check: () => Promise<boolean>): Promise<boolean> =>
  eventually(check, { message: what, timeout: 30_000, every: 50 });
const status = (jobId: string) => redis.hget(`rq:job:${jobId}`, 'status');

async function setup(overlap: OverlapPolicy, seconds: number): Promise<(min: number) => Promise<number>> {
  await applySpecs(
    redis,
    [makeSpec({ id: 'o', every: 60, overlap, function: 'pyrq_fixtures.tasks.slow', kwargs: { seconds } })],
    clock,
  );
  const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
  return async (min: number) => {
    clock.set(T + min * M);
    return (await d.tickOnce()).enqueued;
  };
}

/** The worker has called the task (`slow_start <job id>`). */
const ran = async (call: string) => taskCalls(out.path).some((c) => `${c.task} ${c.job_id}` === call);

const historyOf = async () =>
  (await readHistory(redis, keys, 'o', 20))
    .reverse()
    .map((h) => [h.occurrence.slice(11, 16), h.outcome, h.jobId ?? h.previousJobId, h.replacedJobId]);

describe('overlap replace', () => {
  it(
    'stops the started job through RQ (it ends stopped) and the new occurrence runs',
    { timeout: 60_000 },
    async () => {
      const tickAt = await setup('replace', 30);
      expect(await tickAt(1)).toBe(1);
      worker = startWorker(server.url, ['default'], out.path);
      await waitFor('the worker to run job(1)', async () => ran(`slow_start ${job(1)}`));
      expect(await status(job(1))).toBe('started');
      expect(await redis.hget(`rq:job:${job(1)}`, 'worker_name')).toBe(worker.name);

      expect(await tickAt(2)).toBe(1);
      await waitFor('job(1) to be stopped by its worker', async () => (await status(job(1))) === 'stopped');
      // RQ marks a job started before it calls the function: wait for the call itself.
      await waitFor('job(2) to run', async () => ran(`slow_start ${job(2)}`));
      await worker.stop();

      expect(await historyOf()).toEqual([
        ['12:01', 'enqueued', job(1), undefined],
        ['12:02', 'enqueued', job(2), job(1)],
      ]);
      // job(1) never reached its end; job(2) started after it.
      const calls = taskCalls(out.path).map((c) => `${c.task} ${c.job_id}`);
      expect(calls).toEqual([`slow_start ${job(1)}`, `slow_start ${job(2)}`]);
    },
  );

  it('cancels a queued job as RQ does: off the queue, status canceled, in the canceled registry', async () => {
    const tickAt = await setup('replace', 1);
    expect(await tickAt(1)).toBe(1);
    expect(await tickAt(2)).toBe(1);
    expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([job(2)]);
    expect(await status(job(1))).toBe('canceled');
    expect(await redis.zrange('rq:canceled:default', 0, -1)).toEqual([job(1)]);
    expect(await historyOf()).toEqual([
      ['12:01', 'enqueued', job(1), undefined],
      ['12:02', 'enqueued', job(2), job(1)],
    ]);
  });
});

describe('overlap buffer-one', () => {
  it(
    'holds one occurrence while the job runs, skips the others, and enqueues the held one when the job ends',
    { timeout: 60_000 },
    async () => {
      // Long enough that the three ticks below surely come while job(1) runs, even on a loaded machine.
      const tickAt = await setup('buffer-one', 6);
      expect(await tickAt(1)).toBe(1);
      worker = startWorker(server.url, ['default'], out.path);
      await waitFor('the worker to run job(1)', async () => ran(`slow_start ${job(1)}`));
      expect(await status(job(1))).toBe('started');
      expect(await tickAt(2)).toBe(0); // held
      expect(await tickAt(3)).toBe(0); // skipped: one is held already
      expect(await tickAt(4)).toBe(0);
      // The held job exists (so a second writer finds it) but no worker sees it yet.
      expect(await status(job(2))).toBe('deferred');
      expect(await redis.lrange('rq:queue:default', 0, -1)).toEqual([]);

      // The daemon's loop notices the end of job(1) by itself (it polls while something is held).
      const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() }, { maxSleepMs: 60_000 });
      await d.start();
      try {
        await waitFor('job(1) to finish', async () => (await status(job(1))) === 'finished');
        await waitFor('the held job(2) to run', async () => ran(`slow_start ${job(2)}`));
      } finally {
        await d.stop();
        await worker.stop();
      }
      expect(await historyOf()).toEqual([
        ['12:01', 'enqueued', job(1), undefined],
        ['12:02', 'buffered', job(2), undefined],
        ['12:03', 'skipped:overlap', job(1), undefined],
        ['12:04', 'skipped:overlap', job(1), undefined],
        ['12:02', 'enqueued', job(2), undefined],
      ]);
      expect(await redis.hget(keys.schedule('o'), 'lastJobId')).toBe(job(2));
      expect(await redis.hlen(keys.held)).toBe(0);
      const calls = taskCalls(out.path).map((c) => `${c.task} ${c.job_id}`);
      expect(calls).toEqual([`slow_start ${job(1)}`, `slow_end ${job(1)}`, `slow_start ${job(2)}`]);
    },
  );
});

describe('two dispatchers racing', () => {
  it('never enqueue twice for one occurrence, in every overlap mode', async () => {
    const modes = ['allow', 'forbid', 'buffer-one', 'replace'] as const;
    await applySpecs(
      redis,
      modes.map((overlap) => makeSpec({ id: `r-${overlap}`, every: 60, overlap })),
      clock,
    );
    const other = redis.duplicate();
    try {
      const a = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
      const b = new Dispatcher({ redis: other, keys, clock, config: dispatchConfig() });
      for (let min = 1; min <= 6; min++) {
        clock.set(T + min * M);
        await Promise.all([a.tickOnce(), b.tickOnce(), a.tickOnce(), b.tickOnce()]);
        // Jobs that ended let the next occurrence (or the held one) through.
        if (min === 3) for (const id of await redis.lrange('rq:queue:default', 0, -1)) await finish(id);
      }
      const queue = await redis.lrange('rq:queue:default', 0, -1);
      expect(new Set(queue).size).toBe(queue.length); // each RQ job pushed once
      for (const overlap of modes) {
        const runs = await readHistory(redis, keys, `r-${overlap}`, 50);
        const byOccurrence = new Map<string, string[]>();
        for (const r of runs.reverse())
          byOccurrence.set(r.occurrence, [...(byOccurrence.get(r.occurrence) ?? []), r.outcome]);
        // Six occurrences, each handled once: one record, or "buffered" and its release.
        expect(byOccurrence.size, overlap).toBe(6);
        for (const [occ, outcomes] of byOccurrence)
          expect(
            [['enqueued'], ['skipped:overlap'], ['buffered'], ['buffered', 'enqueued']],
            `${overlap} ${occ}`,
          ).toContainEqual(outcomes);
        const enqueued = runs.filter((r) => r.outcome === 'enqueued').map((r) => r.jobId);
        expect(new Set(enqueued).size, overlap).toBe(enqueued.length);
      }
    } finally {
      other.disconnect();
    }
  });
});

/** Marks a queued job finished as a worker would (off the queue, status finished). */
async function finish(jobId: string): Promise<void> {
  await redis.lrem('rq:queue:default', 0, jobId);
  await redis.hset(`rq:job:${jobId}`, 'status', 'finished');
}
