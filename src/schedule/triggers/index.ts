/**
 * The table of trigger kinds, and everything the rest of pyrq asks of a trigger without
 * naming a kind: its schema fields, its kind, whether it is a one-shot, its description.
 * A kind is a module (`cron.ts`, `every.ts`, `at.ts`; the contract is `kind.ts`), a
 * row in `TRIGGER_KINDS` and a row of zod shapes in `schemas.ts` (kept apart: this table
 * and the kinds load no zod). Pure.
 */
import { atTrigger } from './at.js';
import { cronTrigger } from './cron.js';
import { everyTrigger } from './every.js';
import type { TriggerKind, TriggerWindow } from './kind.js';

/** Every trigger kind, in documented order: the order of their fields in the schema and in messages. */
export const TRIGGER_KINDS = [cronTrigger, everyTrigger, atTrigger] as const;

type Kinds = (typeof TRIGGER_KINDS)[number];
/** The schedule fields that select a kind: `cron`, `every`, `at`. */
export type TriggerField = Kinds['field'];
/** The stored value of a kind's field: what its `normalize` yields. */
export type StoredOf<K> = K extends { normalize(...a: never[]): infer R }
  ? R extends { ok: true; value: infer S }
    ? S
    : never
  : never;
/** The written value of a kind's field: what its `normalize` takes. */
export type InputOf<K> = K extends { normalize(value: infer I, ...rest: never[]): unknown } ? I : never;
/** Each kind's field with its stored value, all optional (a valid schedule has exactly one). */
export type TriggerFields = { [K in Kinds as K['field']]?: StoredOf<K> };
/** The fields of a schedule that decide when it fires. */
export type TriggerSpec = TriggerWindow & TriggerFields;

/**
 * A kind as the generic code calls it: it was picked because its field is present, and
 * reads only that and the window, so its methods take any trigger spec.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Trigger = TriggerKind<TriggerField, any, any, TriggerSpec>;

/** `TRIGGER_KINDS` as the generic code iterates it. */
export const TRIGGERS: readonly Trigger[] = TRIGGER_KINDS;

/** The trigger fields in documented order. */
export const TRIGGER_FIELD_NAMES: readonly TriggerField[] = TRIGGER_KINDS.map((k) => k.field);
/** Fields that decide when a schedule fires: changing any of them recomputes the next fire time. */
export const TRIGGER_FIELDS: readonly string[] = [
  ...TRIGGER_FIELD_NAMES,
  'timezone',
  'dst',
  'startAt',
  'endAt',
  'enabled',
  // The fire time is the occurrence plus its jitter delay; a new `times` may resume a finished schedule.
  'jitter',
  'times',
];
/** "cron, every or at", for messages. */
export const TRIGGER_CHOICES = `${TRIGGER_FIELD_NAMES.slice(0, -1).join(', ')} or ${TRIGGER_FIELD_NAMES.at(-1)}`;

/** The kind of a spec: the one whose field it has (the first, should a hand-made spec have several). */
export function triggerKindOf(spec: TriggerFields): Trigger | undefined {
  for (const k of TRIGGERS) if (spec[k.field] !== undefined) return k;
  return undefined;
}

/**
 * Just the fields of `s` that decide when it fires, for a holder that keeps many specs
 * (the dispatcher's cache) and must not keep arguments and meta twice. Copies the kind's
 * field by the table, so a new kind is kept without the holder knowing it.
 */
export function pickTriggerSpec(s: TriggerSpec): TriggerSpec {
  const out: TriggerSpec = { enabled: s.enabled, timezone: s.timezone };
  const k = triggerKindOf(s);
  if (k !== undefined) (out as { [F in TriggerField]?: unknown })[k.field] = s[k.field];
  if (s.dst !== undefined) out.dst = s.dst;
  if (s.startAt !== undefined) out.startAt = s.startAt;
  if (s.endAt !== undefined) out.endAt = s.endAt;
  return out;
}

/** A short description of when a schedule fires: `cron "0 3 * * *" (Europe/Berlin)`, `every 15m`, `at 2026-12-01T09:00:00Z`. */
export function describeTrigger(spec: TriggerFields & Pick<TriggerWindow, 'timezone'>): string {
  const k = triggerKindOf(spec);
  return k ? k.describe(spec as TriggerSpec) : 'no trigger';
}

/** True for a one-shot: after its occurrence the schedule is done rather than ended. */
export function isOneShot(spec: TriggerSpec): boolean {
  return triggerKindOf(spec)?.once !== undefined;
}

/** A one-shot whose instant is not after `now`: its field and value (for the plan's message); else undefined. */
export function pastOneShot(spec: TriggerSpec, now: number): { field: TriggerField; value: unknown } | undefined {
  const k = triggerKindOf(spec);
  if (k?.once === undefined || k.once(spec) > now) return undefined;
  return { field: k.field, value: spec[k.field] };
}

/** How many occurrences lie in `[from, until)`, when the kind knows it cheaply; else undefined. */
export function countOccurrences(spec: TriggerSpec, from: number, until: number): number | undefined {
  return triggerKindOf(spec)?.count?.(spec, from, until);
}

const ONE_SHOT_NEEDLES = TRIGGERS.filter((k) => k.once !== undefined).map((k) => `"${k.field}":`);

/**
 * Whether a stored spec, as canonical JSON text, may be a one-shot: it names a one-shot
 * kind's field. The registry's deep read parses only such specs (the plan needs a
 * one-shot's instant); a false positive (the same key inside kwargs) only costs a parse.
 */
export function specTextMayBeOneShot(canonicalJson: string): boolean {
  for (const needle of ONE_SHOT_NEEDLES) if (canonicalJson.includes(needle)) return true;
  return false;
}
