/**
 * Redis's clock is the one clock: the fire script stamps and checks by Redis `TIME`, and
 * each daemon measures how far its own clock is from it, to sleep by Redis time and to
 * report the offset (`pyrq status` warns beyond `daemon.clockOffsetWarn`).
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';

/** One measurement of a clock against Redis's. */
export interface ClockOffset {
  /** Redis time minus this clock (ms): positive when this clock is behind. */
  offsetMs: number;
  /** Round trip of the TIME call (ms): the offset is exact to within half of it. */
  rttMs: number;
  /** When it was measured, by Redis's clock (epoch ms). */
  at: number;
}

/** Reads Redis `TIME` and compares it with the midpoint of the round trip on `clock`. */
export async function measureClockOffset(redis: Redis, clock: Clock): Promise<ClockOffset> {
  const t0 = clock.now();
  const p0 = performance.now();
  const [sec, usec] = await redis.time();
  const rtt = performance.now() - p0;
  const redisMs = Number(sec) * 1000 + Number(usec) / 1000;
  const offsetMs = Math.round(redisMs - (t0 + rtt / 2));
  return { offsetMs, rttMs: Math.round(rtt * 10) / 10, at: Math.round(redisMs) };
}

/** A clock that reads `base` plus the last measured offset from Redis: Redis time, locally. */
export class RedisTimeClock implements Clock {
  private offset = 0;
  constructor(private readonly base: Clock) {}
  now(): number {
    return this.base.now() + this.offset;
  }
  get offsetMs(): number {
    return this.offset;
  }
  /** Measures the offset again and adopts it. */
  async sync(redis: Redis): Promise<ClockOffset> {
    const m = await measureClockOffset(redis, this.base);
    this.offset = m.offsetMs;
    return m;
  }
}
