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

describe('leader lease: take-over', () => {
  const subs: Redis[] = [];
  afterEach(() => {
    for (const s of subs.splice(0)) s.disconnect();
  });
  const CHANNEL = 'pyrq:leader:released';
  const campaign = (name: string): LeaderLease => {
    const sub = server.client();
    subs.push(sub);
    const l = new LeaderLease(redis, KEY, TTL, { onAcquire: () => undefined, onLose: () => undefined }, undefined, {
      sub,
      channel: CHANNEL,
    });
    if (name === 'a') lease = l;
    else others.push(l);
    l.start();
    return l;
  };
  const others: LeaderLease[] = [];
  afterEach(async () => {
    for (const l of others.splice(0)) await l.stop();
  });

  it('a standby checks when the lease it saw expires, not only at its poll interval (a killed leader)', async () => {
    // A leader that died: its lease runs out in 300 ms (real time: Redis expires it).
    await redis.set(KEY, 'dead:1:aaaaaa', 'PX', 300);
    const l = campaign('a');
    await until(() => l.currentHolder === 'dead:1:aaaaaa', 'the standby saw the lease');
    await vi.advanceTimersByTimeAsync(0);
    for (const end = Date.now() + 10_000; (await redis.exists(KEY)) === 1;) {
      if (Date.now() > end) throw new Error('the dead leader’s lease never expired');
      await new Promise((r) => setImmediate(r));
    }
    // Its poll interval is 3 s; the lease had at most 300 ms left when it looked.
    await vi.advanceTimersByTimeAsync(301);
    await until(() => l.isLeader, 'took the lease when it expired, before the 3 s poll');
  });

  it('a leader that stops cleanly publishes its release; a standby takes the lease at once, with no poll', async () => {
    const a = campaign('a');
    await until(() => a.isLeader, 'a leads');
    await vi.advanceTimersByTimeAsync(0);
    const b = campaign('b');
    await until(() => b.currentHolder === a.holderId, 'b stands by');
    await vi.advanceTimersByTimeAsync(0);
    await untilAsync(
      async () => ((await redis.pubsub('NUMSUB', CHANNEL)) as [string, number])[1] >= 2,
      'both subscribed to the release channel',
    );
    await a.stop();
    lease = undefined;
    // Only timers due now run (b's next poll is 3 s away): the published release wakes b.
    await untilAsync(async () => {
      await vi.advanceTimersByTimeAsync(0);
      return b.isLeader;
    }, 'b took the released lease at once');
  });
});
