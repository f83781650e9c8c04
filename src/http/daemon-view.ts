/**
 * What the HTTP listener may see of a running daemon: a narrow, read-only view (the
 * listener never gets the daemon itself). The daemon builds one; tests can build one
 * from plain values.
 */
import type { ManualRunResult } from '../dispatch/manual-run.js';
import type { Schedule } from '../model/schedule-schema.js';
import type { Pause, PauseOutcome, ResumeOutcome } from '../registry/pauses.js';
import type { OutcomeFields } from '../status/schedule-health.js';
import type { RegistryEntry, ReconcileSummary, SourceStatus } from '../registry/registry-port.js';

export interface DaemonRole {
  /** This daemon holds the leader lease. */
  leader: boolean;
  /** This daemon's lease holder id (`host:pid:random`). */
  holderId: string;
  /** The holder of the lease as last seen (null: nobody holds it, or not known yet). */
  currentLeader: string | null;
  /** When this daemon became leader (epoch ms), while it leads. */
  leaderSince?: number;
}

export interface DaemonView {
  role(): DaemonRole;
  /** The main Redis connection is up (ioredis status `ready`). */
  redisReady(): boolean;
  /** The configured sources' names. */
  configuredSources(): string[];
  /**
   * Each source's health: as this daemon saw it in its last reconcile, else (a standby,
   * or before the first reconcile) as the leader recorded it in Redis.
   */
  sources(): Promise<SourceStatus[]>;
  /** Registry entries (spec, next fire time, last run): these ids, or every one. */
  entries(ids?: readonly string[]): Promise<RegistryEntry[]>;
  /** The registry's index: each applied id's spec hash and source (one read). */
  index(): Promise<Map<string, { hash: string; source: string }>>;
  /** The stored specs of these ids. */
  specs(ids: readonly string[]): Promise<Map<string, Schedule>>;
  /**
   * The outcome fields of these schedules (failing and overdue counts,
   * src/status/outcome-fields.ts); absent: the counts are not reported.
   */
  outcomeFields?(ids: readonly string[]): Promise<Map<string, OutcomeFields & { done?: string }>>;
  /** The ids paused by an operator (`pyrq pause`). */
  paused(): Promise<Set<string>>;
  /** The pauses with since when and why (the page); absent: the page reads `paused()`. */
  pauses?(): Promise<Map<string, Pause>>;
  /**
   * Which of these queues (as the dispatcher names them) no live RQ worker listens on
   * (RQ's worker registry, src/doctor/rq-workers.ts); absent: not known.
   */
  queuesWithoutWorker?(specs: readonly Schedule[]): Promise<string[]>;
  /** The last reconcile this daemon ran (null: none yet), and its last failure if it failed since. */
  lastReconcile(): { summary: ReconcileSummary | null; error?: { at: number; message: string } };
  /** When the daemon finished its first reconcile, or learnt that another daemon leads. */
  startedAt: number;
}

/**
 * What the status page's actions may do (pause, resume, run now): the same core calls as
 * `pyrq pause`, `resume` and `trigger` (src/registry/pauses.ts, src/dispatch/manual-run.ts),
 * which the daemon's socket handlers make too. Given to the listener only with a token.
 */
export interface DaemonActions {
  pause(id: string, reason?: string): Promise<PauseOutcome>;
  resume(id: string): Promise<ResumeOutcome>;
  runNow(id: string): Promise<ManualRunResult>;
}
