/**
 * Every daemon (leader or not) measures its clock's offset from Redis's now and then and
 * records it with the daemon facts, so `pyrq status` can show each daemon's offset and
 * warn beyond `daemon.clockOffsetWarn`. Fires go by Redis's clock regardless (the fire
 * script reads TIME); a clock that is off only makes the daemon's sleeps less exact, and
 * is logged as a warning when beyond the threshold.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/log.js';
import { measureClockOffset } from '../src/redis/redis-clock.js';
import type { RegistryPort } from '../src/registry/registry-port.js';

/** How often the offset is measured and recorded. */
export const CLOCK_WATCH_INTERVAL_MS = 30_000;
const RETRY_MS = 1000;

export interface ClockWatchDeps {
  redis: Redis;
  clock: Clock;
  registry: Pick<RegistryPort, 'recordDaemonFacts'>;
  /** The daemon's lease holder id: the key of its record. */
  holderId: string;
  warnMs: number;
  logger: Logger;
}

export class ClockWatch {
  private timer: NodeJS.Timeout | null = null;
  private warned = false;
  private stopped = true;

  constructor(private readonly d: ClockWatchDeps) {}

  /** Measures now and every `intervalMs`; after a failure (Redis not connected yet, or down), again in a second. */
  start(intervalMs = CLOCK_WATCH_INTERVAL_MS): void {
    this.stopped = false;
    const round = async (): Promise<void> => {
      const ok = await this.measure();
      if (this.stopped) return;
      this.timer = setTimeout(() => void round(), ok ? intervalMs : RETRY_MS);
      this.timer.unref();
    };
    void round();
  }

  /** Measures once and records it; false when Redis could not be read. */
  async measure(): Promise<boolean> {
    const { redis, clock, registry, holderId, warnMs, logger } = this.d;
    try {
      const m = await measureClockOffset(redis, clock);
      await registry.recordDaemonFacts({
        clocks: { [holderId]: { offsetMs: m.offsetMs, at: m.at, pid: process.pid } },
      });
      const beyond = Math.abs(m.offsetMs) > warnMs;
      if (beyond && !this.warned)
        logger.warn(
          { offsetMs: m.offsetMs, rttMs: m.rttMs, thresholdMs: warnMs },
          "this machine's clock is off from Redis's beyond daemon.clockOffsetWarn; fires go by Redis's clock, but fix the clock (NTP)",
        );
      this.warned = beyond;
      return true;
    } catch {
      return false; // Redis unreachable: the connection logs it
    }
  }

  /** Stops measuring and removes this daemon's record. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.d.registry.recordDaemonFacts({ clocks: { [this.d.holderId]: null } }).catch(() => undefined);
  }
}
