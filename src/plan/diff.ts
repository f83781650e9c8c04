/**
 * `diff(desired, observed) -> Plan`. Pure: no Redis, no files, no clock (the time is a
 * parameter). The ownership rules live here and only here:
 *
 * - An id claimed by two sources (or twice within one) is an error; its entry is held.
 * - A source may update or delete only entries it owns. An id owned by another source
 *   moves to this one only when its owner takes part in this run, is not stale, and no
 *   longer produces it.
 * - Deletes come only from sources that are not stale, and never for a held file or id.
 * - Entries owned by sources that do not take part in this run are left alone.
 * - A one-shot (`at`) schedule in the past can be kept, but not created or re-aimed
 *   (which kinds are one-shots, and their instant, the trigger table says).
 */
import { canonicalStringify } from '../canonical-json.js';
import type { Schedule } from '../model/schedule-schema.js';
import { pastOneShot, TRIGGER_FIELDS } from '../schedule/triggers/index.js';
import { type DesiredSchedule, type SourceError, type SourceSnapshot, desiredId } from '../source.js';
import type { Change, FieldChange, ObservedEntry, Plan } from './types.js';

interface Claim {
  d: DesiredSchedule;
  source: string;
}

/** The desired schedule behind a change's `after`, when its source kept the spec as text (not enumerable: plans print and compare as before). */
const DESIRED = Symbol('desired');

/** `canonicalStringify(c.after)` without parsing or writing anything, when the source kept the text. */
export function afterTextOf(c: Change): string | undefined {
  return (c as { [DESIRED]?: DesiredSchedule })[DESIRED]?.text;
}

/** `nextFireTimeAfter(c.after, now)` (src/schedule/jitter.ts) when the source worked it out already, else undefined. */
export function afterNextFireHint(c: Change, now: number): number | null | undefined {
  return (c as { [DESIRED]?: DesiredSchedule })[DESIRED]?.nextFireHint?.(now);
}

/** One getter for every lazy `after`: objects sharing it share their shape (a getter per object cost ~500 B each). */
function lazyAfter(this: { [DESIRED]: DesiredSchedule }): Schedule {
  return this[DESIRED].spec;
}

/**
 * `after` read from `d` (and a spec kept as text parsed) only when something looks at it:
 * a cold apply of 100,000 schedules prints 50 and writes the texts as they are.
 */
function withLazyAfter(c: Change, d: DesiredSchedule): Change {
  if (d.text === undefined) {
    c.after = d.spec;
    return c;
  }
  Object.defineProperty(c, 'after', { get: lazyAfter, enumerable: true, configurable: true });
  Object.defineProperty(c, DESIRED, { value: d });
  return c;
}

