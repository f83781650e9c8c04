/**
 * The dispatcher: fires due schedules as RQ jobs. `tickOnce(now)` fires everything due
 * at `now` (used by `pyrq tick`, and by tests with a ManualClock); `start()` runs the
 * loop the daemon uses while it holds the leader lease: sleep until the earliest next
 * fire time (never longer than `maxSleepMs`, so a clock jump is noticed), wake early
 * when `pyrq:events` says the registry changed, fire, repeat.
 *
 * Exactly once: every item is a compare-and-set on the stored next fire time inside
 * one Lua call (fire-batch.lua), and job ids are derived from the occurrence, so two
 * dispatchers racing on one Redis produce one job per occurrence.
 *
 * Hot path per tick: one ZRANGEBYSCORE, then script batches sent back to back; specs and
 * encoded payloads come from memory (ScheduleCache), read only when missing or stale.
 * Shortly before a fire time the loop wakes to load what is about to be due and build
 * its batches, so the fire itself does not wait for reads, parsing or compression.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../src/clock.js';
import type { Config } from '../src/config/config.js';
import { GcPacer } from '../src/dispatch/gc-pacer.js';
import { fullGc, heapGrownBy } from '../src/gc.js';
import type { Logger } from '../src/log.js';
import type { Keys } from '../src/redis/keys.js';
import { buildDueItem, pausedItem } from '../src/dispatch/build-items.js';
import { pausedAmong } from '../src/registry/pauses.js';
import {
  earlyWaitMs,
  type FireItem,
  type FireOutcome,
  type FireReply,
  type PreparedBatch,
  prepareFireBatch,
  sendFireBatch,
} from '../src/redis/commands/fire-batch.js';
import { type FenceGuard, FencedError } from '../src/redis/commands/fence.js';
import { RedisTimeClock } from '../src/redis/redis-clock.js';
import { readHeld, releaseHeld } from '../src/redis/commands/release-held.js';
import { yieldToIo } from '../src/dispatch/fire.js';
import { type LoadProblem, ScheduleCache } from '../src/dispatch/schedule-cache.js';
import { absorbOutcomes, type FiredSchedule, type TickResult } from '../src/dispatch/tick-result.js';
import { WakeableSleep } from './wakeable-sleep.js';

export interface DispatcherDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  logger?: Logger;
  config: Pick<Config, 'dispatch' | 'frappe'>;
  /**
   * Fire by Redis's clock (the daemon, `pyrq tick` without `--at`): the fire script
   * stamps jobs with Redis `TIME` and refuses occurrences not yet due by it, and the loop
   * sleeps by `clock` corrected by its measured offset from Redis. Otherwise (tests with
   * a manual clock, `pyrq tick --at`) `clock` is the time fires go by.
   */
  redisClock?: boolean;
  /** Told what each script round did and how long each tick that fired took (metrics). */
  observer?: DispatchObserver;
  /** The daemon's lease: every fire batch carries its token (checked in Lua), a refusal is reported to it. */
  fence?: FenceGuard;
}

/** What the metrics see of the dispatcher: the fire script's replies, as they come. */
export interface DispatchObserver {
  observeFires(items: readonly FireItem[], outcomes: readonly FireOutcome[], sentAt: readonly number[]): void;
  observeTick(durationMs: number): void;
}

export interface DispatcherOptions {
  /** How late an occurrence may be and still count as on time (catch-up policy). */
  graceMs?: number;
  /** Longest sleep between ticks, so clock jumps and lost events are caught. */
  maxSleepMs?: number;
  /** Wake this long before a fire time to load what is about to be due. */
  prepareLeadMs?: number;
  /** How long a schedule that cannot be loaded is left alone (or until the registry changes). */
  quarantineMs?: number;
  /** In idle time, load schedules due within this window ahead (after a start or a registry change). */
  warmWindowMs?: number;
  /** After a registry change, warm up only once no change came for this long (ms). */
  warmQuietMs?: number;
}

