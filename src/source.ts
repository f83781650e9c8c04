/**
 * The source port. A source produces the *desired* schedules of one system of record
 * (a directory, a MySQL table, the socket) and owns the ids it produces: the registry
 * records each entry's source, and only that source can update or delete it.
 *
 * Sources never write the registry and never decide deletions: they report a snapshot
 * and the plan works out the rest. (The socket source keeps what clients pushed in a
 * Redis hash of its own, `pyrq:source:socket`; that is its system of record.) A source
 * that cannot read its system of record reports itself `stale`: nothing it owns is
 * deleted until it recovers.
 */
import { printable } from './printable.js';
import type { Schedule } from './model/schedule-schema.js';

/** One desired schedule, with where it came from. */
export interface DesiredSchedule {
  spec: Schedule;
  /** Stable hash of the normalised spec (`specHash`). */
  hash: string;
  /** Where inside the source it came from: a file path relative to the directory, a table, a client. */
  origin: string;
  /**
   * `spec.id`, when the source keeps the spec as text: reading it then parses nothing
   * (`desiredId`). The file source does, so 100,000 schedules are 100,000 strings until
   * someone looks at a spec.
   */
  readonly id?: string;
  /** `canonicalStringify(spec)`, when the source has it: what is written to Redis as is. */
  readonly text?: string;
  /** False when the source knows the spec has no one-shot trigger (the diff then need not parse it). */
  readonly mayBeOneShot?: boolean;
  /**
   * `nextFireTimeAfter(spec, now)` when the source worked it out already (a parse thread
   * does, against the reconcile's time), else undefined: the caller computes it.
   */
  nextFireHint?(now: number): number | null | undefined;
}

/** The id of a desired schedule, without parsing a spec kept as text. */
export function desiredId(d: DesiredSchedule): string {
  return d.id ?? d.spec.id;
}

/** A problem a source found. `origin`/`locator`/`id`/`path` say where, as precisely as known. */
export interface SourceError {
  source: string;
  /** File path (relative), table, or client. */
  origin?: string;
  /** Position inside the origin, e.g. `schedules[2]`. */
  locator?: string;
  id?: string;
  /** Field path inside the schedule, e.g. `cron` or `kwargs.days`. */
  path?: string;
  message: string;
}

/**
 * What a source says the world should look like, at one moment.
 * - `stale`: the source as a whole could not be read (the last good schedules are
 *   reported if it has them); nothing it owns may be deleted.
 * - `heldOrigins` / `heldIds`: parts that failed (a broken file, a row that does not
 *   parse, an id claimed twice). Their applied entries are kept exactly as they are.
 */
export interface SourceSnapshot {
  source: string;
  schedules: DesiredSchedule[];
  errors: SourceError[];
  stale: boolean;
  heldOrigins: string[];
  heldIds: string[];
  /**
   * When the source can tell: the ids whose desired state may differ from what this
   * source reported in its previous snapshot (edited, added or removed). It lets the
   * reconcile that follows one change plan just those ids. Undefined: unknown.
   */
  changed?: string[];
  /** `schedules` by id, when the source keeps them so (a scoped reconcile looks ids up). */
  byId?: ReadonlyMap<string, DesiredSchedule>;
}

/** "Something changed": optionally which origins or ids, so a reconcile can be scoped. */
export interface SourceChange {
  source: string;
  origins?: string[];
  ids?: string[];
}

/** A system of record. `snapshot` is level-triggered: it always returns the whole desired state. */
export interface Source {
  readonly name: string;
  /**
   * Where it reads, for logs and `status`: a directory, a database URL without its
   * password. Undefined when the daemon knows it better (the socket's path).
   */
  readonly location?: string;
  /** What `status` shows beside the source's health (BTU: the generation detected and why). */
  readonly detail?: string;
  /**
   * Reads the desired state. `fresh` asks the source to bypass any cache (the periodic
   * full re-sync); otherwise it may reuse work for parts it knows did not change. `now`:
   * the reconcile's time, against which a source may work out next fire times ahead.
   */
  snapshot(opts?: { fresh?: boolean; now?: number }): Promise<SourceSnapshot>;
  /** Starts watching; `onChange` is called (debounced by the source) when the desired state may have changed. */
  watch?(onChange: (change: SourceChange) => void): Promise<void>;
  /** Re-reads these ids from the system of record now (BTU's create/cancel messages). */
  reloadIds?(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** "schedules/billing.toml: schedules[2] (id "nightly"): cron: "61 * * * *": minute out of range". */
export function formatSourceError(e: SourceError): string {
  const parts: string[] = [];
  if (e.origin !== undefined) parts.push(e.origin);
  // An id longer than any valid one (200) is shortened: its own error quotes the start of it.
  const id = e.id !== undefined && e.id.length > 200 ? `${e.id.slice(0, 60)}…` : e.id;
  const where = [e.locator, id !== undefined ? `(id ${JSON.stringify(id)})` : undefined].filter(Boolean).join(' ');
  if (where) parts.push(where);
  parts.push(e.path ? `${e.path}: ${e.message}` : e.message);
  // One line, whatever a file name or message holds (a newline, an escape sequence).
  return printable(parts.join(': '));
}
