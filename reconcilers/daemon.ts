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
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { type Clock, systemClock } from '../src/clock.js';
import { ClockWatch } from './clock-watch.js';
import type { Config } from '../src/config/config.js';
import { ControlServer } from '../src/control/server.js';
import type { DaemonView } from '../src/http/daemon-view.js';
import { PyrqMetrics } from '../src/http/metrics.js';
import { Dispatcher } from './dispatcher.js';
import { type DaemonDispatcher, DispatcherThread } from './dispatcher-thread.js';
import { dispatchWorkerScript } from '../src/package-files.js';
import { manualRun } from '../src/dispatch/manual-run.js';
import { backfill } from '../src/dispatch/backfill.js';
import { redactText, redactUrl } from '../src/errors.js';
import type { Logger, LogOptions } from '../src/log.js';
import { createRedis } from '../src/redis/connect.js';
import { type ConnectionLog, watchConnection } from '../src/redis/connection-log.js';
import { Keys } from '../src/redis/keys.js';
import { FencedError } from '../src/redis/commands/fence.js';
import { pauseSchedules, readPauses, resumeSchedules } from '../src/registry/pauses.js';
import { usedQueues } from '../src/doctor/queues.js';
import { workersByQueue } from '../src/doctor/rq-workers.js';
import { orphanLines, orphansOf } from '../src/status/orphans.js';
import { Registry } from '../src/registry/registry.js';
import type { ReconcileSummary, SourceStatus } from '../src/registry/registry-port.js';
import type { Source, SourceChange } from '../src/source.js';
import { SOCKET_SOURCE, type SocketSource } from '../sources/socket/socket-source.js';
import { btuSourceOf } from '../sources/sql/sql-source.js';
import { BtuRpcListener } from './btu-rpc-listener.js';
import { DaemonHandlers, type HandlerDeps } from './daemon-handlers.js';
import { HttpListener } from './http-listener.js';
import { SystemdNotifier } from './systemd-notify.js';
import { ForeignWrites } from './foreign-writes.js';
import { StateMirror } from './state-mirror.js';
import { stateFilePath } from '../src/state/state-file.js';
import { ownedSourcesOf } from './owned-sources.js';
import { recordOwner } from '../src/registry/source-owner.js';
import { collectingAsItGrows, growthCollections } from '../src/gc.js';
import { LeaderLease } from './leader-lease.js';
import { OutcomeLoop } from './outcome-loop.js';
import { readOutcomeFields } from '../src/status/outcome-fields.js';
import type { ReconcileResult } from './reconcile-once.js';
import { type ReconcileRequest, ReconcileLoop } from './reconcile-loop.js';
import { sourceStatusFromPlan } from './source-status.js';
import { summarizeReconcile } from '../src/status/reconcile-summary.js';
import { sourcesFromConfig } from './sources-from-config.js';
import { version as VERSION } from '../src/version.js';

/**
 * Heap growth allowed between full collections during a new leader's first reconcile.
 * 100,000 schedules, start-up peak RSS (VmHWM): 297-354 MB without, 255-279 MB with 48,
 * 297-306 MB with 96 (docs/performance.md); ~0.3 s more wall, ~0.5 s more CPU for that reconcile.
 */
const FIRST_RECONCILE_GARBAGE_BYTES = 48 * 2 ** 20;

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /**
   * The options `logger` was made with: the dispatcher thread makes its own logger with
   * them (same destination, format, level). Absent: its lines are relayed to `logger`.
   */
  log?: LogOptions;
  clock?: Clock;
}

/**
 * This many changes since the last request (one reconcile or several) ask for a full
 * garbage collection in idle time: a storm's removal comes as many reconciles of a few
 * hundred deletes each, and the last one of 1,000 on its own may be long before its end.
 */
const BULK_CHANGES = 1000;

