import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, eventually } from '../helpers/daemon.js';
import { firedSince, queuedOccurrences } from '../helpers/faults.js';
import { useDaemonWorld } from '../helpers/daemon-world.js';

// Issue 12, point 1: a restarted daemon fires nothing from the old registry before its
// first reconcile, so what changed in the sources while pyrq was down never fires in
// its old form. Real daemons, real files, a private Redis.
let redis: Redis;
let schedules: string;
// Each test has its own Redis, directory and daemons (useDaemonWorld).
const w = useDaemonWorld();

beforeEach(() => {
  ({ redis, schedules } = w.world);
});

const daemon = (name: string): Promise<DaemonProcess> => w.daemon(name);

const write = (id: string, v: number) =>
  writeFileSync(
    join(schedules, `${id}.json`),
    JSON.stringify({ id, function: 'app.tasks.run', every: 1, catchup: 'all', kwargs: { v } }),
  );

/** Waits until the stored next fire time of every id is more than a second in the past: occurrences were missed while down. */
const overdue = (ids: string[]) =>
  eventually(
    async () => {
      for (const id of ids) {
        const next = await redis.zscore('pyrq:next', id);
        if (next === null || Number(next) > Date.now() - 1000) return false;
      }
      return true;
    },
    `${ids.join(', ')} overdue`,
    10_000,
    100,
  );

/** The index of the first log line matching `pred` (-1: none). */
const at = (d: DaemonProcess, pred: (l: Record<string, unknown>) => boolean) => d.logs.findIndex(pred);

describe('start-up safety', () => {
  it('delete-while-down and edit-while-down: after start, no job of the deleted id, and every job carries the new kwargs', async () => {
    write('keep', 1);
    write('gone', 1);
    const first = await daemon('first');
    await firedSince(redis, 'default', 'keep', 0, 2);
    await firedSince(redis, 'default', 'gone', 0, 2);
    expect(await first.stop()).toBe(0);
    const queuedBefore = new Set(await redis.lrange('rq:queue:default', 0, -1));
    const goneBefore = await queuedOccurrences(redis, 'default', 'gone');
    // While pyrq is down: one schedule is deleted from its file, the other edited.
    rmSync(join(schedules, 'gone.json'));
    write('keep', 2);
    await overdue(['keep', 'gone']);

    const second = await daemon('second');
    const started = Date.now();
    await second.waitForLog((l) => l.msg === 'reconcile' && l.deleted === 1 && l.updated === 1, 10_000);
    await firedSince(redis, 'default', 'keep', Math.ceil(started / 1000) * 1000, 2);
    // The deleted schedule fired nothing after start, not even what it missed while down.
    expect(await queuedOccurrences(redis, 'default', 'gone')).toEqual(goneBefore);
    expect(await redis.exists('pyrq:schedule:gone', 'pyrq:runs:gone')).toBe(0);
    // Every job enqueued after start (the missed occurrences caught up included) has v=2.
    const fresh = (await redis.lrange('rq:queue:default', 0, -1)).filter((j) => !queuedBefore.has(j));
    expect(fresh.length).toBeGreaterThan(2); // the catch-up of the occurrences missed while down, then the live ones
    for (const jobId of fresh)
      expect(await redis.hget(`rq:job:${jobId}`, 'description'), jobId).toBe('app.tasks.run(v=2)');
    // The order in the daemon's own log: the first reconcile finished before any job was enqueued.
    const reconciled = at(second, (l) => l.msg === 'first reconcile finished: dispatching');
    expect(reconciled).toBeGreaterThan(at(second, (l) => l.msg === 'reconcile'));
    expect(at(second, (l) => l.msg === 'job enqueued' || l.msg === 'jobs enqueued')).toBeGreaterThan(reconciled);
  }, 60_000);

  it('a source that cannot be read is stale: it holds its entries and they fire once the reconcile finished', async () => {
    write('held', 1);
    const first = await daemon('first');
    await firedSince(redis, 'default', 'held', 0, 1);
    expect(await first.stop()).toBe(0);
    writeFileSync(join(schedules, 'held.json'), '{ not json');
    const second = await daemon('second');
    const started = Date.now();
    await second.waitForLog((l) => l.msg === 'first reconcile finished: dispatching', 10_000);
    // Stale, not empty: nothing deleted, and the held schedule keeps firing.
    expect(second.logs.find((l) => l.msg === 'reconcile')).toMatchObject({ deleted: 0 });
    await firedSince(redis, 'default', 'held', Math.ceil(started / 1000) * 1000, 2);
  }, 60_000);
});
