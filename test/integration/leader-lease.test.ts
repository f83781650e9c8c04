/**
 * The lease's check interval after stepping down is the standby's (a tenth of the TTL),
 * not the leader's renew interval (a third): issue 12 saw a leader that stepped down wait
 * 3.3 s to take a free lease. Real Redis; the lease's timers are fake, so the intervals
 * are checked exactly, without waiting for them.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaderLease } from '../../reconcilers/leader-lease.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

const KEY = 'pyrq:leader';
const TTL = 30_000; // the leader renews every 10 s, a standby checks every 3 s
let server: PrivateRedis;
let redis: Redis;
let lease: LeaderLease | undefined;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  await redis.ping();
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(async () => {
  vi.useRealTimers();
  await lease?.stop();
  lease = undefined;
});

/** Lets real I/O (the lease's Redis replies) complete: polls on setImmediate, which is not faked. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never: ${what}`);
}

/** `until` for an asynchronous condition (each try awaits real I/O). */
async function untilAsync(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (await cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never: ${what}`);
}

/**
 * Lease script calls Redis has run. Read on the lease's own connection, whose commands
 * run in order: every call the lease sent before this one is counted.
 */
async function leaseChecks(): Promise<number> {
  const info = await redis.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

async function leader(): Promise<LeaderLease> {
  const events = { lost: 0 };
  lease = new LeaderLease(redis, KEY, TTL, { onAcquire: () => undefined, onLose: () => void events.lost++ });
  lease.start();
  await until(() => lease!.isLeader, 'leader');
  // Let the first check finish scheduling its successor (the leader's 10 s renewal).
  await vi.advanceTimersByTimeAsync(0);
  return lease;
}

describe('leader lease: after stepping down, the standby interval', () => {
  it('a write refused by fencing steps down at once; the lease is checked again within the standby interval', async () => {
    const l = await leader();
    await redis.set(KEY, 'other:2:bbbbbb', 'PX', TTL);
    l.fenced();
    await until(() => !l.isLeader, 'stepped down');
    await redis.del(KEY); // the other holder is gone: the lease is free
    const checks = await leaseChecks();
    await vi.advanceTimersByTimeAsync(TTL / 10 - 1);
    expect(await leaseChecks(), 'no lease check before the standby interval').toBe(checks);
    expect(l.isLeader).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => l.isLeader, 'took the free lease at the standby interval (3 s), not the renew interval (10 s)');
  });

  it('a renewal that finds another holder steps down; the next check comes at the standby interval', async () => {
    const l = await leader();
    // Steady state first: a renewal or two while the lease is ours (renewals every 10 s).
    const checks = await leaseChecks();
    await vi.advanceTimersByTimeAsync(13_000);
    await untilAsync(async () => (await leaseChecks()) > checks, 'the renewal at 10 s ran');
    expect(l.isLeader).toBe(true);
    await redis.set(KEY, 'other:2:bbbbbb', 'PX', TTL);
    await vi.advanceTimersByTimeAsync(TTL / 3);
    await until(() => !l.isLeader, 'stepped down at a renewal');
    await vi.advanceTimersByTimeAsync(0);
    await redis.del(KEY);
    await vi.advanceTimersByTimeAsync(TTL / 10);
    await until(() => l.isLeader, 'took the free lease at the standby interval (3 s), not the renew interval (10 s)');
  });
});
