/**
 * The dispatcher's idle-time warm-up: schedules due within the warm window are loaded
 * ahead of their first fire, a page of the window at a time, and reloaded when their
 * spec changes, once a burst of registry changes has settled.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { ScheduleCache } from '../../src/dispatch/schedule-cache.js';
import { specHash } from '../../src/model/spec-hash.js';
import { Keys } from '../../src/redis/keys.js';
import { eventually } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';

let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const clock = { now: () => Date.now() };

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());

const cacheOf = (d: Dispatcher) => (d as unknown as { cache: ScheduleCache }).cache;

describe('dispatcher warm-up', () => {
  it('loads a window larger than one page, and reloads a changed spec after changes settle', async () => {
    // Hourly schedules, so nothing fires during the test; 4,500 is more than two pages.
    const specs = Array.from({ length: 4500 }, (_, i) => makeSpec({ id: `w${i}`, every: 3600, kwargs: { i } }));
    await applySpecs(redis, specs, clock);
    const d = new Dispatcher(
      { redis, keys, clock, config: dispatchConfig() },
      { warmWindowMs: 2 * 3600_000, warmQuietMs: 300 },
    );
    await d.start();
    try {
      await eventually(async () => cacheOf(d).size === 4500, 'all 4,500 schedules warmed', 20_000);
      const changed = makeSpec({ id: 'w7', every: 3600, kwargs: { i: 'changed' } });
      await applySpecs(redis, [...specs.slice(0, 7), changed, ...specs.slice(8)], clock);
      await eventually(
        async () => cacheOf(d).get('w7')?.hash === specHash(changed),
        'the changed spec reloaded',
        10_000,
      );
      expect(cacheOf(d).get('w7')!.enc.description).toBe("pyrq_fixtures.tasks.echo(i='changed')");
      expect(cacheOf(d).size).toBe(4500);
    } finally {
      await d.stop();
    }
  });

  it('the sweep forgets what is not due before the horizon; it is loaded again when due', async () => {
    await redis.flushall();
    const now = Date.now();
    await applySpecs(
      redis,
      [
        makeSpec({ id: 'soon', every: 60 }),
        makeSpec({ id: 'later', at: new Date(now + 2 * 86_400_000).toISOString() }),
      ],
      clock,
    );
    const cache = new ScheduleCache(redis, keys, {});
    expect(await cache.load(['soon', 'later'])).toEqual([]);
    expect(await cache.dropUnscheduled(() => false, now + 5 * 60_000)).toBe(1);
    expect(cache.get('soon')?.spec).toMatchObject({
      every: 60,
      enabled: true,
      catchup: 'latest',
      function: 'pyrq_fixtures.tasks.echo',
    });
    expect(cache.get('later')).toBeUndefined();
  });
});
