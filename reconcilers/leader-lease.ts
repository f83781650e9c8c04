/**
 * Leader election by lease: several daemons may run against one Redis for availability;
 * the one holding `pyrq:leader` reconciles and fires, the others stand by and take over
 * within one TTL when it dies (src/lease-timing.ts: when each checks), and at once when
 * it stops cleanly: its release is published, and a standby subscribed to it takes the
 * lease without waiting for its next poll. The dispatcher's compare-and-set still
 * guarantees one job per occurrence during a hand-over, so a brief overlap is harmless.
 *
 * Safety against split brain: a leader that cannot renew (Redis unreachable) steps down
 * when its own lease would have expired, measured on its own monotonic clock, before any
 * other daemon can have acquired it.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../src/log.js';
import { leaseRenewMs, standbyNextCheckMs } from '../src/lease-timing.js';
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
  /** A release was published while a check was in flight: check again as soon as it ends. */
  private recheck = false;
  /** The lease's remaining TTL (ms) as the last check saw it (-2: nobody held it). */
  private lastPttlMs = -2;
  currentHolder: string | null = null;

  /**
   * `released`: a subscriber connection (its own: a subscribed connection runs no other
   * command) and the channel lease.lua publishes a release on. Without it a standby
   * notices a release at its next poll.
   */
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly events: LeaseEvents,
    private readonly logger?: Logger,
    private readonly released?: { sub: Redis; channel: string },
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.released) {
      const { sub, channel } = this.released;
      sub.on('message', (ch: string, holder: string) => {
        if (ch === channel && holder !== this.holderId) this.checkNow();
      });
      // Not awaited: the subscription completes once Redis is up (it may be down at start).
      void sub.subscribe(channel).catch(() => {});
    }
    void this.tick();
  }

  /** A standby checks at once (the leader released the lease), or right after the check in flight. */
  private checkNow(): void {
    if (this.leader || this.stopped) return;
    if (this.ticking || this.waitingForReady) {
      this.recheck = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
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
   * The leader renews ten times per TTL; a standby checks as often, and right when the
   * lease it saw expires if that comes sooner (src/lease-timing.ts). Asked after each
   * check, so a leader that just stepped down polls as a standby.
   */
  private interval(): number {
    return this.leader ? leaseRenewMs(this.ttlMs) : standbyNextCheckMs(this.ttlMs, this.lastPttlMs);
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
    if (this.waitingForReady) return;
    const again = this.recheck && !this.leader;
    this.recheck = false;
    this.schedule(again ? 0 : this.interval());
  }

  private async check(): Promise<void> {
    this.waitingForReady = false;
    if (this.stopped) return;
    const interval = this.leader ? leaseRenewMs(this.ttlMs) : this.interval();
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
      const { held, holder, pttlMs } = await leaseCommand(
        this.redis,
        this.key,
        this.leader ? 'renew' : 'acquire',
        this.holderId,
        this.ttlMs,
      );
      const previous = this.currentHolder;
      this.currentHolder = holder;
      this.lastPttlMs = held ? -2 : pttlMs;
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
          `standing by: ${holder} is the leader; taking over within ${this.ttlMs} ms if it stops`,
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
    this.released?.sub.disconnect();
    if (this.leader) {
      this.leader = false;
      await this.events.onLose('shutting down');
      try {
        await leaseCommand(this.redis, this.key, 'release', this.holderId, 0, this.released?.channel);
      } catch {
        // Redis gone: the lease expires by itself.
      }
    }
  }
}