/** Script rounds per tick: a stale item is re-read and retried, but never forever. */
const MAX_ROUNDS = 5;
/** Schedules loaded per step of the idle-time warm-up, and the time kept free before a fire. */
const WARM_CHUNK = 500;
/** Schedules of the warm window checked per step (one ZRANGEBYSCORE page, one HMGET of the index). */
const WARM_PAGE = 2000;
/** A warm-up that loads this many schedules asks for a garbage collection afterwards. */
const WARM_GC_AFTER = 5000;
/** Idle time is also used for a collection when this much garbage may have piled up. */
const GC_GROWTH_BYTES = 64 * 1024 * 1024;
const WARM_MARGIN_MS = 50;
/** How often idle time is used to forget cached schedules that left the fire set or are not due within the warm window. */
const SWEEP_INTERVAL_MS = 10 * 60_000;
/**
 * While an overlap buffer-one schedule holds an occurrence, how often the loop checks
 * whether its previous job has ended (one HGETALL and one script call over the held ones).
 */
const HELD_POLL_MS = 1000;
/** How often idle time is used to measure the clock's offset from Redis again (redisClock). */
const CLOCK_SYNC_INTERVAL_MS = 30_000;

export type { FiredSchedule, TickResult } from '../src/dispatch/tick-result.js';

export class Dispatcher {
  private readonly cache: ScheduleCache;
  private readonly sleeper = new WakeableSleep();
  private readonly quarantine = new Map<string, number>();
  private readonly graceMs: number;
  private readonly maxSleepMs: number;
  private readonly prepareLeadMs: number;
  private readonly quarantineMs: number;
  private readonly warmWindowMs: number;
  private readonly warmQuietMs: number;
  private warmDirty = true;
  private gcWanted = false;
  private readonly gcPacer = new GcPacer();
  /** performance.now() of the last registry change announced on pyrq:events. */
  private changedAt = -Infinity;
  private lastSweep = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private running = false;
  private loop?: Promise<void>;
  private sub?: Redis;
  private prepared?: { at: number; batches: PreparedBatch[] };
  /** The time fires go by: `deps.clock`, or Redis time as measured from it (redisClock). */
  private readonly clock: Clock;
  private readonly redisTime?: RedisTimeClock;
  private lastClockSync = -Infinity;
  /** The last look at the held HASH found occurrences still waiting (buffer-one): poll them. */
  private heldWaiting = false;

  constructor(
    private readonly deps: DispatcherDeps,
    opts: DispatcherOptions = {},
  ) {
    const f = deps.config.frappe;
    if (deps.redisClock) this.redisTime = new RedisTimeClock(deps.clock);
    this.clock = this.redisTime ?? deps.clock;
    this.cache = new ScheduleCache(deps.redis, deps.keys, {
      frappeBenchId: f.benchId,
      frappeSite: f.site,
      frappeUser: f.user,
    });
    this.graceMs = opts.graceMs ?? deps.config.dispatch.graceMs;
    this.maxSleepMs = opts.maxSleepMs ?? 60_000;
    this.prepareLeadMs = opts.prepareLeadMs ?? 500;
    this.quarantineMs = opts.quarantineMs ?? 60_000;
    this.warmWindowMs = opts.warmWindowMs ?? 10 * 60_000;
    this.warmQuietMs = opts.warmQuietMs ?? 1000;
  }

