import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { readHistory } from '../../src/dispatch/history.js';
import { Keys } from '../../src/redis/keys.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';

// Downtime, then one tick: what each catch-up policy fires and records.
let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');
const M = 60_000;
const clock = new ManualClock(T);

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
  clock.set(T);
});

/** Applies one every-minute schedule at T, then ticks once after `downMs` of downtime. */
async function afterDowntime(fields: Record<string, unknown>, downMs: number, historyLength = 50, graceMs?: number) {
  await applySpecs(redis, [makeSpec({ id: 'm', every: 60, ...fields })], clock);
  clock.set(T + downMs);
  const tick = await new Dispatcher({
    redis,
    keys,
    clock,
    config: dispatchConfig({ historyLength, graceMs }),
  }).tickOnce();
  const history = (await readHistory(redis, keys, 'm', historyLength)).reverse();
  return {
    tick,
    jobs: await redis.lrange('rq:queue:default', 0, -1),
    outcomes: history.map((h) => `${h.occurrence.slice(11, 16)} ${h.outcome}`),
    next: Number(await redis.zscore(keys.next, 'm')),
  };
}

const job = (hhmm: string) => `pyrq_m_20260601T${hhmm.replace(':', '')}00Z`;

describe('catch-up after downtime (down 12:00:30 .. 12:05:30)', () => {
  const down = 5 * M + 30_000;

  it('skip: nothing missed fires; every missed occurrence is recorded skipped:missed', async () => {
    const r = await afterDowntime({ catchup: 'skip' }, down);
    expect(r.jobs).toEqual([]);
    expect(r.outcomes).toEqual([
      '12:01 skipped:missed',
      '12:02 skipped:missed',
      '12:03 skipped:missed',
      '12:04 skipped:missed',
      '12:05 skipped:missed',
    ]);
    expect(r.next).toBe(T + 6 * M);
  });

  it('latest (the default): only the most recent missed occurrence fires, once', async () => {
    const r = await afterDowntime({}, down);
    expect(r.jobs).toEqual([job('12:05')]);
    expect(r.outcomes).toEqual([
      '12:01 skipped:missed',
      '12:02 skipped:missed',
      '12:03 skipped:missed',
      '12:04 skipped:missed',
      '12:05 enqueued',
    ]);
    expect(r.next).toBe(T + 6 * M);
  });

  it('all: every missed occurrence fires, oldest first', async () => {
    const r = await afterDowntime({ catchup: 'all' }, down);
    expect(r.jobs).toEqual(['12:01', '12:02', '12:03', '12:04', '12:05'].map(job));
    expect(r.outcomes.every((o) => o.endsWith('enqueued'))).toBe(true);
  });

  it('all: at most 100; the older ones are one aggregate skipped:missed record with a count', async () => {
    const r = await afterDowntime({ catchup: 'all' }, 150 * M + 30_000, 200);
    expect(r.jobs).toHaveLength(100);
    expect(r.jobs[0]).toBe(job('12:51'));
    expect(r.jobs.at(-1)).toBe(job('14:30'));
    const [agg] = await redis.lrange(keys.runs('m'), -1, -1);
    expect(JSON.parse(agg!)).toMatchObject({
      occurrence: T + M,
      until: T + 50 * M,
      count: 49,
      outcome: 'skipped:missed',
    });
    expect(r.outcomes[1]).toBe('12:50 skipped:missed');
  });

  it('startingDeadline: occurrences later than the deadline are recorded skipped:deadline, whatever the policy', async () => {
    const r = await afterDowntime({ catchup: 'all', startingDeadline: 120 }, down);
    // 12:05 and 12:04 are 30 s and 90 s late: within 120 s; the rest are not.
    expect(r.jobs).toEqual([job('12:04'), job('12:05')]);
    expect(r.outcomes).toEqual([
      '12:01 skipped:deadline',
      '12:02 skipped:deadline',
      '12:03 skipped:deadline',
      '12:04 enqueued',
      '12:05 enqueued',
    ]);
    const late = await afterDowntimeAgain({ startingDeadline: 10 });
    expect(late.jobs).toEqual([]);
    expect(late.outcomes.at(-1)).toBe('12:05 skipped:deadline');
  });

  it('a short hiccup is not downtime: occurrences up to 5 s late fire under every policy', async () => {
    const r = await afterDowntime({ catchup: 'skip', every: 1 }, 4_000);
    expect(r.jobs).toHaveLength(4); // 12:00:01 .. 12:00:04
    expect(r.outcomes.every((o) => o.endsWith('enqueued'))).toBe(true);
  });
});

async function afterDowntimeAgain(fields: Record<string, unknown>) {
  await redis.flushall();
  clock.set(T);
  return afterDowntime(fields, 5 * M + 30_000);
}

describe('grace (dispatch.grace)', () => {
  it('an occurrence 8 s late is missed with the default 5 s grace, on time with a 10 s grace', async () => {
    const late = 60_000 + 8_000;
    const strict = await afterDowntime({ catchup: 'skip' }, late);
    expect(strict.outcomes).toEqual(['12:01 skipped:missed']);
    await redis.flushall();
    clock.set(T);
    const lenient = await afterDowntime({ catchup: 'skip' }, late, 50, 10_000);
    expect(lenient.outcomes).toEqual(['12:01 enqueued']);
    expect(lenient.jobs).toEqual([job('12:01')]);
  });
});