export function diff(
  desired: readonly SourceSnapshot[],
  observed: ReadonlyMap<string, ObservedEntry>,
  now: number,
): Plan {
  const steps = diffSteps(desired, observed, now);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Entries between two pauses of `diffSteps` (well under a millisecond; the caller yields by time). */
const STEP = 200;

/**
 * `diff` in steps: the generator pauses (yields) every few thousand entries, so that a
 * caller with an event loop can let timers run between steps (a plan over 100,000
 * schedules is a few hundred ms of work); its return value is the plan. Still pure.
 */
export function* diffSteps(
  desired: readonly SourceSnapshot[],
  observed: ReadonlyMap<string, ObservedEntry>,
  now: number,
): Generator<void, Plan, void> {
  let step = 0;
  const errors: SourceError[] = desired.flatMap((s) => s.errors);
  const bySource = new Map(desired.map((s) => [s.source, s]));
  const heldIds = new Map(desired.map((s) => [s.source, new Set(s.heldIds)]));
  const heldOrigins = new Map(desired.map((s) => [s.source, new Set(s.heldOrigins)]));
  const held = new Set<string>();

  // Claims, with cross-source duplicates turned into errors.
  const claims = new Map<string, Claim>();
  const contested = new Set<string>();
  for (const snap of desired) {
    for (const d of snap.schedules) {
      if (++step % STEP === 0) yield;
      const id = desiredId(d);
      const prev = claims.get(id);
      if (prev) {
        contested.add(id);
        errors.push({
          source: snap.source,
          origin: d.origin,
          id,
          // Twice in one source's snapshots: `pyrq validate` given several paths (a source
          // reports the duplicates within itself, and claims such an id for neither).
          message:
            prev.source === snap.source
              ? `id is also defined in ${prev.d.origin}`
              : `id is also defined by source "${prev.source}" (${prev.d.origin}); it keeps its applied state until only one source defines it`,
        });
      } else {
        claims.set(id, { d, source: snap.source });
      }
    }
  }
  for (const id of contested) claims.delete(id);

  const changes: Change[] = [];
  let unchanged = 0;
  for (const [id, { d, source }] of claims) {
    if (++step % STEP === 0) yield;
    const cur = observed.get(id);
    // Only a one-shot can be in the past; a source may know a spec is none without parsing it.
    const past = d.mayBeOneShot === false ? undefined : pastOneShot(d.spec, now);
    if (!cur) {
      if (past) {
        errors.push({
          source,
          origin: d.origin,
          id,
          path: past.field,
          message: `${String(past.value)} is in the past; a one-shot schedule must be in the future when it is first applied`,
        });
        continue;
      }
      changes.push(
        withLazyAfter(
          {
            action: 'create',
            id,
            source,
            origin: d.origin,
            beforeHash: '',
            afterHash: d.hash,
            fields: [],
            triggerChanged: true,
          },
          d,
        ),
      );
      continue;
    }
    let reason: string | undefined;
    if (cur.source !== source) {
      const owner = bySource.get(cur.source);
      const ownerLetsGo =
        owner !== undefined &&
        !owner.stale &&
        !heldIds.get(cur.source)!.has(id) &&
        !heldOrigins.get(cur.source)!.has(cur.origin);
      if (!ownerLetsGo) {
        held.add(id);
        errors.push({
          source,
          origin: d.origin,
          id,
          message: `id is owned by source "${cur.source}" (${cur.origin}); remove it there first${owner?.stale ? ' (that source is stale now)' : owner ? '' : ' (that source is not part of this run)'}`,
        });
        continue;
      }
      reason = `moved from source "${cur.source}" (${cur.origin})`;
    } else if (cur.origin !== d.origin) {
      reason = `moved from ${cur.origin}`;
    }
    if (cur.hash === d.hash && reason === undefined && cur.drift === undefined) {
      unchanged++;
      continue;
    }
    if (cur.hash !== d.hash && past && cur.spec?.[past.field] !== past.value) {
      // Re-aiming a one-shot at the past would fire it at once or never; refuse, keep it.
      held.add(id);
      errors.push({
        source,
        origin: d.origin,
        id,
        path: past.field,
        message: `${String(past.value)} is in the past; the schedule keeps its applied state`,
      });
      continue;
    }
    const repair = cur.drift !== undefined;
    if (repair) reason = `repair: ${cur.drift}`;
    const update: Change = {
      action: 'update',
      id,
      source,
      origin: d.origin,
      beforeHash: cur.hash,
      afterHash: d.hash,
      before: cur.spec,
      fields: [],
      triggerChanged: repair,
      reason,
      repair,
      fromSource: cur.source,
      fromOrigin: cur.origin,
    };
    changes.push(withLazyAfter(update, d));
  }

  for (const [id, cur] of observed) {
    if (++step % STEP === 0) yield;
    if (claims.has(id)) continue;
    const owner = bySource.get(cur.source);
    if (!owner) continue; // not part of this run
    if (
      contested.has(id) ||
      owner.stale ||
      heldIds.get(cur.source)!.has(id) ||
      heldOrigins.get(cur.source)!.has(cur.origin)
    ) {
      held.add(id);
      continue;
    }
    changes.push({
      action: 'delete',
      id,
      source: cur.source,
      origin: cur.origin,
      beforeHash: cur.hash,
      before: cur.spec,
      fields: [],
      triggerChanged: false,
    });
  }

  changes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const plan: Plan = {
    createdAt: now,
    changes,
    unchanged,
    held: [...held].sort(),
    errors,
    sources: desired.map((s) => ({
      source: s.source,
      stale: s.stale,
      schedules: s.schedules.length,
      errors: s.errors.length,
      held: [...held].filter((id) => observed.get(id)?.source === s.source).length,
    })),
  };
  return attachObserved(plan, new Map());
}

/**
 * Fills `before` and the field-level `fields` of updates from observed specs (read
 * after the diff, only for the ids that change). Pure; returns a new plan.
 */
export function attachObserved(plan: Plan, specs: ReadonlyMap<string, Schedule>): Plan {
  return {
    ...plan,
    changes: plan.changes.map((c) => {
      const before = c.before ?? specs.get(c.id);
      // A create or delete whose `before` is unchanged is kept as it is (not copied: a
      // cold apply has 100,000 creates, and copying one would read its lazy `after`).
      if (c.action !== 'update') return before === c.before ? c : { ...c, before };
      const fields = fieldChanges(before, c.after!);
      if (c.fromSource !== undefined && c.fromSource !== c.source)
        fields.push({ field: 'source', before: c.fromSource, after: c.source });
      if (c.fromOrigin !== undefined && c.fromOrigin !== c.origin)
        fields.push({ field: 'origin', before: c.fromOrigin, after: c.origin });
      // Without the old spec (never read) assume the trigger changed: recomputing the next
      // fire time is always safe, keeping a wrong one is not. Repairs recompute it too.
      const triggerChanged =
        c.repair === true ||
        (c.beforeHash !== c.afterHash &&
          (before === undefined || fields.some((f) => TRIGGER_FIELDS.includes(f.field))));
      const { after: _after, ...rest } = c;
      const d = (c as { [DESIRED]?: DesiredSchedule })[DESIRED];
      return d
        ? withLazyAfter({ ...rest, before, fields, triggerChanged }, d)
        : { ...c, before, fields, triggerChanged };
    }),
  };
}

function fieldChanges(before: Schedule | undefined, after: Schedule): FieldChange[] {
  if (!before) return [];
  const out: FieldChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of [...keys].sort()) {
    const b = (before as Record<string, unknown>)[k];
    const a = (after as Record<string, unknown>)[k];
    if (!sameValue(b, a)) out.push({ field: k, before: b, after: a });
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return canonicalStringify(a) === canonicalStringify(b);
}
