/**
 * Leader election by lease: several daemons may run against one Redis for availability;
 * the one holding `pyrq:leader` reconciles and fires, the others stand by and take over
 * within one TTL when it dies. The dispatcher's compare-and-set still guarantees one job
 * per occurrence during a hand-over, so a brief overlap is harmless.
 *
 * Safety against split brain: a leader that cannot renew (Redis unreachable) steps down
 * when its own lease would have expired, measured on its own monotonic clock, before any
 * other daemon can have acquired it.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../src/log.js';
import { leaseCommand } from '../src/redis/commands/lease.js';

export interface LeaseEvents {
  onAcquire(): void | Promise<void>;
  onLose(reason: string): void | Promise<void>;
}

export class LeaderLease {
  readonly holderId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private leader = false;
  /** performance.now() after which our lease may have expired. */
  private validUntil = 0;
  private stopped = false;
  /** A check is in flight (it schedules the next one itself). */
  private ticking = false;
  /** The check found no connection and waits for it (the wait schedules the next check). */
  private waitingForReady = false;
  currentHolder: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly events: LeaseEvents,
    private readonly logger?: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    void this.tick();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  /** Resolves when the connection is ready, or after `ms`. */
  private whenReady(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.redis.once('ready', done);
    });
  }

  /**
   * The leader renews at a third of the TTL (two renewals can fail before the lease
   * lapses); a standby checks ten times per TTL, so it takes over within TTL + TTL/10.
   * Asked after each check, so a leader that just stepped down polls as a standby.
   */
  private interval(): number {
    return Math.max(50, Math.floor(this.ttlMs / (this.leader ? 3 : 10)));
  }

  /**
   * A write of this process was refused inside Redis because the lease no longer holds
   * its token (fencing, src/redis/commands/fence.ts): step down at once, logged once,
   * and check the lease again at the standby's interval.
   */
  fenced(): void {
    if (!this.leader || this.stopped) return;
    void this.stepDown("a write was refused: the lease no longer holds this process's token (fenced)").then(() => {
      // Between checks: the next one comes at the standby's interval (a check in flight schedules its own).
      if (!this.ticking && this.timer && !this.stopped) {
        clearTimeout(this.timer);
        this.schedule(this.interval());
      }
    });
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    try {
      await this.check();
    } finally {
      this.ticking = false;
    }
    if (!this.waitingForReady) this.schedule(this.interval());
  }

  private async check(): Promise<void> {
    this.waitingForReady = false;
    if (this.stopped) return;
    const interval = this.interval();
    if (!this.leader && this.redis.status !== 'ready') {
      // Not connected (yet): a standby tries again as soon as the connection is ready,
      // quietly (the connection logs its own errors). At start this used to cost a
      // warning and a whole check interval before the first fire.
      this.waitingForReady = true;
      void this.whenReady(interval).then(() => this.schedule(0));
      return;
    }
    const started = performance.now();
    try {
      const { held, holder } = await leaseCommand(
        this.redis,
        this.key,
        this.leader ? 'renew' : 'acquire',
        this.holderId,
        this.ttlMs,
      );
      const previous = this.currentHolder;
      this.currentHolder = holder;
      if (held) {
        this.validUntil = started + this.ttlMs;
        if (!this.leader) {
          this.leader = true;
          // The message is stable (tests and operators match it); who leads and who led are fields.
          this.logger?.info(
            {
              holder: this.holderId,
              ...(previous && previous !== this.holderId ? { previous } : {}),
              ttlMs: this.ttlMs,
            },
            'became leader',
          );
          await this.events.onAcquire();
        }
      } else if (this.leader) {
        await this.stepDown(
          holder ? `lease taken by ${holder}` : 'lease lost (Redis restarted or the key was deleted)',
        );
      } else if (holder !== previous && holder) {
        // A standby says once who leads (at start, and whenever the leader changes).
        this.logger?.info(
          { holder: this.holderId, leader: holder, ttlMs: this.ttlMs },
          `standing by: ${holder} is the leader; taking over within ${this.ttlMs + Math.floor(this.ttlMs / 10)} ms if it stops`,
        );
      }
    } catch (e) {
      if (this.leader && performance.now() >= this.validUntil - interval) {
        await this.stepDown(`cannot renew the lease: ${(e as Error).message}`);
      } else {
        // Redis unreachable: the connection has said so once; the retries are debug.
        this.logger?.[this.redis.status === 'ready' ? 'warn' : 'debug']({ err: e }, 'lease check failed; retrying');
      }
    }
  }

  private async stepDown(reason: string): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    this.logger?.warn({ holder: this.holderId, reason, leader: this.currentHolder }, 'no longer leader');
    await this.events.onLose(reason);
  }

  /** Stops campaigning; releases the lease if held (best effort). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leader) {
      this.leader = false;
      await this.events.onLose('shutting down');
      try {
        await leaseCommand(this.redis, this.key, 'release', this.holderId, 0);
      } catch {
        // Redis gone: the lease expires by itself.
      }
    }
  }
}
