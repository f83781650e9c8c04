/**
 * The outcome reader at 1,000 jobs/s (issue 23): jobs "finish" as RQ leaves them (the job
 * hash with status, enqueued_at, started_at, ended_at; pyrq's pending set entry, as the
 * fire script adds it) at a steady rate, 100 every 100 ms over 1,000 schedules, while
 * the leader's loop (reconcilers/outcome-loop.ts, a pass every second) reads them.
 * Figures: Redis's own time per job (INFO commandstats: the reader's commands, usec),
 * and the lag from a job's ended_at to the pass that learnt it.
 */
import { OutcomeLoop } from '../reconcilers/outcome-loop.js';
import { systemClock } from '../src/clock.js';
import { Keys, RqKeys } from '../src/redis/keys.js';
import { scheduledJobId } from '../src/rq/job-id.js';
import { rqTimestamp } from '../src/rq/job-encoding.js';
import { createLogger } from '../src/log.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure, percentile } from './report.js';
import type { Redis } from 'ioredis';

// The commands the reader sends (those inside its script are counted in evalsha).
const READER_COMMANDS = ['evalsha', 'eval', 'hmget', 'zrangebyscore', 'xrevrange'];

/** Redis's own time (usec) in the reader's commands, each, and their sum. */
async function commandUsec(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const out = new Map<string, number>([['total', 0]]);
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=\d+,usec=(\d+)/gm))
    if (READER_COMMANDS.includes(m[1]!)) {
      out.set(m[1]!, Number(m[2]));
      out.set('total', out.get('total')! + Number(m[2]));
    }
  return out;
}

export async function outcomesScenario(o: {
  redis: BenchRedis;
  admin: Redis;
  runs: number;
  seconds: number;
  log: (m: string) => void;
}): Promise<Figure[]> {
  const keys = new Keys();
  const perRun: { usecPerJob: number[]; p50: number[]; p99: number[] } = { usecPerJob: [], p50: [], p99: [] };
  for (let run = 0; run < o.runs; run++) {
    await o.admin.flushall();
    const schedules = Array.from({ length: 1000 }, (_, i) => `bench-outcome-${i}`);
    const setup = o.admin.pipeline();
    for (const id of schedules)
      setup.hset(keys.schedule(id), 'spec', '{}', 'hash', 'h', 'source', 'files', 'origin', 'x');
    await setup.exec();
    const lags: number[] = [];
    const reader = o.redis.client();
    const loop = new OutcomeLoop({
      redis: reader,
      keys,
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
      observer: {
        observeOutcomes(pass, now) {
          for (const x of pass.outcomes) if (x.endedAt !== null) lags.push(now - x.endedAt);
        },
      },
    });
    const before = await commandUsec(o.admin);
    loop.start();
    const total = o.seconds * 1000;
    let made = 0;
    const t0 = Date.now();
    for (let tick = 0; made < total; tick++) {
      const now = Date.now();
      const p = o.admin.pipeline();
      for (let j = 0; j < 100 && made < total; j++, made++) {
        const id = schedules[made % schedules.length]!;
        const jobId = scheduledJobId(id, Math.floor(t0 / 1000) * 1000 + Math.floor(made / schedules.length) * 1000);
        p.hset(
          RqKeys.job(jobId),
          'status',
          'finished',
          'enqueued_at',
          rqTimestamp(now - 50),
          'started_at',
          rqTimestamp(now - 20),
          'ended_at',
          rqTimestamp(now),
        );
        p.zadd(keys.outcomesPending, now - 50, jobId);
      }
      await p.exec();
      const next = t0 + (tick + 1) * 100;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    // Until every job was learnt.
    const deadline = Date.now() + 30_000;
    while ((await o.admin.zcard(keys.outcomesPending)) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await loop.stop();
    const after = await commandUsec(o.admin);
    const usec = after.get('total')! - before.get('total')!;
    const each = [...after]
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k} ${((v - (before.get(k) ?? 0)) / total).toFixed(1)}`);
    reader.disconnect();
    perRun.usecPerJob.push(usec / total);
    perRun.p50.push(percentile(lags, 50));
    perRun.p99.push(percentile(lags, 99));
    o.log(
      `outcomes run ${run + 1}: ${total} jobs, ${(usec / total).toFixed(1)} µs of Redis per job, lag p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms (${lags.length} learnt; µs per job by command: ${each.join(', ')})`,
    );
  }
  return [
    figure('outcomes', 'Redis time per job (reader)', 'µs', perRun.usecPerJob),
    figure('outcomes', 'lag ended_at → learnt, p50', 'ms', perRun.p50),
    figure('outcomes', 'lag ended_at → learnt, p99', 'ms', perRun.p99),
  ];
}
