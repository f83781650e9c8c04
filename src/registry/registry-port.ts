/**
 * The registry port: what the reconcile (`reconcileOnce`, the reconcile loop), the
 * daemon and `pyrq status` need from the applied state. `Registry` (registry.ts) is the
 * Redis adapter; test/helpers/memory-registry.ts is an in-memory one with the same
 * compare-and-set semantics, so reconcile logic can be tested where Redis adds nothing
 * (test/integration/registry-contract.test.ts holds the two to the same behaviour).
 */
import type { Schedule } from '../model/schedule-schema.js';
import type { ObservedEntry, Plan } from '../plan/types.js';

export interface ApplyResult {
  created: string[];
  updated: string[];
  deleted: string[];
  /** Already in the wanted state (someone applied the same change first). */
  noop: string[];
  /** Changed by someone else since the plan was made: left alone; the next reconcile sees them. */
  conflicts: string[];
  /** Changes never sent because the apply was interrupted (`signal`); absent when all were sent. */
  notSent?: number;
}

/** A stored entry, as `status` and `history` show it. */
export interface RegistryEntry {
  id: string;
  spec?: Schedule;
  hash: string;
  source: string;
  origin: string;
  createdAt?: number;
  updatedAt?: number;
  next: number | null;
  /** The dispatcher's state fields (lastRunAt, lastOutcome, ...), as stored. */
  state: Record<string, string>;
}

/** One source's status as last recorded (by the daemon after a reconcile, or by `pyrq apply`). */
export interface SourceStatus {
  source: string;
  stale: boolean;
  schedules: number;
  held: number;
  /** Formatted error lines, at most 50 (redacted by the sources that produced them). */
  errors: string[];
  /** When it was recorded (epoch ms). */
  at: number;
  /** Who recorded it when not the daemon, e.g. "pyrq apply". */
  by?: string;
  /** Where the source reads (a directory, a database URL without password, the socket's path). */
  location?: string;
  /** What the source says about how it reads (BTU: the generation detected and why, cron fields dropped). */
  detail?: string;
}

/** The summary of the daemon's last reconcile, as `pyrq status` shows it. */
export interface ReconcileSummary {
  at: number;
  runId: string;
  durationMs: number;
  created?: number;
  updated?: number;
  deleted?: number;
  conflicts?: number;
  unchanged: number;
  /** Entries kept as they were because their input failed. */
  held?: number;
  errors: number;
  /** Why the run happened ("files changed: billing.json", "periodic re-sync"). */
  reason?: string;
}

/** Facts about the running daemon(s), for `pyrq status` when no daemon answers. Absent: never recorded. */
export interface DaemonFacts {
  /** Holder id of the daemon that last became leader, and when (epoch ms). */
  leader?: string;
  leaderSince?: number;
  lastReconcile?: ReconcileSummary;
  /** The sources the daemon that last started is configured with (orphans are the others). */
  sources?: string[];
  /**
   * Each daemon's clock offset from Redis, by lease holder id (every daemon records its
   * own, leader or not; a daemon that stops cleanly removes it: `null` when recording).
   */
  clocks?: Record<string, DaemonClock | null>;
}

/** How far a daemon's clock was from Redis's, and when it was measured. */
export interface DaemonClock {
  /** Redis time minus the daemon's clock (ms): positive when the daemon's clock is behind. */
  offsetMs: number;
  /** Epoch ms (Redis time) of the measurement. */
  at: number;
  pid: number;
}

/** Parsed specs by id, each with its spec hash (a source snapshot's desired schedules). */
export type KnownSpecs = (id: string) => { spec: Schedule; hash: string; text?: string } | undefined;

export interface RegistryPort {
  /** What is applied, from the index alone. */
  readIndex(): Promise<Map<string, ObservedEntry>>;
  /** Index entries of just these ids; ids not applied are absent. */
  readIndexIds(ids: readonly string[]): Promise<Map<string, ObservedEntry>>;
  /** True when an entry with this id is applied. */
  has(id: string): Promise<boolean>;
  /**
   * The stored specs of `ids`; ids whose spec is missing or invalid are absent.
   * `expectedHash`: the hash the caller observed in the index for an id; a stored text
   * that hashes to it is what pyrq wrote, so it is taken without validation again.
   */
  readSpecs(ids: readonly string[], expectedHash?: (id: string) => string | undefined): Promise<Map<string, Schedule>>;
  /**
   * Every entry, checked against what pyrq wrote: an entry altered or lost outside pyrq
   * is marked `drift` (and carries its spec when it has a readable one), so the plan
   * rewrites it. One-shot entries always carry their spec. `known`: specs already parsed
   * (the desired state), by id with their hash; an intact stored spec with the same hash
   * is that spec, and is not parsed again for the next-fire check.
   */
  readDeep(now: number, known?: KnownSpecs): Promise<Map<string, ObservedEntry>>;
  /** Applies exactly `plan`, each change a compare-and-set on the hash the plan observed. */
  applyPlan(plan: Plan, now: number, opts?: { signal?: AbortSignal }): Promise<ApplyResult>;
  /** Entries with spec, next fire time and dispatcher state: these ids, or all sorted by id. */
  readEntries(ids?: readonly string[]): Promise<RegistryEntry[]>;
  /** Replaces the recorded status of these sources (others keep theirs). */
  recordSourceStatus(statuses: readonly SourceStatus[]): Promise<void>;
  readSourceStatus(): Promise<SourceStatus[]>;
  /** Records the facts given (the others keep their values). */
  recordDaemonFacts(facts: DaemonFacts): Promise<void>;
  readDaemonFacts(): Promise<DaemonFacts>;
}
