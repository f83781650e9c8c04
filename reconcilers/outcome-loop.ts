/**
 * The leader's outcome reader, as a runnable: one pass (src/dispatch/outcome-reader.ts)
 * every second, and at once again while a pass came back full (a backlog). Only the
 * leader runs it, so the jobs' outcomes are read once; a second reader would be harmless
 * (each final outcome is applied by the one call that takes it off the pending set),
 * merely wasted work.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../src/clock.js';
import { OUTCOME_BATCH, type OutcomePass, readOutcomesOnce } from '../src/dispatch/outcome-reader.js';
import type { Logger } from '../src/log.js';
import type { Keys } from '../src/redis/keys.js';

export const OUTCOME_INTERVAL_MS = 1000;

export interface OutcomeObserver {
  /** A pass recorded these final outcomes, at `now`. */
  observeOutcomes(pass: OutcomePass, now: number): void;
}

export interface OutcomeLoopDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  logger: Logger;
  observer?: OutcomeObserver;
  intervalMs?: number;
  /** True while Redis is known to be down: failures then log at debug (the connection log said it once). */
  quiet?: () => boolean;
}

export class OutcomeLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private failing = false;

  constructor(private readonly d: OutcomeLoopDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops after the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => (this.running = null));
    }, ms);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const { redis, keys, clock, logger, observer } = this.d;
    let full = false;
    try {
      const now = clock.now();
      const pass = await readOutcomesOnce(redis, keys, now);
      full = pass.read >= OUTCOME_BATCH;
      observer?.observeOutcomes(pass, clock.now());
      if (this.failing) logger.info('job outcomes read again');
      this.failing = false;
    } catch (err) {
      // Redis down (the connection log says so, once) or a script error: said once, tried again on the next tick.
      if (this.d.quiet?.()) logger.debug({ err }, 'could not read job outcomes (Redis is down); retrying');
      else if (!this.failing) {
        logger.warn({ err }, 'could not read job outcomes; retrying');
        this.failing = true;
      }
    }
    this.schedule(full ? 0 : (this.d.intervalMs ?? OUTCOME_INTERVAL_MS));
  }
}
