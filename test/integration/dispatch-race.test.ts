import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/redis/keys.js';
import { ROOT } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { applySpecs, makeSpec } from '../helpers/schedules.js';

// Two dispatchers in separate processes on one Redis, firing per-second schedules for
// 20 seconds: the queue must hold exactly one job per occurrence, no gaps, no duplicates.
let server: PrivateRedis;
let redis: Redis;
const keys = new Keys();
const SCHEDULES = 50;
const SECONDS = 20;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'reconcilers', 'dispatcher.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());

function dispatcherProcess(seconds: number): Promise<{ pid: number; ticks: number; enqueued: number; notDue: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, 'test', 'helpers', 'dispatcher-process.mjs'), server.url, String(seconds)],
      { timeout: (seconds + 30) * 1000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`dispatcher process failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

describe('two dispatchers racing', () => {
  it(
    `fire ${SCHEDULES} per-second schedules for ${SECONDS} s: one job per occurrence, no gaps, no duplicates`,
    { timeout: 120_000 },
    async () => {
      // Starts in 3 s (both processes are up by then) and ends 20 occurrences later.
      // catchup "all": a process that stalls for a moment still fires what it missed, so a
      // gap could only come from a lost occurrence, never from the policy.
      const start = Math.ceil(Date.now() / 1000) * 1000 + 3000;
      const end = start + SECONDS * 1000;
      const ids = Array.from({ length: SCHEDULES }, (_, i) => `race.${i}`);
      const clock = { now: () => Date.now() };
      await applySpecs(
        redis,
        ids.map((id) =>
          makeSpec({
            id,
            every: 1,
            startAt: new Date(start).toISOString(),
            endAt: new Date(end).toISOString(),
            catchup: 'all',
          }),
        ),
        clock,
      );

      const [a, b] = await Promise.all([dispatcherProcess(SECONDS + 6), dispatcherProcess(SECONDS + 6)]);

      const queue = await redis.lrange('rq:queue:default', 0, -1);
      // The expected ids spelled out (not derived with the function under test): schedule
      // "race.7" at 2026-06-01T12:00:03Z is pyrq_race_o7_20260601T120003Z.
      const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace('.000', '');
      const expected = Array.from({ length: SCHEDULES }, (_, i) =>
        Array.from({ length: SECONDS }, (_, s) => `pyrq_race_o${i}_${compact(start + s * 1000)}`),
      ).flat();
      expect(expected).toHaveLength(SCHEDULES * SECONDS);
      expect(new Set(queue).size).toBe(queue.length); // no duplicates
      expect([...queue].sort()).toEqual([...expected].sort()); // no gaps, nothing else
      expect(a.enqueued + b.enqueued).toBe(SCHEDULES * SECONDS);
      // Every schedule ran to its end and recorded each occurrence once.
      for (const id of ids) {
        expect(await redis.zscore(keys.next, id)).toBeNull();
        const runs = (await redis.lrange(keys.runs(id), 0, -1)).map((r) => JSON.parse(r));
        expect(runs.map((r) => r.outcome)).toEqual(Array(SECONDS).fill('enqueued'));
      }
      // Report how the work was shared (both processes tried; which one wins is luck).
      console.info(`race: A enqueued ${a.enqueued} (lost ${a.notDue}), B enqueued ${b.enqueued} (lost ${b.notDue})`);
    },
  );
});
