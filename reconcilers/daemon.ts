/**
 * `pyrq daemon`: one long-lived process that keeps Redis in step with its sources and
 * fires on time. It composes the parts; each part owns its own behaviour:
 *
 * - sources (+ their watchers) -> ReconcileLoop (single-flight, dirty bit, backoff)
 * - a periodic deep re-sync (`daemon.resyncInterval`) that repairs drift
 * - the Dispatcher, run only while this daemon holds the leader lease
 * - the control socket (every daemon serves it, leader or not), whose handlers get a
 *   narrow `HandlerDeps`, not the daemon
 *
 * Redis outages: the connection retries forever with capped backoff; reconciles and
 * ticks fail, are logged, and are retried; the daemon never exits because Redis is gone.
 */
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../src/clock.js';
import { ClockWatch } from './clock-watch.js';
import type { Config } from '../src/config/config.js';
import { ControlServer } from '../src/control/server.js';
import { Dispatcher } from './dispatcher.js';
import { manualRun } from '../src/dispatch/manual-run.js';
import { redactText } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { createRedis } from '../src/redis/connect.js';
import { Keys } from '../src/redis/keys.js';
import { Registry } from '../src/registry/registry.js';
import type { ReconcileSummary, SourceStatus } from '../src/registry/registry-port.js';
import type { Source, SourceChange } from '../src/source.js';
import { SOCKET_SOURCE, type SocketSource } from '../sources/socket/socket-source.js';
import { DaemonHandlers, type HandlerDeps } from './daemon-handlers.js';
import { LeaderLease } from './leader-lease.js';
import type { ReconcileResult } from './reconcile-once.js';
import { type ReconcileRequest, ReconcileLoop } from './reconcile-loop.js';
import { sourceStatusFromPlan } from './source-status.js';
import { sourcesFromConfig } from './sources-from-config.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
}

export class Daemon {
  private readonly startedAt = Date.now();
  private readonly clock: Clock;
  private redis!: Redis;
  private keys!: Keys;
  private registry!: Registry;
  private sources: Source[] = [];
  private socketSource!: SocketSource;
  private loop!: ReconcileLoop;
  private dispatcher!: Dispatcher;
  private lease!: LeaderLease;
  private server!: ControlServer;
  private readonly sourceStatus = new Map<string, SourceStatus>();
  private resyncTimer: NodeJS.Timeout | null = null;
  private clockWatch?: ClockWatch;
  private readonly closers: (() => void)[] = [];
  private stopping = false;

