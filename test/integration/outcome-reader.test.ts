import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readOutcomesOnce } from '../../src/dispatch/outcome-reader.js';
import { readHistory } from '../../src/dispatch/history.js';
import { Keys, RqKeys } from '../../src/redis/keys.js';
import { rqTimestamp } from '../../src/rq/job-encoding.js';
import { scheduledJobId } from '../../src/rq/job-id.js';
import { useRedis } from '../helpers/redis-server.js';

// The outcome reader against RQ's records as RQ leaves them (no worker: the job hashes
// are written here), for the cases a worker run cannot stage on demand.
const ctx = useRedis();
const keys = new Keys();
const T = Date.parse('2026-06-01T12:00:00Z');

/** A schedule hash, a run record naming the job, and the job in the pending set. */
async function enqueued(id: string, occurrence: number): Promise<string> {
  const jobId = scheduledJobId(id, occurrence);
  await ctx.redis.hset(keys.schedule(id), 'hash', 'h', 'spec', '{}');
  await ctx.redis.lpush(
    keys.runs(id),
    JSON.stringify({ trigger: 'schedule', at: occurrence, occurrence, latenessMs: 0, outcome: 'enqueued', jobId }),
  );
  await ctx.redis.zadd(keys.outcomesPending, occurrence, jobId);
  return jobId;
}

async function ran(jobId: string, status: string, startMs: number, endMs: number, extra: (string | Buffer)[] = []) {
  await ctx.redis.hset(
    RqKeys.job(jobId),
    'status',
    status,
    'enqueued_at',
    rqTimestamp(startMs - 10),
    'started_at',
    rqTimestamp(startMs),
    'ended_at',
    rqTimestamp(endMs),
    ...extra,
  );
}

