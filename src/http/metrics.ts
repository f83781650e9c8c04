/**
 * pyrq's Prometheus metrics (prom-client), named by the Prometheus conventions: base
 * units (`_seconds`), counters ending in `_total`, labels with bounded values (source,
 * queue, outcome, reason, operation; never a schedule id). Events (fires, reconciles,
 * leadership changes) are counted as they happen; states (sources, schedules, leader,
 * Redis) are read from the `DaemonView` when scraped.
 *
 * The counts of fire outcomes come from the fire script's own replies (the items a
 * batch was built from and the per-item outcomes `fire-batch.ts` decodes), so the
 * metrics say what Redis did, not what the dispatcher meant to do.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FireItem, FireOutcome } from '../redis/commands/fire-batch.js';
import { type FireSummary, summarizeFires } from '../dispatch/fire-summary.js';
import type { SourceStatus } from '../registry/registry-port.js';
import { QueueLabels } from './queue-labels.js';
import { type HealthCounts, ScheduleCounter } from './schedule-counts.js';
import type { Plan } from '../plan/types.js';
import type { ApplyResult } from '../registry/registry-port.js';
import { version } from '../version.js';
import type { DaemonView } from './daemon-view.js';
import type { OutcomePass } from '../dispatch/outcome-reader.js';
import { JOB_OUTCOMES } from '../rq/job-outcome.js';

/** 1 ms to 60 s: on-time fires land in the first buckets, a catch-up after an outage in the last. */
export const LATENESS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export { type ScheduleState, scheduleState } from './schedule-counts.js';

export class PyrqMetrics {
  readonly registry = new Registry();
  private readonly occurrences: Counter<'queue' | 'outcome' | 'reason'>;
  private readonly conflicts: Counter<'reason'>;
  private readonly lateness: Histogram;
  private readonly tickDuration: Histogram;
  private readonly reconcileDuration: Histogram<'kind'>;
  private readonly reconciles: Counter<'result'>;
  private readonly changes: Counter<'operation' | 'source'>;
  private readonly leadershipChanges: Counter;
  private readonly lastFire: Gauge;
  private readonly jobOutcomes: Counter<'outcome'>;
  private readonly outcomeLag: Histogram;
  private readonly lastSuccess = new Map<string, number>();
  private readonly counter: ScheduleCounter;
  /** The bounded values of the `queue` label (queue-labels.ts). */
  private readonly queueLabels = new QueueLabels();
  /** The label sets `occurrences` has series for, by queue label: to remove a queue's. */
  private readonly occurrenceSeries = new Map<string, Set<string>>();
  /** The queue count the labels were last updated from. */
  private queuesSeen?: ReadonlyMap<string, number>;

