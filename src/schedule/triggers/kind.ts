/**
 * The contract of a trigger kind (`cron`, `every`, `at`): one module per kind owns its
 * schedule field, how that field is written and stored, its validation and
 * normalisation, its occurrences and its description. The generic code (schema,
 * normalise, next fire time, catch-up, diff, render) asks the table in `index.ts` and
 * never names a kind. Adding a kind is one module and one row there (ARCHITECTURE.md,
 * "A new trigger kind").
 *
 * Every kind shares the window: `enabled`, `timezone`, `startAt` (inclusive) and `endAt`
 * (exclusive). The generic code applies `enabled` and `endAt`, and whole seconds; a kind
 * decides what `startAt` means to it (an anchor for `every`, a lower bound for `cron`).
 * Pure: no I/O, time is a parameter.
 *
 * A kind's zod schemas (its field as written, as stored, its documentation) are not part
 * of this contract: they are in `schemas.ts`, one row per kind, so that what only computes
 * fire times or descriptions from stored schedules (`pyrq status`) does not load zod.
 */
import type { FieldIssue } from '../../model/issues.js';

/**
 * DST rules of wall-clock triggers: `vixie` (pyrq's own, for files) or `btu` (BTU's
 * scheduler: one run per local time in a repeated hour). See `src/schedule/dst-rule.ts`.
 */
export const DST_RULES = ['vixie', 'btu'] as const;
export type DstRule = (typeof DST_RULES)[number];

/** The fields every trigger kind shares: whether and within which window it fires. */
export interface TriggerWindow {
  enabled: boolean;
  /** IANA timezone for wall times (cron fields, offset-less timestamps). */
  timezone: string;
  /** DST rule (absent: vixie). */
  dst?: DstRule;
  /** Canonical UTC timestamp: no occurrence before it. */
  startAt?: string;
  /** Canonical UTC timestamp: no occurrence at or after it. */
  endAt?: string;
}

/** A trigger spec of one kind: the window plus that kind's own field, present. */
export type SpecOf<F extends string, V> = TriggerWindow & { readonly [P in F]: V };

/** What a kind's normalisation sees besides its own value. */
export interface TriggerInputContext {
  /** The schedule's timezone; UTC when the written one is invalid (that is reported on its own). */
  timezone: string;
  /** The whole schedule as written (shape-checked by zod), for checks against other fields. */
  input: Readonly<Record<string, unknown>>;
}

export type NormalizedValue<V> = { ok: true; value: V } | { ok: false; message: string };

/**
 * One trigger kind. `F` is its field name, `I` the type of the field as written (after
 * its zod shape in `schemas.ts`), `S` the type of the normalised value stored in the
 * registry (and hashed). Methods receive a spec that has the kind's field (`Spec`; the
 * table's generic view widens it to any trigger spec); `after`, `lo` and `hi` are whole
 * seconds (epoch ms); `startAt` is the parsed window start, if any.
 */
export interface TriggerKind<F extends string = string, I = unknown, S = unknown, Spec = SpecOf<F, S>> {
  /** The schedule field that selects this kind and holds its value (unique among kinds). */
  readonly field: F;
  /** Validates and normalises the written value; a failure's message is reported at `field`. */
  normalize(value: I, ctx: TriggerInputContext): NormalizedValue<S>;
  /** Checks against the schedule's other fields, run after the window is read (e.g. `at` takes no window). */
  check?(ctx: TriggerInputContext): FieldIssue[];
  /**
   * Only for a one-shot kind: its one occurrence. A one-shot is *done* after it fires
   * (not *ended*), cannot be created or re-aimed in the past (the plan refuses), and its
   * stored spec is read on every deep re-sync (the plan compares the instant).
   */
  once?(spec: Spec): number;
  /** The first occurrence strictly after `after`, or null when there is none (`endAt` is the caller's). */
  nextAfter(spec: Spec, after: number, startAt: number | undefined): number | null;
  /**
   * Occurrences in `(lo, hi]` (already clipped to the window), oldest first; when there
   * are more than `limit`, the newest `limit`. Catch-up calls it after downtime, so it
   * must not walk every missed occurrence one by one.
   */
  between(spec: Spec, lo: number, hi: number, limit: number, startAt: number | undefined): number[];
  /** How many occurrences lie in `[from, until)`, when that is cheap to know (a catch-up aggregate shows it). */
  count?(spec: Spec, from: number, until: number): number;
  /** When it fires, in a few words: `cron "0 3 * * *" (Europe/Berlin)`. */
  describe(spec: Spec): string;
}

/** Declares a kind (the table in `index.ts` holds the result). */
export function defineTrigger<F extends string, I, S>(kind: TriggerKind<F, I, S>): TriggerKind<F, I, S> {
  return kind;
}