  constructor(private opts: DaemonOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  private get logger(): Logger {
    return this.opts.logger;
  }

  /**
   * Builds every part, then starts them in order: the socket (every daemon serves it),
   * the source watchers, the lease campaign (the leader runs the dispatcher and the
   * reconciles), the periodic re-sync. Each part has its own start and stop.
   */
  async start(): Promise<void> {
    const { config, logger } = this.opts;
    this.redis = this.connectRedis();
    this.keys = new Keys(config.redis.prefix);
    this.registry = new Registry(this.redis, config.redis.prefix);
    this.buildSources();
    this.loop = new ReconcileLoop(() => ({ sources: this.sources, registry: this.registry, clock: this.clock, logger }), {
      logger,
      onResult: (r, req) => {
        // A deep re-sync reads every source and entry: its garbage is collected in idle time.
        if (req.deep) this.dispatcher.collectGarbageWhenIdle();
        return this.recordHealth(r);
      },
    });
    this.dispatcher = this.buildDispatcher();
    // Built before the socket serves, so every request finds it (it campaigns once started).
    this.lease = new LeaderLease(this.redis, this.keys.leader, config.daemon.leaseTtlMs, {
      onAcquire: async () => {
        void this.registry.recordDaemonFacts({ leader: this.lease.holderId, leaderSince: Date.now() }).catch(() => {});
        void this.reconcile({ deep: true, reason: 'became leader' });
        await this.dispatcher.start();
      },
      onLose: async () => {
        await this.dispatcher.stop();
      },
    }, logger);
    const handlers = new DaemonHandlers(this.handlerDeps());
    this.server = new ControlServer({
      path: config.daemon.socket,
      mode: config.daemon.socketMode,
      group: config.daemon.socketGroup,
      slowClientMs: config.daemon.clientTimeoutMs,
      logger,
      handle: (req) => handlers.handle(req),
    });
    await this.server.start();
    logger.info({ socket: config.daemon.socket, sources: this.sources.map((s) => s.name), redis: config.redis.url }, 'pyrq daemon started');
    await this.watchSources();
    // Every daemon records its clock's offset from Redis (pyrq status shows and warns).
    this.clockWatch = new ClockWatch({ redis: this.redis, clock: this.clock, registry: this.registry, holderId: this.lease.holderId, warnMs: config.daemon.clockOffsetWarnMs, logger });
    this.clockWatch.start();
    this.lease.start();
    this.resyncTimer = setInterval(() => {
      if (this.lease.isLeader) void this.reconcile({ deep: true, reason: 'periodic re-sync' });
    }, config.daemon.resyncIntervalMs);
  }

  /** The main connection: retries forever; after an outage the leader re-syncs. */
  private connectRedis(): Redis {
    const { config, logger } = this.opts;
    const redis = createRedis(config.redis, { persistent: true, connectionName: 'pyrq-daemon' });
    redis.on('error', (e: Error) => logger.warn({ err: { message: redactText(e.message, [config.redis.password]) } }, 'redis connection error'));
    redis.connect().catch(() => {}); // keeps retrying in the background; commands queue meanwhile
    let everReady = false;
    redis.on('ready', () => {
      // After an outage the registry may be gone (Redis without persistence) or behind:
      // a deep re-sync restores it; the dispatcher's catch-up policy covers missed fires.
      if (everReady) {
        logger.info('redis connection restored');
        if (this.lease.isLeader) void this.reconcile({ deep: true, reason: 'redis reconnected' });
      }
      everReady = true;
    });
    return redis;
  }

  private buildDispatcher(): Dispatcher {
    const { config, logger } = this.opts;
    // The dispatcher's bulk reads (warming thousands of schedules after a change) get a
    // connection of their own, so that a socket request's few commands never queue
    // behind them (an upsert took 150 ms instead of 5 with 100,000 schedules loaded).
    const fireRedis = this.redis.duplicate({ lazyConnect: false });
    fireRedis.on('error', () => undefined); // the main connection logs Redis errors
    this.closers.push(() => fireRedis.disconnect());
    // Fires go by Redis's clock (a manual test clock keeps its own time).
    return new Dispatcher({ redis: fireRedis, keys: this.keys, clock: this.clock, logger, config, redisClock: this.opts.clock === undefined });
  }

  private buildSources(): void {
    const { config, logger } = this.opts;
    // Given the daemon's Redis, the table adds the socket source (so it may be the only one).
    this.sources = sourcesFromConfig(config, { logger, socket: { redis: this.redis, keys: this.keys } });
    this.socketSource = this.sources.find((s) => s.name === SOCKET_SOURCE) as SocketSource;
  }

  /** Watches every source (at start, and again after a reload rebuilt them); the leader reconciles what changed. */
  private async watchSources(): Promise<void> {
    for (const s of this.sources) {
      await s.watch?.((change) => {
        if (!this.lease.isLeader) return;
        // Scoped: the plan covers what the source says changed (a full run when it cannot say).
        void this.reconcile({ sources: [change.source], scope: change.ids ?? [], reason: changeReason(change) });
      });
    }
  }

  /** What the socket's request handlers may see and do: never the daemon itself. */
  private handlerDeps(): HandlerDeps {
    return {
      clock: this.clock,
      reconcile: (req) => this.loop.request(req),
      registry: this.registry,
      socketSource: {
        // Rebuilt by a reload: always the current one.
        upsert: (raw) => this.socketSource.upsert(raw),
        remove: (id) => this.socketSource.remove(id),
      },
      sources: () => this.sources,
      runNow: (id) => manualRun({ redis: this.redis, keys: this.keys, clock: this.clock, config: this.opts.config }, id),
      lease: this.lease,
      facts: {
        startedAt: this.startedAt,
        socket: () => this.opts.config.daemon.socket,
        loop: this.loop,
        sourceStatus: () => [...this.sourceStatus.values()],
      },
    };
  }

  /** Requests a reconcile through the loop; failures are logged by the loop and retried. */
  private reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
    const p = this.loop.request(req);
    p.catch(() => {});
    return p;
  }

  /** After every reconcile: each source's status (a change of staleness is logged) and the run's summary, for `status`. */
  private async recordHealth(r: ReconcileResult): Promise<void> {
    const at = Date.now();
    const statuses = sourceStatusFromPlan(r.plan, at);
    for (const h of statuses) {
      const prev = this.sourceStatus.get(h.source);
      if (prev && prev.stale !== h.stale) this.logger.warn({ source: h.source, stale: h.stale }, h.stale ? 'source is stale: nothing it owns will be deleted' : 'source recovered');
      this.sourceStatus.set(h.source, h);
    }
    const summary: ReconcileSummary = { at, runId: r.runId, durationMs: r.durationMs, ...(r.applied ? { created: r.applied.created.length, updated: r.applied.updated.length, deleted: r.applied.deleted.length, conflicts: r.applied.conflicts.length } : {}), unchanged: r.plan.unchanged, errors: r.plan.errors.length };
    await this.registry.recordSourceStatus(statuses);
    await this.registry.recordDaemonFacts({ lastReconcile: summary });
  }

  /** SIGHUP: re-read the config file and rebuild the sources (Redis and the socket stay). */
  async reload(config: Config): Promise<void> {
    this.logger.info({ file: config.configFile }, 'reloading configuration');
    for (const s of this.sources) await s.close();
    this.opts = { ...this.opts, config };
    this.buildSources();
    await this.watchSources();
    if (this.lease.isLeader) await this.reconcile({ deep: true, reason: 'configuration reloaded' });
  }

  /**
   * Graceful stop: stop accepting on the socket, finish the reconcile or fire in flight,
   * release the lease, remove the socket file. Parts that a failed start never built are
   * skipped.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.server?.close();
    await this.loop?.stop();
    await this.lease?.stop(); // stops the dispatcher (after its tick in flight) and releases the lease
    await this.clockWatch?.stop();
    for (const s of this.sources) await s.close().catch(() => {});
    for (const close of this.closers) close();
    this.redis?.disconnect();
    this.logger.info('pyrq daemon stopped');
  }
}

/** The log reason of a source's change: which source, and the first few files or rows it names. */
function changeReason(change: SourceChange): string {
  return `${change.source} changed${change.origins ? `: ${change.origins.slice(0, 5).join(', ')}` : ''}`;
}