  constructor(private readonly view: DaemonView) {
    this.counter = new ScheduleCounter(view);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'pyrq_build_info',
      help: 'pyrq and Node.js versions (always 1).',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version, node_version: process.versions.node }, 1);
    this.occurrences = new Counter({
      name: 'pyrq_occurrences_total',
      help: 'Occurrences handled by the dispatcher: outcome enqueued, or skipped with the reason (missed, deadline, paused, overlap, duplicate).',
      labelNames: ['queue', 'outcome', 'reason'],
      registers,
      collect() {
        self.pruneQueues();
      },
    });
    this.conflicts = new Counter({
      name: 'pyrq_fire_conflicts_total',
      help: "Fire items the script refused: not_due (another dispatcher or an apply got there first), stale_spec, stale_overlap, paused (retried), early (not yet due by Redis's clock: retried by it).",
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['not_due', 'stale_spec', 'stale_overlap']) this.conflicts.inc({ reason }, 0);
    this.lateness = new Histogram({
      name: 'pyrq_fire_lateness_seconds',
      help: "How late each job was enqueued after its occurrence (the run record's lateness).",
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.tickDuration = new Histogram({
      name: 'pyrq_dispatcher_tick_duration_seconds',
      help: 'Duration of dispatcher ticks that fired something.',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.lastFire = new Gauge({
      name: 'pyrq_last_fire_timestamp_seconds',
      help: 'When this daemon last enqueued a job (Unix time; 0: never).',
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'pyrq_reconcile_duration_seconds',
      help: 'Duration of successful reconciles, by kind (deep: a full re-sync; event: a change).',
      labelNames: ['kind'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.reconciles = new Counter({
      name: 'pyrq_reconciles_total',
      help: 'Reconciles run by this daemon, by result (success, failure).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['success', 'failure']) this.reconciles.inc({ result }, 0);
    this.changes = new Counter({
      name: 'pyrq_reconcile_changes_total',
      help: 'Registry changes applied by reconciles, by operation (create, update, delete, conflict) and source.',
      labelNames: ['operation', 'source'],
      registers,
    });
    this.leadershipChanges = new Counter({
      name: 'pyrq_leadership_changes_total',
      help: 'Times this daemon became or stopped being the leader.',
      registers,
    });
    // prom-client calls collect() with the metric as `this`; the collector is `self`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: 'pyrq_leader',
      help: '1 while this daemon holds the leader lease, else 0.',
      registers,
      collect() {
        this.set(self.view.role().leader ? 1 : 0);
      },
    });
    new Gauge({
      name: 'pyrq_redis_up',
      help: '1 while the main Redis connection is ready, else 0.',
      registers,
      collect() {
        this.set(self.view.redisReady() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'pyrq_source_up',
      help: "1 when the source's last read was complete, 0 when it is stale (nothing it owns is deleted).",
      labelNames: ['source'],
      registers,
      async collect() {
        for (const s of await self.sourcesOrNone()) this.set({ source: s.source }, s.stale ? 0 : 1);
      },
    });
    new Gauge({
      name: 'pyrq_source_errors',
      help: "Errors in the source's last read (files or rows that did not parse or validate).",
      labelNames: ['source'],
      registers,
      async collect() {
        for (const s of await self.sourcesOrNone()) this.set({ source: s.source }, s.errors.length);
      },
    });
    new Gauge({
      name: 'pyrq_source_last_success_timestamp_seconds',
      help: 'When the source was last read completely (Unix time).',
      labelNames: ['source'],
      registers,
      async collect() {
        for (const s of await self.sourcesOrNone()) {
          const at = Math.max(self.lastSuccess.get(s.source) ?? 0, s.stale ? 0 : s.at);
          if (at > 0) this.set({ source: s.source }, at / 1000);
        }
      },
    });
    new Gauge({
      name: 'pyrq_schedules',
      help: 'Schedules in the registry by source and state (enabled, disabled, done); recounted in the background after changes (at most every 15 s) and every 10 minutes.',
      labelNames: ['source', 'state'],
      registers,
      collect() {
        const counts = self.counter.current();
        if (!counts) return;
        this.reset();
        for (const c of counts) this.set({ source: c.source, state: c.state }, c.n);
      },
    });
    this.jobOutcomes = new Counter({
      name: 'pyrq_job_outcomes_total',
      help: "Final outcomes of pyrq's jobs as RQ recorded them, learnt by the leader's outcome reader: finished, failed, stopped, canceled, unknown (RQ deleted the job before pyrq read it).",
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of JOB_OUTCOMES)
      if (outcome !== 'queued' && outcome !== 'started') this.jobOutcomes.inc({ outcome }, 0);
    this.outcomeLag = new Histogram({
      name: 'pyrq_job_outcome_lag_seconds',
      help: "How long after a job ended (RQ's ended_at) pyrq learnt its outcome.",
      buckets: LATENESS_BUCKETS,
      registers,
    });
    for (const [name, pick, what] of [
      ['pyrq_schedules_failing', (h: HealthCounts) => h.failing, 'whose last failAfter jobs (default 3) failed'],
      [
        'pyrq_schedules_overdue',
        (h: HealthCounts) => h.overdue,
        'with no successful job within alertAfter (default: two occurrences plus the job timeout)',
      ],
    ] as const)
      new Gauge({
        name,
        help: `Enabled schedules ${what}, by source (a paused one is never overdue); counted every 30 s (docs/observability.md).`,
        labelNames: ['source'],
        registers,
        async collect() {
          const h = self.counter.health();
          if (!h) return;
          this.reset();
          const sources = new Set([...(await self.sourcesOrNone()).map((x) => x.source), ...pick(h).keys()]);
          for (const source of sources) this.set({ source }, pick(h).get(source) ?? 0);
        },
      });
  }

  /** An outcome-reader pass (reconcilers/outcome-loop.ts): its final outcomes, and how long after the job ended each was learnt. */
  observeOutcomes(pass: OutcomePass, now: number): void {
    for (const o of pass.outcomes) {
      this.jobOutcomes.inc({ outcome: o.outcome });
      if (o.endedAt !== null) this.outcomeLag.observe(Math.max(0, now - o.endedAt) / 1000);
    }
  }

  /** One fire-script round: the items sent, the script's outcome per item, when each was sent (epoch ms). */
  observeFires(items: readonly FireItem[], outcomes: readonly FireOutcome[], sentAt: readonly number[]): void {
    this.observeFireSummary(summarizeFires(items, outcomes, sentAt));
  }

  /** What fire-script rounds did, summed (src/dispatch/fire-summary.ts; the dispatcher thread sends these). */
  observeFireSummary(s: FireSummary): void {
    for (const [reason, n] of Object.entries(s.conflicts)) this.conflicts.inc({ reason }, n);
    for (const x of s.lateness) this.lateness.observe(x);
    const counts = new Map<string, { queue: string; outcome: string; reason: string; n: number }>();
    for (const [raw, outcome, reason, n] of s.occurrences) {
      const queue = this.queueLabels.label(raw);
      const k = `${queue}\t${outcome}\t${reason}`;
      const c = counts.get(k);
      if (c) c.n += n;
      else counts.set(k, { queue, outcome, reason, n });
    }
    for (const c of counts.values()) {
      let series = this.occurrenceSeries.get(c.queue);
      if (!series) this.occurrenceSeries.set(c.queue, (series = new Set()));
      series.add(`${c.outcome}\t${c.reason}`);
      this.occurrences.inc({ queue: c.queue, outcome: c.outcome, reason: c.reason }, c.n);
    }
    if (s.fired) this.lastFire.set(Date.now() / 1000);
    if (s.countsChanged) this.counter.markDirty();
  }

  /**
   * At a scrape: after a recount of the registry, the queues that lost their place (no
   * schedule names them any more, or they left the top `MAX_QUEUE_LABELS`) lose their series.
   */
  private pruneQueues(): void {
    this.counter.current(); // starts a recount when one is due (never waits)
    const queues = this.counter.queues();
    if (!queues || queues === this.queuesSeen) return;
    this.queuesSeen = queues;
    for (const queue of this.queueLabels.update(queues)) {
      for (const k of this.occurrenceSeries.get(queue) ?? []) {
        const [outcome, reason] = k.split('\t') as [string, string];
        this.occurrences.remove({ queue, outcome, reason });
      }
      this.occurrenceSeries.delete(queue);
    }
  }

  /** A dispatcher tick that fired something took this long. */
  observeTick(durationMs: number): void {
    this.tickDuration.observe(durationMs / 1000);
  }

  /** A successful reconcile: its duration and what it applied, per operation and source. */
  observeReconcile(deep: boolean, durationMs: number, plan: Plan, applied: ApplyResult | undefined): void {
    this.reconciles.inc({ result: 'success' });
    this.counter.markDirty(); // what it applied changes the counts
    this.reconcileDuration.observe({ kind: deep ? 'deep' : 'event' }, durationMs / 1000);
    if (!applied) return;
    const sourceOf = new Map(plan.changes.map((c) => [c.id, c.source]));
    for (const [operation, ids] of [
      ['create', applied.created],
      ['update', applied.updated],
      ['delete', applied.deleted],
      ['conflict', applied.conflicts],
    ] as const) {
      for (const id of ids) this.changes.inc({ operation, source: sourceOf.get(id) ?? 'unknown' });
    }
  }

  reconcileFailed(): void {
    this.reconciles.inc({ result: 'failure' });
  }

  /** The sources' health after a reconcile: a complete read is a success. */
  observeSources(statuses: readonly SourceStatus[]): void {
    for (const s of statuses) if (!s.stale) this.lastSuccess.set(s.source, s.at);
  }

  leadershipChanged(): void {
    this.leadershipChanges.inc();
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private async sourcesOrNone(): Promise<SourceStatus[]> {
    try {
      return await this.view.sources();
    } catch {
      return []; // Redis down on a standby: the source gauges are absent, pyrq_redis_up says why
    }
  }
}