describe('outcome reader', () => {
  it('a job RQ deleted before pyrq read it is unknown: neither a success nor a failure', async () => {
    const jobId = await enqueued('gone', T);
    const pass = await readOutcomesOnce(ctx.redis, keys, T + 5000);
    expect(pass).toMatchObject({ read: 1, applied: 1 });
    const h = await ctx.redis.hgetall(keys.schedule('gone'));
    expect(h).toMatchObject({ jobOutcome: 'unknown', jobOutcomeJobId: jobId, recentOutcomes: 'u' });
    expect(h.lastSuccessAt).toBeUndefined();
    expect(h.consecutiveFailures).toBeUndefined();
    expect((await readHistory(ctx.redis, keys, 'gone', 5))[0]).toMatchObject({
      result: 'unknown',
      jobStatus: 'expired',
    });
    expect(await ctx.redis.zcard(keys.outcomesPending)).toBe(0);
  });

  it('records each final outcome exactly once, however many readers race', async () => {
    const ids = [];
    for (let i = 0; i < 50; i++) {
      const jobId = await enqueued('race', T + i * 1000);
      await ran(jobId, 'failed', T + i * 1000, T + i * 1000 + 5, ['exc_info', deflateSync('ValueError: x')]);
      ids.push(jobId);
    }
    const passes = await Promise.all([1, 2, 3].map(() => readOutcomesOnce(ctx.redis, keys, T + 60_000)));
    expect(passes.reduce((n, p) => n + p.applied, 0)).toBe(50);
    expect(await ctx.redis.hget(keys.schedule('race'), 'consecutiveFailures')).toBe('50');
  });

  it('takes the exception from exc_info (RQ < 1.12, or Redis < 5) and from the results stream', async () => {
    const a = await enqueued('old-rq', T);
    await ctx.redis.hset(RqKeys.job(a), 'status', 'failed', 'exc_info', deflateSync("Traceback...\nKeyError: 'k'\n"));
    const b = await enqueued('new-rq', T);
    await ran(b, 'failed', T, T + 20);
    await ctx.redis.xadd(
      RqKeys.results(b),
      '*',
      'type',
      '2',
      'exc_string',
      deflateSync('Traceback...\nOSError: disk\n').toString('base64'),
    );
    await readOutcomesOnce(ctx.redis, keys, T + 1000);
    expect(await ctx.redis.hget(keys.schedule('old-rq'), 'failureSummary')).toBe("KeyError: 'k'");
    expect(await ctx.redis.hget(keys.schedule('new-rq'), 'failureSummary')).toBe('OSError: disk');
    expect((await readHistory(ctx.redis, keys, 'new-rq', 5))[0]).toMatchObject({
      result: 'failed',
      durationMs: 20,
      error: 'OSError: disk',
    });
  });

  it('a waiting job is looked at again later; an older outcome never replaces a newer one', async () => {
    const older = await enqueued('order', T);
    const newer = await enqueued('order', T + 60_000);
    await ctx.redis.hset(RqKeys.job(older), 'status', 'started', 'enqueued_at', rqTimestamp(T));
    await ran(newer, 'finished', T + 60_000, T + 61_000);
    await readOutcomesOnce(ctx.redis, keys, T + 62_000);
    expect(await ctx.redis.hget(keys.schedule('order'), 'jobOutcomeJobId')).toBe(newer);
    // Still started: back in the set, due after half its age (31 s).
    expect(Number(await ctx.redis.zscore(keys.outcomesPending, older))).toBe(T + 62_000 + 31_000);
    expect((await readOutcomesOnce(ctx.redis, keys, T + 62_000)).read).toBe(0);
    await ran(older, 'failed', T, T + 70_000);
    await readOutcomesOnce(ctx.redis, keys, T + 100_000);
    const h = await ctx.redis.hgetall(keys.schedule('order'));
    expect(h).toMatchObject({ jobOutcome: 'finished', jobOutcomeJobId: newer, recentOutcomes: 'sf' });
    expect(h.lastSuccessAt).toBe(String(T + 61_000));
  });

  it('counts failures in a row by run, whatever order their outcomes are learnt in', async () => {
    // The reader looks at a waiting job again after half its age, so an older job's
    // outcome often comes after a newer one's (job-outcomes.test.ts once saw "bad" with
    // two failed jobs and a streak of 1). Each pass here reads only the job made due.
    const job = async (i: number, status: 'failed' | 'finished') => {
      const id = await enqueued('streak', T + i * 1000);
      await ran(
        id,
        status,
        T + i * 1000,
        T + i * 1000 + 5,
        status === 'failed' ? ['exc_info', deflateSync('E: x')] : [],
      );
      await ctx.redis.zadd(keys.outcomesPending, T + 1e9, id); // not due until learn() says so
      return id;
    };
    const learn = async (id: string) => {
      await ctx.redis.zadd(keys.outcomesPending, T, id);
      expect((await readOutcomesOnce(ctx.redis, keys, T + 100_000)).applied).toBe(1);
      return Number(await ctx.redis.hget(keys.schedule('streak'), 'consecutiveFailures'));
    };
    const [s0, f1, f2, s3, f4] = [
      await job(0, 'finished'),
      await job(1, 'failed'),
      await job(2, 'failed'),
      await job(3, 'finished'),
      await job(4, 'failed'),
    ];
    expect(await learn(f2)).toBe(1);
    expect(await learn(f1)).toBe(2); // the older failure, learnt second, is in the streak
    expect(await learn(s0)).toBe(2); // a success before both, learnt last, ends nothing
    expect(await learn(f4)).toBe(3);
    expect(await learn(s3)).toBe(1); // the success after 1 and 2 leaves only 4 in the streak
    const h = await ctx.redis.hgetall(keys.schedule('streak'));
    expect(h).toMatchObject({ jobOutcomeJobId: f4, jobOutcome: 'failed', lastSuccessRun: String(T + 3000) });
  });

  it('a streak longer than the failures it records keeps counting, and a newer success ends it', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const id = await enqueued('long', T + i * 1000);
      await ran(id, 'failed', T + i * 1000, T + i * 1000 + 5, ['exc_info', deflateSync('E: x')]);
      ids.push(id);
    }
    await readOutcomesOnce(ctx.redis, keys, T + 100_000);
    const h = await ctx.redis.hgetall(keys.schedule('long'));
    expect(h.consecutiveFailures).toBe('30');
    expect(h.failureRuns!.split(',')).toHaveLength(20);
    const ok = await enqueued('long', T + 31_000);
    await ran(ok, 'finished', T + 31_000, T + 31_005);
    await readOutcomesOnce(ctx.redis, keys, T + 100_000);
    expect(await ctx.redis.hget(keys.schedule('long'), 'consecutiveFailures')).toBe('0');
  });

  it('a streak field edited outside pyrq does not stop outcomes being recorded', async () => {
    const id = await enqueued('edited', T);
    await ran(id, 'failed', T, T + 5, ['exc_info', deflateSync('E: x')]);
    await ctx.redis.hset(keys.schedule('edited'), 'failureRuns', 'x,,{}', 'consecutiveFailures', '1');
    expect((await readOutcomesOnce(ctx.redis, keys, T + 100_000)).applied).toBe(1);
    const h = await ctx.redis.hgetall(keys.schedule('edited'));
    expect(h).toMatchObject({ jobOutcome: 'failed', consecutiveFailures: '2', failureRuns: String(T) });
  });

  it("a deleted schedule's late outcome is dropped, not written into a new hash", async () => {
    const jobId = await enqueued('deleted', T);
    await ran(jobId, 'finished', T, T + 5);
    await ctx.redis.del(keys.schedule('deleted'), keys.runs('deleted'));
    expect((await readOutcomesOnce(ctx.redis, keys, T + 1000)).applied).toBe(1);
    expect(await ctx.redis.exists(keys.schedule('deleted'), keys.runs('deleted'))).toBe(0);
  });
});
