import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { Keys } from '../../src/redis/keys.js';
import { scheduledJobId } from '../../src/rq/job-id.js';
import { eventually } from '../helpers/eventually.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { burstWorker, taskCalls } from '../helpers/rq-worker.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// `retry` is RQ's own: pyrq writes retries_left and retry_intervals into the job hash and a
// stock `rq worker` (RQ 1.13) does the rest. A retry with a wait goes to RQ's
// ScheduledJobRegistry, which only a worker started with --with-scheduler moves back.
let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const T = Date.parse('2026-06-01T04:00:00Z');

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  await server.close();
});

describe('retry with a real rq worker', () => {
  it('a raising task with 2 retries after 2 s and 3 s runs 3 times, the waits apart, then fails', async () => {
    const out = tmpDir();
    try {
      const clock = new ManualClock(T - 30_000);
      const spec = makeSpec({
        id: 'flaky',
        function: 'pyrq_fixtures.tasks.fail',
        cron: '0 4 * * *',
        timezone: 'UTC',
        retry: { max: 2, intervals: [2, 3] },
      });
      await applySpecs(redis, [spec], clock);
      clock.set(T);
      const d = new Dispatcher({ redis, keys, clock, config: dispatchConfig() });
      expect((await d.tickOnce()).enqueued).toBe(1);
      const jobKey = `rq:job:${scheduledJobId('flaky', T)}`;
      expect(await redis.hmget(jobKey, 'retries_left', 'retry_intervals')).toEqual(['2', '[2, 3]']);

      const runs = () => taskCalls(out.path).filter((c) => c.task === 'fail');
      for (let attempt = 1; attempt <= 3; attempt++) {
        if (attempt > 1) {
          // The retry waits in RQ's ScheduledJobRegistry until its time (RQ's own clock, this machine's).
          await eventually(
            async () => (await redis.zrangebyscore('rq:scheduled:default', '-inf', Date.now() / 1000)).length === 1,
            { message: `retry ${attempt - 1} due in rq:scheduled:default`, timeout: 20_000 },
          );
        }
        const w = await burstWorker(server.url, ['default'], out.path, { withScheduler: true });
        expect(w.code, w.output).toBe(0);
        expect(runs().length, w.output).toBe(attempt);
        const [status, left] = await redis.hmget(jobKey, 'status', 'retries_left');
        if (attempt < 3) {
          expect(status).toBe('scheduled');
          expect(left).toBe(String(2 - attempt));
        } else expect(status).toBe('failed');
      }
      expect(await redis.zscore('rq:failed:default', scheduledJobId('flaky', T))).not.toBeNull();
      expect(await redis.zcard('rq:scheduled:default')).toBe(0);
      // Each attempt was the same job, and each waited its interval after the one before, to
      // RQ's precision: ScheduledJobRegistry.schedule truncates the due time to a whole second
      // (calendar.timegm), so a wait of N s lasts more than N - 1 s.
      const r = runs();
      expect(new Set(r.map((c) => c.job_id))).toEqual(new Set([scheduledJobId('flaky', T)]));
      expect(r[1]!.ran_at - r[0]!.ran_at).toBeGreaterThan(1);
      expect(r[2]!.ran_at - r[1]!.ran_at).toBeGreaterThan(2);
    } finally {
      out.cleanup();
    }
  }, 90_000);
});
