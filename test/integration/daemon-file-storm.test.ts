import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 22: after a file storm every removed file's schedules leave the registry, without
// waiting for the 15-minute deep re-sync (the bench's storm saw 5 of 2,000 stay behind).
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let daemon: DaemonProcess | undefined;
let schedules: string;

const sched = (id: string) => JSON.stringify({ id, function: 'app.tasks.storm', every: 3600 });

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
  dir = tmpDir();
  schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  dir.cleanup();
});

/** Ids in the registry besides `keep`. */
async function leftOver(): Promise<string[]> {
  return (await redis.hkeys('pyrq:index')).filter((id) => id !== 'keep').sort();
}

/**
 * Puts `id`'s registry entry back exactly as `saved` holds it, behind the daemon's back:
 * the state a removal leaves when its delete never lands (the file is gone, the daemon
 * knows it, the registry still holds the schedule). Raw writes announce nothing, so only
 * a reconcile that compares the directory with the whole registry takes it out again.
 */
async function restoreEntry(id: string, saved: { index: string; hash: Record<string, string>; next: string | null }) {
  await redis.hset('pyrq:index', id, saved.index);
  await redis.hset(`pyrq:schedule:${id}`, saved.hash);
  if (saved.next !== null) await redis.zadd('pyrq:next', saved.next, id);
}

describe('a file storm against the daemon', () => {
  it(
    'once a storm is over, the registry matches the directory again, even an entry whose delete never landed',
    {
      timeout: 600_000,
    },
    async () => {
      writeFileSync(join(schedules, 'keep.json'), sched('keep'));
      writeFileSync(join(schedules, 'lost.json'), sched('lost'));
      daemon = await startDaemon(['--dir', schedules, '--redis-url', server.url], {
        socket: join(dir.path, 'pyrq.sock'),
      });
      await eventually(async () => (await redis.hlen('pyrq:index')) === 2, 'keep and lost applied', 60_000);
      const saved = {
        index: (await redis.hget('pyrq:index', 'lost'))!,
        hash: await redis.hgetall('pyrq:schedule:lost'),
        next: await redis.zscore('pyrq:next', 'lost'),
      };
      rmSync(join(schedules, 'lost.json'));
      await eventually(async () => (await redis.hexists('pyrq:index', 'lost')) === 0, 'lost deleted', 60_000);
      await restoreEntry('lost', saved);
      // A storm: 1,500 files come and go (each one's own events are seen).
      const names = Array.from({ length: 1500 }, (_, i) => `s${i}.json`);
      for (const name of names) writeFileSync(join(schedules, name), sched(name.replace('.json', '')));
      await eventually(async () => (await redis.hlen('pyrq:index')) >= names.length + 1 || undefined, {
        message: 'the storm applied',
        timeout: 180_000,
        every: 250,
      });
      for (const name of names) rmSync(join(schedules, name));
      await eventually(async () => (await leftOver()).length === 0, {
        message: 'the storm and the stray entry gone from the registry',
        timeout: 120_000,
        every: 500,
      }).catch(async (e) => {
        throw new Error(`${(e as Error).message}; left: ${(await leftOver()).slice(0, 20).join(', ')}`);
      });
      expect(await redis.hexists('pyrq:index', 'keep')).toBe(1);
    },
  );
});