  /** Fires everything due at `now` (default: the clock). Ticks never overlap. */
  tickOnce(now?: number): Promise<TickResult> {
    const run = this.chain.then(async () => {
      if (now === undefined && this.redisTime && this.clock.now() - this.lastClockSync > CLOCK_SYNC_INTERVAL_MS)
        await this.syncClock();
      return this.tick(now ?? this.clock.now());
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * What a tick at `now` would fire, writing nothing (`pyrq tick --at` in the future
   * without `--force`): the due schedules, their occurrences to enqueue or skip by the
   * catch-up policy, and the job ids. Overlap and duplicate checks happen only when
   * firing, so a real tick may enqueue fewer.
   */
  async previewOnce(now: number): Promise<TickResult> {
    const started = performance.now();
    const result: TickResult = { now, enqueued: 0, skipped: 0, schedules: [], problems: [], durationMs: 0 };
    const due = await this.dueAt(now);
    await this.load(due, result.problems);
    const paused = await pausedAmong(
      this.deps.redis,
      this.deps.keys,
      due.map(([id]) => id),
    );
    for (const [id, expected] of due) {
      const c = this.cache.get(id);
      if (!c) continue;
      const built = buildDueItem(id, c, expected, now, this.graceMs);
      const item = paused.has(id) ? pausedItem(built) : built;
      const jobIds = item.ops.flatMap((op) => (op.kind === 'enqueue' ? [op.jobId] : []));
      const skipped = item.ops.reduce((n, op) => n + (op.kind === 'skip' ? (op.count ?? 1) : 0), 0);
      result.enqueued += jobIds.length;
      result.skipped += skipped;
      result.schedules.push({ id, result: 'fired', enqueued: jobIds.length, jobIds, skipped });
    }
    result.durationMs = Math.round((performance.now() - started) * 10) / 10;
    return result;
  }

  /** Starts the loop (the daemon calls this while it holds the leader lease). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // The subscriber queues its SUBSCRIBE until connected (the daemon's main connection
    // refuses commands while disconnected; a subscription should simply wait), and
    // ioredis re-subscribes by itself after every reconnect.
    const sub = this.deps.redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
    // The main connection tells an outage once (src/redis/connection-log.ts): its retries are debug.
    sub.on('error', (e: Error) => this.deps.logger?.debug({ err: e }, 'dispatcher event connection error'));
    sub.on('message', () => {
      // Something changed: retry quarantined schedules, load new ones, re-plan the sleep.
      this.quarantine.clear();
      this.prepared = undefined; // built before the change (a pause, say): build again at the fire time
      this.warmDirty = true;
      this.changedAt = performance.now();
      this.sleeper.wake();
    });
    await sub.subscribe(this.deps.keys.events);
    this.sub = sub;
    await this.syncClock().catch((err: unknown) =>
      this.deps.logger?.warn({ err }, 'cannot read Redis TIME; firing by the local clock until it can'),
    );
    this.loop = this.run();
  }

  /**
   * Asks for a full garbage collection after bulk work (a deep re-sync): in the loop's
   * next idle time, never near a fire; at once when the loop is not running.
   */
  collectGarbageWhenIdle(): void {
    if (!this.running) {
      fullGc();
      return;
    }
    this.gcWanted = true;
    this.sleeper.wake();
  }

  /** Stops the loop after the tick in flight (if any) has finished. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    this.loop = undefined;
    this.sub?.disconnect();
    this.sub = undefined;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.tickOnce();
        failures = 0;
        let earliest = await this.earliest();
        const idle = () => earliest === null || earliest - this.clock.now() > this.prepareLeadMs + WARM_MARGIN_MS;
        // Warming checks the whole window; after a change it waits until changes settle,
        // so a burst of socket upserts is not slowed by one warm-up each.
        const settling = this.warmDirty ? this.changedAt + this.warmQuietMs - performance.now() : 0;
        if (this.warmDirty && settling <= 0 && idle()) {
          await this.warm(earliest === null ? Infinity : earliest - this.prepareLeadMs - WARM_MARGIN_MS);
          earliest = await this.earliest();
        }
        // A full collection takes 100-300 ms with a large heap on a busy machine: only when
        // no fire is due for a while (after a deep re-sync it made per-second fires 200-330
        // ms late when it ran in the 550 ms before one). V8 collects by itself otherwise.
        const gap = earliest === null ? null : earliest - this.clock.now();
        if (this.gcPacer.shouldCollect(this.gcWanted || heapGrownBy(GC_GROWTH_BYTES), gap, performance.now())) {
          this.gcWanted = false;
          const started = performance.now();
          if (fullGc()) this.gcPacer.measured(performance.now() - started);
        }
        if (this.clock.now() - this.lastSweep > SWEEP_INTERVAL_MS && idle()) {
          const swept = await this.cache.dropUnscheduled(
            () => !this.running || !idle(),
            this.clock.now() + this.warmWindowMs,
          );
          if (swept !== null) this.lastSweep = this.clock.now();
        }
        if (this.redisTime && this.clock.now() - this.lastClockSync > CLOCK_SYNC_INTERVAL_MS && idle())
          await this.syncClock();
        if (!this.running) break;
        const delay =
          earliest === null ? this.maxSleepMs : Math.min(Math.max(earliest - this.clock.now(), 0), this.maxSleepMs);
        if (this.heldWaiting && delay > HELD_POLL_MS + this.prepareLeadMs) {
          // A held occurrence waits for its previous job: the next tick looks again.
          await this.sleeper.sleep(HELD_POLL_MS);
          continue;
        }
        if (settling > 0 && delay - this.prepareLeadMs > settling) {
          // Warm up once the changes have settled (the fire path loads what it fires anyway).
          await this.sleeper.sleep(settling);
          continue;
        }
        if (earliest !== null && delay > 0 && delay < this.maxSleepMs) {
          // Sleep until shortly before the fire time, prepare it, sleep the rest.
          if (delay > this.prepareLeadMs && (await this.sleeper.sleep(delay - this.prepareLeadMs))) continue;
          await this.prepare(earliest);
          await this.sleepUntil(earliest);
        } else if (delay > 0) {
          await this.sleeper.sleep(delay);
        }
      } catch (err) {
        failures++;
        // Fenced: the lease is gone; the lease logs it once and steps down (stopping this loop).
        if (err instanceof FencedError) this.deps.fence?.refused();
        else {
          // While Redis is unreachable the connection has said so once: retries are debug.
          const level = this.deps.redis.status === 'ready' ? 'error' : 'debug';
          this.deps.logger?.[level]({ err, failures }, 'dispatcher tick failed; retrying');
        }
        await this.sleeper.sleep(Math.min(100 * 2 ** Math.min(failures, 6), 5_000));
      }
    }
  }

  /**
   * Sleeps until `at` by the fire clock (true when woken by a registry change). A timer
   * can fire early: Node counts a delay from the event loop's cached time, which lags the
   * clock by whatever ran before the timer was set (building the prepared batches takes
   * milliseconds). Waking before `at` found nothing due, dropped the prepared batches and
   * built them again at the fire time; the last fraction of a millisecond is waited out
   * by turns of the event loop instead.
   */
  private async sleepUntil(at: number): Promise<boolean> {
    for (;;) {
      const left = at - this.clock.now();
      if (left <= 0) return false;
      if (left >= 1) {
        if (await this.sleeper.sleep(left)) return true;
      } else await yieldToIo();
    }
  }

  /** Measures the offset from Redis again (redisClock only); the loop sleeps by it. */
  private async syncClock(): Promise<void> {
    if (!this.redisTime) return;
    const m = await this.redisTime.sync(this.deps.redis);
    this.lastClockSync = this.clock.now();
    this.deps.logger?.debug({ offsetMs: m.offsetMs, rttMs: m.rttMs }, 'clock offset from Redis');
  }

  /** The earliest stored next fire time, ignoring quarantined schedules. */
  private async earliest(): Promise<number | null> {
    const now = this.clock.now();
    for (const [id, until] of this.quarantine) if (until <= now) this.quarantine.delete(id);
    const raw = await this.deps.redis.zrange(this.deps.keys.next, 0, this.quarantine.size, 'WITHSCORES');
    for (let i = 0; i < raw.length; i += 2) if (!this.quarantine.has(raw[i]!)) return Number(raw[i + 1]);
    return null;
  }

  /**
   * Uses idle time before `deadline` to load the schedules due within the warm window
   * (and reload those whose spec changed), a chunk at a time: after a start or an apply
   * of many schedules, their first fire then finds them in memory (loading, parsing and compressing ten thousand payloads
   * takes about a second, far more than the time a fire may take).
   */
  private async warm(deadline: number): Promise<void> {
    const { redis, keys } = this.deps;
    const clock = this.clock;
    const until = clock.now() + this.warmWindowMs;
    let loaded = 0;
    // A page at a time, yielding between pages: this runs after every registry change,
    // and with 100,000 schedules the window holds tens of thousands, whose check in one
    // go held the event loop (and a socket request waiting on it) for ~60 ms.
    for (let offset = 0; ; offset += WARM_PAGE) {
      if (!this.running || clock.now() >= deadline) return; // still dirty: continue in the next idle time
      const ids = await redis.zrangebyscore(keys.next, '-inf', until, 'LIMIT', offset, WARM_PAGE);
      await this.cache.dropStale(ids);
      const missing = ids.filter((id) => !this.cache.isFresh(id) && !this.quarantine.has(id));
      for (let i = 0; i < missing.length; i += WARM_CHUNK) {
        if (!this.running || clock.now() >= deadline) return;
        await this.load(
          missing.slice(i, i + WARM_CHUNK).map((id): [string, number] => [id, 0]),
          [],
        );
        // Loading thousands leaves their replies and parses behind as garbage.
        if ((loaded += WARM_CHUNK) >= WARM_GC_AFTER) this.gcWanted = true;
        await yieldToIo();
      }
      if (ids.length < WARM_PAGE) break;
      await yieldToIo();
    }
    this.warmDirty = false;
  }

  /**
   * Shortly before `at`, does everything for the tick at `at` that does not need the
   * instant itself: loads what will be due and builds its script batches. The tick at
   * `at` sends them as they are (the script re-checks every item; anything that changed
   * meanwhile is refused and picked up by the tick's normal round).
   */
  private async prepare(at: number): Promise<void> {
    this.prepared = undefined;
    const due = await this.dueAt(at);
    await this.load(due, []);
    const paused = await pausedAmong(
      this.deps.redis,
      this.deps.keys,
      due.map(([id]) => id),
    );
    this.prepared = { at, batches: this.buildBatches(due, at, paused) };
  }

  /** The prepared batches, when they were made for the second of `now`. */
  private takePrepared(now: number): PreparedBatch[] | undefined {
    const p = this.prepared;
    this.prepared = undefined;
    return p && now >= p.at && Math.floor(now / 1000) === Math.floor(p.at / 1000) ? p.batches : undefined;
  }

  /** Due (id, stored next fire time) pairs at `now`, without quarantined schedules. */
  private async dueAt(now: number): Promise<[string, number][]> {
    const raw = await this.deps.redis.zrangebyscore(this.deps.keys.next, '-inf', now, 'WITHSCORES');
    const due: [string, number][] = [];
    for (let i = 0; i < raw.length; i += 2) if (!this.quarantine.has(raw[i]!)) due.push([raw[i]!, Number(raw[i + 1])]);
    return due;
  }

  /** Loads what the cache lacks; schedules that cannot be loaded are quarantined. */
  private async load(due: readonly [string, number][], problems: LoadProblem[]): Promise<void> {
    const missing = due.filter(([id]) => !this.cache.isFresh(id)).map(([id]) => id);
    if (missing.length === 0) return;
    for (const p of await this.stillDue(await this.cache.load(missing))) {
      this.quarantine.set(p.id, this.clock.now() + this.quarantineMs);
      problems.push(p);
      this.deps.logger?.error({ schedule: p.id }, `cannot fire schedule: ${p.message}`);
    }
  }

  /**
   * The problems whose schedule is still in the fire set. The fire set and the entries
   * are read one after the other, so a schedule can leave between the two: deleted by an
   * apply, or lost with Redis itself (a restart without persistence, the entry's read
   * then resent by ioredis to the new, empty server). Its entry is then missing, which is
   * no fault of it: reported as one ("run apply --deep to repair", at error level), it
   * was a false alarm in a daemon's log at every such restart during a warm-up.
   */
  private async stillDue(problems: LoadProblem[]): Promise<LoadProblem[]> {
    if (problems.length === 0) return problems;
    const p = this.deps.redis.pipeline();
    for (const { id } of problems) p.zscore(this.deps.keys.next, id);
    const scores = (await p.exec()) ?? [];
    return problems.filter((_, i) => {
      const [err, score] = scores[i] ?? [];
      if (err) throw err;
      return score !== null;
    });
  }

  private buildBatches(due: readonly [string, number][], now: number, paused: ReadonlySet<string>): PreparedBatch[] {
    const items: FireItem[] = [];
    for (const [id, expected] of due) {
      const c = this.cache.get(id);
      if (!c) continue;
      const item = buildDueItem(id, c, expected, now, this.graceMs);
      items.push(paused.has(id) ? pausedItem(item) : item);
    }
    return this.batchesOf(items);
  }

  /** Script batches of `dispatch.batchSize` items. */
  private batchesOf(items: readonly FireItem[]): PreparedBatch[] {
    const { keys, config } = this.deps;
    const opts = {
      historyLength: config.dispatch.historyLength,
      trigger: 'schedule' as const,
      fence: this.deps.fence?.token(),
      redisClock: this.redisTime !== undefined,
    };
    const batches: PreparedBatch[] = [];
    for (let i = 0; i < items.length; i += config.dispatch.batchSize)
      batches.push(prepareFireBatch(keys, items.slice(i, i + config.dispatch.batchSize), opts));
    return batches;
  }

  /**
   * Sends batches one after the other without waiting for the replies, so building batch
   * n+1 overlaps Redis running batch n. Each is stamped with the time it is sent (never
   * before `now`). Lazily built batches are built one at a time between sends.
   */
  private async send(
    batches: Iterable<PreparedBatch>,
    now: number,
  ): Promise<{ items: FireItem[]; outcomes: FireOutcome[]; sentAt: number[]; earlyWaitMs: number | null }> {
    const sent: PreparedBatch[] = [];
    const pending: Promise<FireReply>[] = [];
    for (const b of batches) {
      pending.push(sendFireBatch(this.deps.redis, b, this.redisTime ? 'redis' : Math.max(now, this.clock.now())));
      sent.push(b);
      await yieldToIo();
    }
    const replies = await Promise.all(pending);
    const items: FireItem[] = [];
    const outcomes: FireOutcome[] = [];
    const sentAt: number[] = [];
    let earlyWait: number | null = null;
    replies.forEach((r, i) => {
      const b = sent[i]!;
      items.push(...b.items);
      outcomes.push(...r.outcomes);
      for (let j = 0; j < b.items.length; j++) sentAt.push(r.at);
      const w = earlyWaitMs(b.items, r);
      if (w !== null) earlyWait = earlyWait === null ? w : Math.min(earlyWait, w);
    });
    return { items, outcomes, sentAt, earlyWaitMs: earlyWait };
  }

  /** Like buildBatches, one batch at a time (built while the previous one runs in Redis). */
  private *lazyBatches(
    due: readonly [string, number][],
    now: number,
    paused: ReadonlySet<string>,
  ): Generator<PreparedBatch> {
    const size = this.deps.config.dispatch.batchSize;
    for (let i = 0; i < due.length; i += size) yield* this.buildBatches(due.slice(i, i + size), now, paused);
  }

  private async tick(tickAt: number): Promise<TickResult> {
    const started = performance.now();
    let now = tickAt;
    const result: TickResult = { now, enqueued: 0, skipped: 0, schedules: [], problems: [], durationMs: 0 };
    const byId = new Map<string, FiredSchedule>();
    let prepared = this.takePrepared(now);
    let earlyRounds = 0;
    // Known held occurrences go first, so one released now is the last job the fire sees.
    if (this.heldWaiting) await this.releaseHeld(now);
    // Told to the observer once the tick is over, so counting never delays a retry round.
    const observed: [FireItem[], FireOutcome[], number[]][] = [];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const fromPrepared = prepared !== undefined;
      let batches: Iterable<PreparedBatch>;
      if (prepared) {
        batches = prepared;
        prepared = undefined;
      } else {
        const due = await this.dueAt(now);
        if (due.length === 0) break;
        await this.load(due, result.problems);
        batches = this.lazyBatches(
          due,
          now,
          await pausedAmong(
            this.deps.redis,
            this.deps.keys,
            due.map(([id]) => id),
          ),
        );
      }
      const { items, outcomes, sentAt, earlyWaitMs } = await this.send(batches, now);
      const retry = absorbOutcomes(items, outcomes, result, byId, this.cache);
      this.logFires(items, outcomes, sentAt);
      if (this.deps.observer) observed.push([items, outcomes, sentAt]);
      if (earlyWaitMs !== null) {
        // Our clock ran ahead of Redis's: nothing was written for those items. Measure
        // the offset again and go on by Redis time; what is still ahead after that waits
        // (briefly: the offset is exact to within a round trip) and is tried again.
        this.deps.logger?.warn(
          { aheadMs: earlyWaitMs, offsetMs: this.redisTime?.offsetMs },
          'clock ahead of Redis: occurrences not yet due by Redis time were refused; retrying by Redis time',
        );
        await this.syncClock().catch(() => undefined);
        if (earlyRounds++ > 0) await this.sleeper.sleep(Math.min(Math.max(earlyWaitMs, 1), 1000));
        now = this.clock.now();
        // The refused items that are due by the corrected clock are still current (nothing
        // was written for them): sent again as they are, not read, loaded and built again.
        // The normal round after it picks up anything else; what is still ahead waits for
        // its own tick, as before.
        const again = items.filter(
          (item, i) => outcomes[i] === 'early' && item.ops[item.ops.length - 1]!.occurrence <= now,
        );
        prepared = again.length > 0 ? this.batchesOf(again) : undefined;
        continue;
      }
      // A prepared round is always followed by a normal one: it picks up anything the
      // preparation did not see (normally nothing is due any more: one cheap read).
      if (!retry && !fromPrepared) break;
    }
    // After the fire (off its path): occurrences buffered now, or whose previous job ended.
    await this.releaseHeld(now);
    result.schedules = [...byId.values()];
    result.durationMs = Math.round((performance.now() - started) * 10) / 10;
    if (result.schedules.length > 0) {
      this.deps.logger?.info(
        {
          now: new Date(now).toISOString(),
          enqueued: result.enqueued,
          skipped: result.skipped,
          schedules: result.schedules.length,
          durationMs: result.durationMs,
        },
        'fired',
      );
    }
    const observer = this.deps.observer;
    if (observer) {
      for (const [items, outcomes, sentAt] of observed) observer.observeFires(items, outcomes, sentAt);
      if (result.schedules.length > 0) observer.observeTick(result.durationMs);
    }
    return result;
  }

  /**
   * Enqueues the held occurrences (overlap buffer-one) whose previous job has ended, and
   * notes whether any still wait (the loop then looks again every HELD_POLL_MS).
   */
  private async releaseHeld(now: number): Promise<void> {
    const { redis, keys, config } = this.deps;
    const held = await readHeld(redis, keys);
    if (held.length === 0) {
      this.heldWaiting = false;
      return;
    }
    const outcomes = await releaseHeld(redis, keys, held, {
      historyLength: config.dispatch.historyLength,
      at: now,
      fence: this.deps.fence?.token(),
    });
    let waiting = false;
    outcomes.forEach((o, i) => {
      const h = held[i]!;
      if (o === 'released') {
        this.cache.setLastJob(h.id, h.jobId);
        this.deps.logger?.info({ schedule: h.id, jobId: h.jobId, previousJobId: h.prevJobId }, 'held job enqueued');
      } else if (o === 'held' || o === 'changed') waiting = true;
    });
    this.heldWaiting = waiting;
  }

  /**
   * One log line per enqueued job: schedule id, job id, lateness (the job's enqueued_at
   * minus its occurrence, as in the run record). Written after the batches went out, so
   * logging never delays a fire.
   */
  private logFires(items: readonly FireItem[], outcomes: readonly FireOutcome[], sentAt: readonly number[]): void {
    const log = this.deps.logger;
    if (!log || log.isLevelEnabled?.('info') === false) return;
    items.forEach((item, i) => {
      const enqueued = outcomes[i]!;
      if (typeof enqueued !== 'number' || enqueued === 0) return;
      const enqueues = item.ops.filter((op) => op.kind === 'enqueue');
      // When the script skipped some (overlap, duplicate), which ones is not known here.
      if (enqueued !== enqueues.length)
        return void log.info({ schedule: item.id, enqueued, planned: enqueues.length }, 'jobs enqueued');
      for (const op of enqueues)
        log.info(
          {
            schedule: item.id,
            jobId: op.jobId,
            occurrence: new Date(op.occurrence).toISOString(),
            latenessMs: sentAt[i]! - op.occurrence,
          },
          'job enqueued',
        );
    });
  }
}
