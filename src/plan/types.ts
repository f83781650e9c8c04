/**
 * The plan is a value (Terraform's plans package): what would change, computed purely
 * from desired and observed state. `pyrq diff` renders one; `pyrq apply` executes
 * exactly one; the daemon's reconcile loop makes and applies one per run.
 */
import type { Schedule } from '../model/schedule-schema.js';
import type { SourceError } from '../source.js';

export type ChangeAction = 'create' | 'update' | 'delete';

/** One changed field of an update (top-level schedule field, or `source` / `origin`). */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/**
 * One change to one registry entry.
 * - `beforeHash` is what the plan observed ('' for a create): applying is a
 *   compare-and-set on it, so a plan made stale by another writer changes nothing.
 * - `before` is filled for updates and deletes once the observed specs are read
 *   (`attachObserved`); `fields` then lists what differs.
 */
export interface Change {
  action: ChangeAction;
  id: string;
  source: string;
  origin: string;
  beforeHash: string;
  afterHash?: string;
  before?: Schedule;
  after?: Schedule;
  fields: FieldChange[];
  /** Update only: a trigger field changed, so the next fire time is recomputed. */
  triggerChanged: boolean;
  /** Why, when it is not obvious: "moved from a.toml", "repair: entry altered outside pyrq". */
  reason?: string;
  /** The entry is rewritten even though its hash matches (drift repair). */
  repair?: boolean;
  /** Update only: the owner before, when the entry moves between sources or files. */
  fromSource?: string;
  fromOrigin?: string;
}

/** The registry entry as observed: enough to diff and to detect staleness. */
export interface ObservedEntry {
  hash: string;
  source: string;
  origin: string;
  /** Read only for entries the plan changes, or in a deep (re-sync) read. */
  spec?: Schedule;
  /** Deep read only: why this entry no longer matches what pyrq wrote (it is rewritten). */
  drift?: string;
}

export interface SourceSummary {
  source: string;
  stale: boolean;
  schedules: number;
  errors: number;
  held: number;
}

export interface Plan {
  /** When the plan was made (epoch ms): "at in the past" is judged against it. */
  createdAt: number;
  changes: Change[];
  unchanged: number;
  /** Observed entries kept as they are because their source, file or row is failing. */
  held: string[];
  errors: SourceError[];
  sources: SourceSummary[];
}

export const isEmptyPlan = (p: Plan): boolean => p.changes.length === 0;
