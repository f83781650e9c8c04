/**
 * A plan as entry writes, and the writes' outcomes as an apply result: the part of
 * applying a plan that does not depend on where the registry lives, shared by the Redis
 * adapter and the in-memory one. Pure (time is a parameter).
 */
import { canonicalStringify, parseJson } from '../canonical-json.js';
import type { Schedule } from '../model/schedule-schema.js';
import { afterNextFireHint, afterTextOf } from '../plan/diff.js';
import type { Change } from '../plan/types.js';
import type { EntryOutcome, EntryWrite, NextFireWrite } from '../redis/commands/apply-changes.js';
import { nextFireTimeAfter } from '../schedule/jitter.js';
import type { ApplyResult } from './registry-port.js';

/**
 * The compare-and-set that carries out `c` at `now`. A new entry, or one whose trigger
 * changed, gets its next fire time computed here (with jitter: the occurrence's fire time); any other update keeps the stored one
 * (the dispatcher owns it between changes).
 */
export function entryWriteOf(c: Change, now: number): EntryWrite {
  if (c.action === 'delete') return { op: 'del', id: c.id, expected: c.beforeHash };
  // The source's canonical text when it kept one: written as is, and parsed here (not
  // through `c.after`, which would keep the spec) only when the next fire time is needed.
  const text = afterTextOf(c);
  let next: NextFireWrite = 'keep';
  if (c.action === 'create' || c.triggerChanged) {
    const hinted = afterNextFireHint(c, now);
    const t =
      hinted !== undefined
        ? hinted
        : nextFireTimeAfter(text !== undefined ? (parseJson(text) as Schedule) : c.after!, now);
    next = t === null ? 'remove' : { set: t };
  }
  return {
    op: c.repair ? 'fix' : 'put',
    id: c.id,
    expected: c.beforeHash,
    hash: c.afterHash!,
    source: c.source,
    origin: c.origin,
    spec: text ?? canonicalStringify(c.after!),
    next,
  };
}

/**
 * The changes of `changes` that `applied` says were written. Each change is sorted into
 * exactly one list of the result, so when the created, updated and deleted lists are as
 * long as `changes` together, it is all of them: no set of every id to build and probe
 * (100,000 in a cold apply).
 */
export function appliedChanges(changes: readonly Change[], applied: ApplyResult): readonly Change[] {
  if (applied.created.length + applied.updated.length + applied.deleted.length === changes.length) return changes;
  const done = new Set([...applied.created, ...applied.updated, ...applied.deleted]);
  return changes.filter((c) => done.has(c.id));
}

/** Sorts the outcomes of `changes` (in order) into an apply result. */
export function applyResultOf(changes: readonly Change[], outcomes: readonly EntryOutcome[]): ApplyResult {
  const result: ApplyResult = { created: [], updated: [], deleted: [], noop: [], conflicts: [] };
  changes.forEach((c, i) => {
    const o = outcomes[i];
    if (o === 'applied')
      result[c.action === 'create' ? 'created' : c.action === 'update' ? 'updated' : 'deleted'].push(c.id);
    else if (o === 'noop') result.noop.push(c.id);
    else result.conflicts.push(c.id);
  });
  return result;
}
