import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { Keys } from '../../src/redis/keys.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';

// A cron schedule runs in its own timezone. Through a DST change, a controlled clock
// steps in 15-minute ticks (every occurrence below falls on one, so nothing is late)
// and the test collects the jobs. Vixie cron rules: a fixed time inside the
// spring-forward gap fires once at the first valid instant after it; a fixed time
// inside the repeated fall-back hour fires once, at its first occurrence.
let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const clock = new ManualClock(0);

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());
beforeEach(async () => redis.flushall());

/** The occurrences (UTC) a cron schedule fires between two instants. */
async function fired(cron: string, timezone: string, from: string, to: string): Promise<string[]> {
  clock.set(Date.parse(from));
  await applySpecs(redis, [makeSpec({ id: 'dst', cron, timezone })], clock);
  const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
  for (let t = Date.parse(from); t <= Date.parse(to); t += 15 * 60_000) {
    clock.set(t);
    await d.tickOnce();
  }
  const runs = (await redis.lrange(keys.runs('dst'), 0, -1)).map((r) => JSON.parse(r)).reverse();
  expect(runs.every((r) => r.outcome === 'enqueued' && r.latenessMs === 0)).toBe(true);
  const jobs = await redis.lrange('rq:queue:default', 0, -1);
  expect(jobs).toHaveLength(runs.length);
  return runs.map((r) => new Date(r.occurrence).toISOString().replace('.000Z', 'Z'));
}

describe('timezones and DST', () => {
  it('America/New_York spring forward (2026-03-08, 02:00 -> 03:00): 02:30 fires once, at 03:00 EDT', async () => {
    expect(await fired('30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T07:30:00Z', // 02:30 EST
      '2026-03-08T07:00:00Z', // 02:30 does not exist: 03:00 EDT
      '2026-03-09T06:30:00Z', // 02:30 EDT
    ]);
  });

  it('America/New_York fall back (2026-11-01, 01:00-02:00 twice): 01:30 fires once, not twice', async () => {
    expect(await fired('30 1 * * *', 'America/New_York', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      '2026-10-31T05:30:00Z', // 01:30 EDT
      '2026-11-01T05:30:00Z', // 01:30 EDT, the first of the two
      '2026-11-02T06:30:00Z', // 01:30 EST
    ]);
  });

  it('Europe/Berlin spring forward (2026-03-29, 02:00 -> 03:00): 02:30 fires once, at 03:00 CEST', async () => {
    expect(await fired('30 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
      '2026-03-28T01:30:00Z', // 02:30 CET
      '2026-03-29T01:00:00Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00Z', // 02:30 CEST
    ]);
  });

  it('Europe/Berlin fall back (2026-10-25, 02:00-03:00 twice): 02:30 fires once, not twice', async () => {
    expect(await fired('30 2 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z')).toEqual([
      '2026-10-24T00:30:00Z', // 02:30 CEST
      '2026-10-25T00:30:00Z', // 02:30 CEST, the first of the two
      '2026-10-26T01:30:00Z', // 02:30 CET
    ]);
  });

  it('an hourly wildcard schedule keeps firing every real hour through the fall-back day', async () => {
    const occ = await fired('0 * * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T03:00:00Z');
    expect(occ).toEqual([
      '2026-10-24T23:00:00Z',
      '2026-10-25T00:00:00Z',
      '2026-10-25T01:00:00Z',
      '2026-10-25T02:00:00Z',
      '2026-10-25T03:00:00Z',
    ]);
  });
});
