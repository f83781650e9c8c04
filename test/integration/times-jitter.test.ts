import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { readHistory } from '../../src/dispatch/history.js';
import { manualRun } from '../../src/dispatch/manual-run.js';
import { Keys } from '../../src/redis/keys.js';
import { Registry } from '../../src/registry/registry.js';
import { scheduledJobId } from '../../src/rq/job-id.js';
import { fireTimeOf } from '../../src/schedule/jitter.js';
import { statusRow } from '../../src/status/status-view.js';
import { pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';

let server: PrivateRedis;
let redis: Redis;
const T0 = Date.parse('2026-06-01T04:00:00Z');

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  await server.close();
});

/** Scheduled jobs of `id` that exist in RQ (manual runs have other ids). */
async function scheduledJobs(id: string, from: number, seconds: number): Promise<string[]> {
  const out: string[] = [];
  for (let s = 0; s <= seconds; s++) {
    const jobId = scheduledJobId(id, from + s * 1000);
    if (await redis.exists(`rq:job:${jobId}`)) out.push(jobId);
  }
  return out;
}

describe('times: a bounded schedule', () => {
  it('fires exactly N times across a restart and two racing daemons, then shows done; raising times resumes', async () => {
    const prefix = 'times:';
    const keys = new Keys(prefix);
    const clock = new ManualClock(T0);
    const spec = makeSpec({ id: 'thrice', every: 1, times: 3 });
    await applySpecs(redis, [spec], clock, prefix);
    const config = dispatchConfig();

    // The first daemon fires twice, then stops.
    const first = new Dispatcher({ redis, keys, clock, config });
    for (const s of [1, 2]) expect((await first.tickOnce(T0 + s * 1000)).enqueued).toBe(1);
    // A manual run does not count.
    clock.set(T0 + 2500);
    await manualRun({ redis, keys, clock, config }, 'thrice');
    // Two daemons (a restarted one with nothing cached, and another) race on every second after.
    const a = new Dispatcher({ redis, keys, clock, config });
    const b = new Dispatcher({ redis, keys, clock, config });
    for (let s = 3; s <= 8; s++) await Promise.all([a.tickOnce(T0 + s * 1000), b.tickOnce(T0 + s * 1000)]);

    expect(await scheduledJobs('thrice', T0, 8)).toEqual([1, 2, 3].map((s) => scheduledJobId('thrice', T0 + s * 1000)));
    expect(await redis.hmget(`${prefix}schedule:thrice`, 'fired', 'done')).toEqual(['3', '1']);
    expect(await redis.zscore(`${prefix}next`, 'thrice')).toBeNull();
    const registry = new Registry(redis, prefix);
    const [entry] = await registry.readEntries(['thrice']);
    const row = statusRow(entry!, T0 + 9000);
    expect(row).toMatchObject({
      next: null,
      nextRelative: 'done (3 of 3 runs)',
      done: true,
      times: { limit: 3, fired: 3 },
    });
    // Nothing more fires, and the deep read sees no drift (done, not a missing next fire time).
    expect((await a.tickOnce(T0 + 20_000)).enqueued).toBe(0);
    expect((await registry.readDeep(T0 + 20_000)).get('thrice')?.drift).toBeUndefined();
    // `pyrq next` shows none.
    const next = await pyrq(['next', 'thrice', '--json', '--redis-url', server.url, '--prefix', prefix]);
    expect(next.json()).toMatchObject({ times: [], note: 'done: 3 of 3 runs fired (times)' });

    // Raising times in the source resumes it; the count is kept.
    clock.set(T0 + 30_000);
    await applySpecs(redis, [makeSpec({ id: 'thrice', every: 1, times: 5 })], clock, prefix);
    expect(await redis.zscore(`${prefix}next`, 'thrice')).toBe(String(T0 + 31_000));
    for (let s = 31; s <= 35; s++) await a.tickOnce(T0 + s * 1000);
    expect(await scheduledJobs('thrice', T0 + 31_000, 4)).toEqual(
      [31, 32].map((s) => scheduledJobId('thrice', T0 + s * 1000)),
    );
    expect(await redis.hmget(`${prefix}schedule:thrice`, 'fired', 'done')).toEqual(['5', '1']);
    expect((await readHistory(redis, keys, 'thrice', 50)).filter((r) => r.outcome === 'enqueued')).toHaveLength(6);
  }, 60_000);
});

describe('jitter across daemons', () => {
  it('two computations store the same fire times; two racing dispatchers fire each occurrence once, with its job id, not before its fire time', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `herd-${i}`);
    const specs = ids.map((id) => makeSpec({ id, cron: '* * * * *', timezone: 'UTC', jitter: 30, queue: 'herd' }));
    const first = T0 + 60_000;
    // Two independent applies (two daemons' plans, at different times after 04:00's delays
    // ran out) agree on every fire time: 04:01's.
    await applySpecs(redis, specs, new ManualClock(T0 + 31_000), 'jit-a:');
    await applySpecs(redis, specs, new ManualClock(T0 + 45_000), 'jit-b:');
    const fireAt = new Map<string, number>();
    for (const id of ids) {
      const [sa, sb] = [await redis.zscore('jit-a:next', id), await redis.zscore('jit-b:next', id)];
      expect(sa).toBe(sb);
      expect(Number(sa)).toBe(fireTimeOf(specs[ids.indexOf(id)]!, first));
      fireAt.set(id, Number(sa));
    }
    // They spread over the window.
    expect(new Set(fireAt.values()).size).toBeGreaterThan(10);
    expect(Math.max(...fireAt.values()) - first).toBeLessThan(30_000);

    const keys = new Keys('jit-a:');
    const clock = new ManualClock(first);
    const config = dispatchConfig();
    const a = new Dispatcher({ redis, keys, clock, config });
    const b = new Dispatcher({ redis, keys, clock, config });
    for (let s = 0; s < 30; s++) {
      const now = first + s * 1000;
      await Promise.all([a.tickOnce(now), b.tickOnce(now)]);
      for (const id of ids) {
        const exists = (await redis.exists(`rq:job:${scheduledJobId(id, first)}`)) === 1;
        expect(exists, `${id} at +${s} s (fires at +${(fireAt.get(id)! - first) / 1000} s)`).toBe(
          fireAt.get(id)! <= now,
        );
      }
    }
    // Exactly one job each, queued once; the next stored time is the next minute's fire time.
    expect(await redis.llen('rq:queue:herd')).toBe(ids.length);
    for (const [i, id] of ids.entries())
      expect(Number(await redis.zscore('jit-a:next', id))).toBe(fireTimeOf(specs[i]!, first + 60_000));
  }, 60_000);
});