export class Daemon {
  private readonly startedAt = Date.now();
  /** Registry changes planned since the last full collection was asked for. */
  private changesSinceGc = 0;
  private readonly clock: Clock;
  private redis!: Redis;
  private connection!: ConnectionLog;
  private keys!: Keys;
  private registry!: Registry;
  private sources: Source[] = [];
  private socketSource!: SocketSource;
  private loop!: ReconcileLoop;
  private dispatcher!: DaemonDispatcher;
  /** The leader's reader of its jobs' outcomes (reconcilers/outcome-loop.ts). */
  private outcomes!: OutcomeLoop;
  private lease!: LeaderLease;
  private server!: ControlServer;
  private handlers!: DaemonHandlers;
  private btuRpc: BtuRpcListener | null = null;
  private foreignWrites?: ForeignWrites;
  private stateMirror?: StateMirror;
  /** The state mirror's first round (a restore, when Redis lost its state): the first reconcile waits for it. */
  private stateChecked: Promise<void> = Promise.resolve();
  private readonly sourceStatus = new Map<string, SourceStatus>();
  /** The last reconcile's summary, as recorded in Redis for `status`. */
  private lastSummary: ReconcileSummary | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private clockWatch?: ClockWatch;
  private readonly closers: (() => void)[] = [];
  private stopping = false;
  /** The HTTP listener and its metrics (`--http`), and systemd's notify socket: absent when off. */
  private metrics?: PyrqMetrics;
  private http?: HttpListener;
  private notifier?: SystemdNotifier;
  private leaderSince?: number;
  private httpRegistry?: Registry;
  /** Counts leaderships (and their ends), so a start-up wait of a lost leadership does not start the dispatcher. */
  private leaderTerm = 0;
  private dispatcherStopped: Promise<void> = Promise.resolve();

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
    testHookBlockMain(logger);
    this.redis = this.connectRedis();
    this.keys = new Keys(config.redis.prefix);
    this.registry = new Registry(this.redis, config.redis.prefix);
    this.buildSources();
    if (config.http) this.metrics = new PyrqMetrics(this.daemonView());
    this.loop = new ReconcileLoop(
      (req) => ({ sources: this.sources, registry: this.runRegistry(req.leaderOnly), clock: this.clock, logger }),
      {
        logger,
        // A fenced apply is not retried: the lease stepped down (and said so once).
        isTerminal: (err) => err instanceof FencedError,
        quiet: () => this.connection.isDown(),
        onResult: (r, req) => {
          // A deep re-sync reads every source and entry, a bulk change (a file storm) makes
          // and drops thousands of schedules: their garbage is collected in idle time.
          this.changesSinceGc += r.plan.changes.length;
          if (req.deep || this.changesSinceGc >= BULK_CHANGES) {
            this.changesSinceGc = 0;
            this.dispatcher.collectGarbageWhenIdle();
          }
          this.metrics?.observeReconcile(req.deep === true, r.durationMs, r.plan, r.applied);
          return this.recordHealth(r, req.reason);
        },
        onError: () => this.metrics?.reconcileFailed(),
      },
    );
    this.dispatcher = this.buildDispatcher();
    // Its own connection: a pass's pipeline of a thousand reads never delays a lease renewal.
    const outcomeRedis = this.redis.duplicate({ lazyConnect: false, connectionName: 'pyrq-daemon-outcomes' });
    outcomeRedis.on('error', () => undefined); // the main connection logs Redis errors
    this.closers.push(() => outcomeRedis.disconnect());
    this.outcomes = new OutcomeLoop({
      redis: outcomeRedis,
      keys: this.keys,
      clock: this.clock,
      logger,
      quiet: () => this.connection.isDown(),
      ...(this.metrics ? { observer: this.metrics } : {}),
    });
    // Built before the socket serves, so every request finds it (it campaigns once started).
    this.lease = new LeaderLease(
      this.redis,
      this.keys.leader,
      config.daemon.leaseTtlMs,
      {
        onAcquire: () => {
          this.leaderSince = Date.now();
          this.metrics?.leadershipChanged();
          void this.registry
            .recordDaemonFacts({ leader: this.lease.holderId, leaderSince: Date.now() })
            .catch(() => {});
          void this.recordOwnership();
          this.outcomes.start();
          // Not awaited: the lease must keep renewing while a long first reconcile runs.
          void this.dispatchAfterFirstReconcile(++this.leaderTerm);
        },
        onLose: async () => {
          this.leaderSince = undefined;
          this.metrics?.leadershipChanged();
          this.leaderTerm++;
          void this.outcomes.stop();
          this.dispatcherStopped = this.dispatcher.stop();
          await this.dispatcherStopped;
        },
      },
      logger,
      { sub: this.leaseSubscriber(), channel: this.keys.leaderReleased },
    );
    const handlers = (this.handlers = new DaemonHandlers(this.handlerDeps()));
    this.server = new ControlServer({
      path: config.daemon.socket,
      mode: config.daemon.socketMode,
      group: config.daemon.socketGroup,
      slowClientMs: config.daemon.clientTimeoutMs,
      logger,
      handle: (req) => handlers.handle(req),
    });
    if (config.http) {
      // Before the socket: a port in use is a start-up error, reported before anything runs.
      this.http = new HttpListener({
        ...config.http,
        view: this.daemonView(),
        // Only with a token (the listener checks it too): without one the page is read-only.
        ...(config.http.token !== undefined
          ? {
              actions: {
                pause: (id: string, reason?: string) => this.pause([id], reason ?? 'paused from the status page'),
                resume: (id: string) => this.resume([id]),
                runNow: (id: string) => this.runNow(id),
              },
            }
          : {}),
        metrics: this.metrics!,
        logger,
      });
      await this.http.start().catch(async (e: unknown) => {
        await this.stop(); // the Redis connection would keep the process alive
        throw e;
      });
    }
    await this.server.start();
    logger.info(await this.startFacts(), 'pyrq daemon started');
    await this.watchSources();
    // Every daemon records its clock's offset from Redis (pyrq status shows and warns).
    this.clockWatch = new ClockWatch({
      redis: this.redis,
      clock: this.clock,
      registry: this.registry,
      holderId: this.lease.holderId,
      warnMs: config.daemon.clockOffsetWarnMs,
      logger,
    });
    this.clockWatch.start();
    await this.watchForeignWrites();
    this.mirrorState();
    void this.warnOrphans();
    this.lease.start();
    this.syncBtuRpc();
    this.resyncTimer = setInterval(() => {
      // Leader-only for the reason the reconnect's re-sync is (connectRedis).
      if (this.lease.isLeader) void this.reconcile({ deep: true, reason: 'periodic re-sync', leaderOnly: true });
    }, config.daemon.resyncIntervalMs);
    this.notifySystemd();
  }

  /**
   * Under systemd (Type=notify): READY=1 once this daemon can do its job (the leader
   * after its first reconcile, a standby once it knows who leads), then watchdog pings.
   */
  private notifySystemd(): void {
    const notifier = SystemdNotifier.fromEnv(process.env, this.logger);
    if (!notifier) return;
    this.notifier = notifier;
    const check = setInterval(() => {
      const ready = this.lease.isLeader ? this.loop.lastResult !== undefined : this.lease.currentHolder !== null;
      if (!ready || this.stopping) return;
      clearInterval(check);
      void notifier.ready(
        this.lease.isLeader ? 'leader: reconciled, firing' : `standby; leader: ${this.lease.currentHolder}`,
      );
      notifier.startWatchdog(() => !this.stopping);
    }, 100);
    check.unref();
    this.closers.push(() => clearInterval(check));
  }

  /**
   * What the HTTP listener and the metrics may see of this daemon (read-only). Their
   * registry reads (a page view reads every entry) go over a connection of their own, so
   * that the lease's renewals on the main connection never queue behind them.
   */
  private daemonView(): DaemonView {
    if (!this.httpRegistry) {
      const httpRedis = this.redis.duplicate({ lazyConnect: false, connectionName: 'pyrq-daemon-http' });
      httpRedis.on('error', () => undefined); // the main connection logs Redis errors
      this.closers.push(() => httpRedis.disconnect());
      this.httpRegistry = new Registry(httpRedis, this.opts.config.redis.prefix);
    }
    const registry = this.httpRegistry;
    return {
      startedAt: this.startedAt,
      role: () => ({
        leader: this.lease?.isLeader ?? false,
        holderId: this.lease?.holderId ?? '',
        currentLeader: this.lease?.isLeader ? this.lease.holderId : (this.lease?.currentHolder ?? null),
        ...(this.leaderSince ? { leaderSince: this.leaderSince } : {}),
      }),
      redisReady: () => this.redis.status === 'ready',
      configuredSources: () => this.sources.map((s) => s.name),
      // The leader's own view after its first reconcile; else what the leader recorded in Redis.
      sources: async () =>
        this.lease?.isLeader && this.sourceStatus.size > 0
          ? [...this.sourceStatus.values()]
          : registry.readSourceStatus(),
      entries: (ids) => registry.readEntries(ids),
      index: () => registry.readIndex(),
      specs: (ids) => registry.readSpecs(ids),
      outcomeFields: (ids) => readOutcomeFields(registry.redis, registry.keys, ids),
      paused: async () => new Set((await readPauses(registry.redis, registry.keys)).keys()),
      pauses: () => readPauses(registry.redis, registry.keys),
      queuesWithoutWorker: async (specs) => {
        const used = [...usedQueues(specs, this.opts.config.frappe.benchId).keys()];
        const workers = await workersByQueue(registry.redis, used);
        return used.filter((q) => (workers.get(q) ?? []).length === 0);
      },
      // The summary this daemon records in Redis and answers `status` with: one shape everywhere.
      lastReconcile: () => ({
        summary: this.lastSummary,
        ...(this.loop.lastError ? { error: this.loop.lastError } : {}),
      }),
    };
  }

  /**
   * Start-up safety: a new leader fires nothing until a full reconcile of every
   * configured source has finished, so a schedule deleted or edited while pyrq was down
   * (or while another daemon led) never fires in its old form. A source that cannot be
   * read is stale and holds its entries, as in every reconcile; a run that fails (Redis
   * gone) is retried with backoff while this daemon still leads. `term` tells a later
   * leadership from this one: losing the lease meanwhile cancels the start.
   */
  private async dispatchAfterFirstReconcile(term: number): Promise<void> {
    const current = () => term === this.leaderTerm && this.lease.isLeader && !this.stopping;
    for (let failures = 0; current(); failures++) {
      try {
        await this.stateChecked; // pauses restored before anything fires
        // Nothing fires until it ends, so its garbage is collected as it grows (gc.ts).
        const collections = growthCollections.count;
        // Leader-only: a leadership lost before the run starts must not write unfenced.
        await collectingAsItGrows(FIRST_RECONCILE_GARBAGE_BYTES, () =>
          this.loop.request({ deep: true, reason: 'became leader', leaderOnly: true }),
        );
        await this.dispatcherStopped; // a stop of an earlier leadership has finished
        if (!current()) return;
        this.logger.info(
          { fullCollections: growthCollections.count - collections },
          'first reconcile finished: dispatching',
        );
        await this.dispatcher.start();
        return;
      } catch {
        // The loop logged the failure; ask again after a backoff of our own.
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** Math.min(failures, 7), 30_000)));
      }
    }
  }

  /**
   * The registry one reconcile run writes through. Fencing: a run that starts while this
   * daemon leads writes with its lease token, and Redis refuses every batch of it once
   * the lease holds another token or none (frozen past the TTL, Redis restarted empty);
   * the refusal steps the lease down. A run that starts on a standby (a socket request)
   * writes unfenced, as `pyrq apply` does: compare-and-set only; unless it is a
   * leader-only run (the repair of a foreign write), which Redis then refuses.
   */
  private runRegistry(leaderOnly = false): Registry {
    const token = this.lease?.isLeader || leaderOnly ? this.lease.holderId : undefined;
    if (token === undefined) return this.registry;
    return new Registry(this.redis, this.opts.config.redis.prefix, {
      token: () => token,
      refused: () => this.lease.fenced(),
    });
  }

  /**
   * Orphans: entries of sources this daemon is not configured with. They keep firing (a
   * misconfigured restart must not drop a source's schedules); one warning at start
   * names each such source with its count and the command that removes them. The
   * configured sources are recorded for `pyrq status` without a daemon.
   */
  private async warnOrphans(): Promise<void> {
    // Commands are refused until the connection is up (it retries on its own).
    if (this.redis.status !== 'ready') await new Promise((resolve) => this.redis.once('ready', resolve));
    try {
      const names = this.sources.map((s) => s.name);
      await this.registry.recordDaemonFacts({ sources: names });
      const orphans = orphansOf(await this.registry.readIndex(), names);
      if (orphans.length > 0)
        this.logger.warn(
          { orphans, hint: orphanLines(orphans) },
          `schedules of ${orphans.length} source(s) not configured here keep firing: ${orphans.map((o) => `${o.source} (${o.schedules})`).join(', ')}; "pyrq prune --source NAME" removes them`,
        );
    } catch (err) {
      this.logger.warn({ err }, 'could not check for schedules of sources not configured here');
    }
  }

  /**
   * One writer per source: the leader records the sources it reconciles and where each
   * reads (one-shot commands refuse to write them from elsewhere: cli/owner-guard.ts).
   */
  private async recordOwnership(): Promise<void> {
    if (!this.lease.isLeader) return;
    const locations = this.sourceLocations();
    await recordOwner(this.redis, this.keys, {
      holderId: this.lease.holderId,
      host: hostname(),
      pid: process.pid,
      sources: ownedSourcesOf(this.sources).map((s) => (s.location ? s : { ...s, location: locations[s.name] ?? '' })),
    }).catch((err: unknown) => this.logger.warn({ err }, 'could not record the sources this daemon owns'));
  }

  /** The lease's own subscriber: a leader's clean stop is published, and a standby takes over at once. */
  private leaseSubscriber(): Redis {
    const sub = this.redis.duplicate({
      enableOfflineQueue: true,
      lazyConnect: false,
      connectionName: 'pyrq-daemon-lease',
    });
    sub.on('error', () => undefined); // the main connection logs Redis errors
    return sub;
  }

  /** The leader re-reconciles a source of its own that another process wrote (reconcilers/foreign-writes.ts). */
  private async watchForeignWrites(): Promise<void> {
    const sub = this.redis.duplicate({
      enableOfflineQueue: true,
      lazyConnect: false,
      connectionName: 'pyrq-daemon-writes',
    });
    sub.on('error', () => undefined); // the main connection logs Redis errors
    this.foreignWrites = new ForeignWrites({
      sub,
      redis: this.redis,
      busy: () => this.loop.busy,
      keys: this.keys,
      owned: () => (this.lease.isLeader ? this.sources.map((s) => s.name) : []),
      // Fenced even if it runs after this daemon lost the lease: a repair is the leader's alone.
      repair: (sources, reason) => this.reconcile({ sources: [...sources], reason, leaderOnly: true }),
      logger: this.logger,
    });
    // Not awaited: the subscription completes once Redis is up (it may be down at start).
    void this.foreignWrites.start().catch(() => {});
  }

  /**
   * Pushed schedules and pauses survive a Redis that restarts empty: every daemon mirrors
   * them into its state file, and the first to find Redis without them restores them
   * (reconcilers/state-mirror.ts), then reconciles the socket source and wakes the dispatchers.
   */
  private mirrorState(): void {
    const { config } = this.opts;
    const sub = this.redis.duplicate({
      enableOfflineQueue: true,
      lazyConnect: false,
      connectionName: 'pyrq-daemon-state',
    });
    sub.on('error', () => undefined); // the main connection logs Redis errors
    this.stateMirror = new StateMirror({
      redis: this.redis,
      sub,
      keys: this.keys,
      file: this.stateFile(),
      redisName: this.redisLocation(),
      prefix: config.redis.prefix,
      holderId: () => this.lease.holderId,
      afterRestore: async () => {
        await this.redis.publish(this.keys.events, 'changed');
        // Only the leader writes the registry, fenced: after Redis restarted empty nobody
        // holds the lease, and an unfenced write here would land before it is taken again.
        // Whoever takes it next runs the deep reconcile of becoming leader, which covers this.
        if (!this.lease?.isLeader) return;
        await this.reconcile({
          sources: [SOCKET_SOURCE],
          reason: 'pushed schedules restored from the state file',
          leaderOnly: true,
        });
      },
      logger: this.logger,
    });
    // Not awaited here: the first reconcile waits for it (Redis may be down at start).
    this.stateChecked = this.stateMirror.start().catch(() => {});
  }

  /** This daemon's state file: one per Redis and prefix in the state directory. */
  private stateFile(): string {
    return stateFilePath(this.opts.config.daemon.stateDir, this.redisLocation(), this.opts.config.redis.prefix);
  }

  /** The main connection: retries forever; after an outage the leader re-syncs. */
  private connectRedis(): Redis {
    const { config, logger } = this.opts;
    const redis = createRedis(config.redis, { persistent: true, connectionName: `pyrq-daemon-${process.pid}` });
    // One warning when lost, one info line when back (with the downtime), retries at debug.
    this.connection = watchConnection(redis, logger, this.redisLocation(), (t) =>
      redactText(t, [config.redis.password]),
    );
    redis.connect().catch(() => {}); // keeps retrying in the background; commands queue meanwhile
    let everReady = false;
    redis.on('ready', () => {
      // After an outage the registry may be gone (Redis without persistence) or behind:
      // a deep re-sync restores it; the dispatcher's catch-up policy covers missed fires.
      // Pushes and pauses that Redis lost are restored first (reconcilers/state-mirror.ts).
      // Leader-only (fenced with this daemon's id even if it has stepped down by the time
      // the run starts): a Redis that restarted empty holds no lease, and the lease check
      // that notices it can step this daemon down between the request and the run; an
      // unfenced run then wrote the registry before anyone held the lease again (seen in
      // CI: daemon-fencing.test.ts). Whoever takes the lease next restores it.
      if (everReady && this.lease.isLeader)
        void (this.stateMirror?.check() ?? Promise.resolve()).finally(
          () => void this.reconcile({ deep: true, reason: 'redis reconnected', leaderOnly: true }),
        );
      everReady = true;
    });
    return redis;
  }

  /** Redis as the logs name it: the URL without credentials, or the sentinel master. */
  private redisLocation(): string {
    const r = this.opts.config.redis;
    return r.sentinels?.length
      ? `sentinel master "${r.name ?? 'mymaster'}" via ${r.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')}`
      : redactUrl(r.url);
  }

  /** Where each source reads: its own `location`, the socket's path for the socket source. */
  private sourceLocations(): Record<string, string> {
    return Object.fromEntries(
      this.sources.map((s) => [s.name, s.location ?? (s.name === SOCKET_SOURCE ? this.opts.config.daemon.socket : '')]),
    );
  }

  /**
   * The start line's facts: where every source reads (directory, database without its
   * password, the socket's path), Redis, and how many schedules the registry holds
   * (asked for one second at most: Redis may be down at start).
   */
  private async startFacts(): Promise<Record<string, unknown>> {
    const { config } = this.opts;
    const sources = this.sourceLocations();
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    const registered = await Promise.race([
      (this.redis.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.redis.once('ready', (onReady = resolve)))
      )
        .then(() => this.redis.hlen(this.keys.index))
        .catch(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1000))),
    ]);
    clearTimeout(timer);
    if (onReady) this.redis.off('ready', onReady);
    return {
      version: VERSION,
      socket: config.daemon.socket,
      stateFile: this.stateFile(),
      sources,
      sourceCount: this.sources.length,
      redis: this.redisLocation(),
      prefix: config.redis.prefix,
      ...(registered !== undefined ? { registered } : {}),
    };
  }

  /**
   * The dispatcher: on a thread of its own (dispatcher-thread.ts) when the daemon runs by
   * the real clock and the thread's script is built; on this thread otherwise (tests with
   * a manual clock, the sources run by vitest) and after the thread failed.
   */
  private buildDispatcher(): DaemonDispatcher {
    const { config, logger } = this.opts;
    // Every fire carries the lease token: the dispatcher runs only while this daemon leads.
    const fence = { token: () => this.lease.holderId, refused: () => this.lease.fenced() };
    const inThread = () => {
      // The dispatcher's bulk reads (warming thousands of schedules after a change) get a
      // connection of their own, so that a socket request's few commands never queue
      // behind them (an upsert took 150 ms instead of 5 with 100,000 schedules loaded).
      const fireRedis = this.redis.duplicate({ lazyConnect: false });
      fireRedis.on('error', () => undefined); // the main connection logs Redis errors
      this.closers.push(() => fireRedis.disconnect());
      // Fires go by Redis's clock (a manual test clock keeps its own time).
      return new Dispatcher({
        redis: fireRedis,
        keys: this.keys,
        clock: this.clock,
        logger,
        config,
        fence,
        observer: this.metrics,
        redisClock: this.opts.clock === undefined,
      });
    };
    const script = this.opts.clock === undefined ? dispatchWorkerScript() : undefined;
    if (!script) return inThread();
    const bundlerPaths = (globalThis as { __bundlerPathsOverrides?: Record<string, string> }).__bundlerPathsOverrides;
    const log = this.opts.log;
    return new DispatcherThread({
      script,
      data: {
        config: { redis: config.redis, dispatch: config.dispatch, frappe: config.frappe },
        ...(log ? { log } : {}),
        level: logger.level,
        ...(bundlerPaths ? { bundlerPaths } : {}),
        connectionName: `pyrq-daemon-${process.pid}`, // the name of the fire connection before the thread (tests find a daemon's connections by it)
      },
      logger,
      fence,
      ...(this.metrics ? { observer: this.metrics } : {}),
      inThread,
      reopenOnSigusr2: typeof log?.file === 'string',
    });
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

  /**
   * Runs the BTU RPC listener while a BTU source is configured and `btu.rpc` is on (at
   * start and after a reload). It acts through the same handler as the socket's BTU messages.
   */
  private syncBtuRpc(): void {
    const want = this.opts.config.btu.rpc && btuSourceOf(this.sources)?.mode === 'btu';
    if (want && !this.btuRpc) {
      // A connection of its own: BRPOP blocks it, so it never delays anything else.
      const blocking = this.redis.duplicate({ lazyConnect: false, connectionName: 'pyrq-btu-rpc' });
      blocking.on('error', () => undefined); // the main connection logs Redis errors
      this.btuRpc = new BtuRpcListener({
        blocking,
        redis: this.redis,
        keys: this.keys,
        isLeader: () => this.lease.isLeader,
        act: (req) => this.handlers.btu(req),
        logger: this.logger,
      });
      this.btuRpc.start();
    } else if (!want && this.btuRpc) {
      const l = this.btuRpc;
      this.btuRpc = null;
      void l.stop();
    }
  }

  // The operator's actions, one path for the socket (`pyrq pause` etc. through the daemon)
  // and the status page's buttons: the core calls the CLI commands make.
  private runNow(id: string) {
    return manualRun({ redis: this.redis, keys: this.keys, clock: this.clock, config: this.opts.config }, id);
  }
  private pause(ids: readonly string[] | 'all', reason?: string) {
    return pauseSchedules(this.redis, this.keys, ids, { now: this.clock.now(), reason });
  }
  private resume(ids: readonly string[] | 'all') {
    return resumeSchedules(this.redis, this.keys, ids);
  }

  /** What the socket's request handlers may see and do: never the daemon itself. */
  private handlerDeps(): HandlerDeps {
    return {
      clock: this.clock,
      reconcile: (req) => this.loop.request(req),
      logger: this.logger,
      registry: this.registry,
      socketSource: {
        // Rebuilt by a reload: always the current one.
        upsert: (raw) => this.socketSource.upsert(raw),
        validate: (raw) => this.socketSource.validate(raw),
        remove: (id) => this.socketSource.remove(id),
      },
      sources: () => this.sources,
      runNow: (id) => this.runNow(id),
      backfill: (id, from, to, opts) =>
        backfill(
          { redis: this.redis, keys: this.keys, clock: this.clock, config: this.opts.config },
          id,
          from,
          to,
          opts,
        ),
      lease: this.lease,
      pauses: {
        pause: (ids, reason) => this.pause(ids, reason),
        resume: (ids) => this.resume(ids),
        read: () => readPauses(this.redis, this.keys),
      },
      facts: {
        startedAt: this.startedAt,
        socket: () => this.opts.config.daemon.socket,
        loop: this.loop,
        sourceStatus: () => [...this.sourceStatus.values()],
        lastReconcile: () => this.lastSummary,
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
  private async recordHealth(r: ReconcileResult, reason?: string): Promise<void> {
    const at = Date.now();
    const statuses = sourceStatusFromPlan(
      r.plan,
      at,
      undefined,
      this.sourceLocations(),
      Object.fromEntries(this.sources.map((s) => [s.name, s.detail])),
    );
    for (const h of statuses) {
      const prev = this.sourceStatus.get(h.source);
      if (prev && prev.stale !== h.stale)
        this.logger.warn(
          { source: h.source, stale: h.stale },
          h.stale ? 'source is stale: nothing it owns will be deleted' : 'source recovered',
        );
      this.sourceStatus.set(h.source, h);
    }
    this.metrics?.observeSources(statuses);
    this.lastSummary = summarizeReconcile(r, at, reason);
    await this.registry.recordSourceStatus(statuses);
    await this.registry.recordDaemonFacts({ lastReconcile: this.lastSummary });
  }

  /** SIGHUP: re-read the config file and rebuild the sources (Redis and the socket stay). */
  async reload(config: Config): Promise<void> {
    this.logger.info({ file: config.configFile }, 'reloading configuration');
    for (const s of this.sources) await s.close();
    this.opts = { ...this.opts, config };
    this.buildSources();
    await this.watchSources();
    void this.warnOrphans();
    this.syncBtuRpc();
    await this.recordOwnership();
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
    await this.notifier?.stopping();
    this.notifier?.close();
    await this.http?.close();
    await this.server?.close();
    await this.btuRpc?.stop();
    await this.handlers?.close();
    await this.loop?.stop();
    await this.lease?.stop(); // stops the dispatcher (after its tick in flight) and releases the lease
    await this.dispatcher?.close?.();
    await this.outcomes?.stop();
    await this.clockWatch?.stop();
    await this.foreignWrites?.stop();
    await this.stateMirror?.stop();
    for (const s of this.sources) await s.close().catch(() => {});
    for (const close of this.closers) close();
    this.connection?.stop();
    this.redis?.disconnect();
    this.logger.info('pyrq daemon stopped');
  }
}

/**
 * A test hook (test/integration/dispatcher-thread.test.ts): with PYRQ_TEST_BLOCK_MAIN_MS
 * set, SIGUSR2 blocks the main thread for that long (Atomics.wait), then logs when. The
 * dispatcher thread must go on firing meanwhile. Never set outside that test.
 */
function testHookBlockMain(logger: Logger): void {
  const ms = Number(process.env.PYRQ_TEST_BLOCK_MAIN_MS);
  if (!(ms > 0)) return;
  process.on('SIGUSR2', () => {
    const from = Date.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    logger.info({ from, until: Date.now() }, 'main thread blocked (test hook)');
  });
}

/** The log reason of a source's change: which source, and the first few files or rows it names. */
function changeReason(change: SourceChange): string {
  // "." is the watched directory itself (it went away or came back): say so in words.
  const names = change.origins?.slice(0, 5).map((o) => (o === '.' || o === '' ? 'the whole directory' : o));
  return `${change.source} changed${names ? `: ${names.join(', ')}` : ''}`;
}
