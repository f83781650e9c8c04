import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseJobId } from '../../src/rq/job-id.js';
import { startDaemon } from '../helpers/daemon.js';
import { startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The daemon's dispatcher runs on a thread of its own (reconcilers/dispatcher-thread.ts):
// nothing the main thread does (a long reconcile, a full collection of its heap) holds a
// fire. The test hook PYRQ_TEST_BLOCK_MAIN_MS makes SIGUSR2 block the main thread.
const BLOCK_MS = 1500;

describe('the dispatcher thread', () => {
  it('fires an occurrence that falls inside a 1.5 s block of the main thread within that block', async () => {
    const server = await startRedis();
    onTestFinished(() => server.close());
    const dir = tmpDir();
    onTestFinished(() => dir.cleanup());
    const schedules = join(dir.path, 'schedules');
    mkdirSync(schedules);
    writeFileSync(join(schedules, 'tick.json'), JSON.stringify({ id: 'tick', function: 'app.tasks.tick', every: 1 }));
    const d = await startDaemon(['--dir', schedules, '--redis-url', server.url], {
      socket: join(dir.path, 'd.sock'),
      env: { PYRQ_TEST_BLOCK_MAIN_MS: String(BLOCK_MS) },
    });
    onTestFinished(async () => void (await d.stop('SIGKILL')));
    // Firing: two jobs enqueued, so the thread's loop is past its first tick.
    await d.waitForLog((l) => l.msg === 'job enqueued', 15_000);
    const seen = d.logs.filter((l) => l.msg === 'job enqueued').length;
    await d.waitForLog((l) => l.msg === 'job enqueued' && d.logs.filter((x) => x.msg === 'job enqueued').length > seen);

    d.proc.kill('SIGUSR2');
    const blocked = await d.waitForLog((l) => l.msg === 'main thread blocked (test hook)', 15_000);
    const from = blocked.from as number;
    const until = blocked.until as number;
    expect(until - from).toBeGreaterThanOrEqual(BLOCK_MS - 50);

    // Each job's enqueue time, from Redis (the log lines of the block may be written late).
    const redis = new Redis(server.url);
    onTestFinished(() => redis.disconnect());
    const ids = await redis.lrange('rq:queue:default', 0, -1);
    const inside: { occurrence: number; enqueuedAt: number }[] = [];
    for (const id of ids) {
      const [enqueuedAt] = await redis.hmget(`rq:job:${id}`, 'enqueued_at');
      const occurrence = parseJobId(id)?.time ?? NaN;
      const at = Date.parse(String(enqueuedAt));
      // An occurrence well inside the block (at least 200 ms before its end).
      if (occurrence > from && occurrence < until - 200) inside.push({ occurrence, enqueuedAt: at });
    }
    // A 1.5 s block holds at least one whole-second occurrence 200 ms before its end.
    expect(inside.length).toBeGreaterThan(0);
    // Enqueued while the main thread was still blocked: it was not the main thread that fired.
    for (const j of inside) expect(j.enqueuedAt).toBeLessThan(until);
  }, 60_000);
});
