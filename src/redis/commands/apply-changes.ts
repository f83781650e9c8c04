/**
 * The typed wrapper of `apply-changes.lua`: the only module that knows its KEYS and
 * ARGV layout and its reply codes. A batch is serialised by pyrq (resp.ts: half the cost
 * of ioredis's generic path) and written at once, so a caller can keep several batches
 * in flight on one connection (pipelining without a MULTI).
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';
import { ensureScript, prebuildScriptCall, sendPrebuiltScript } from '../scripts.js';
import { asFenced, fenceTail } from './fence.js';

/**
 * What to do with the stored next fire time of a written entry: keep it, remove it
 * (the entry never fires again), or set it (epoch ms).
 */
export type NextFireWrite = 'keep' | 'remove' | { set: number };

/** One compare-and-set on an entry, against `expected`: the hash the plan saw ('' = no entry). */
export type EntryWrite =
  | {
      /** `put` writes unless the index already holds exactly this; `fix` writes anyway (drift repair). */
      op: 'put' | 'fix';
      id: string;
      expected: string;
      hash: string;
      source: string;
      origin: string;
      /** The normalised spec, as canonical JSON. */
      spec: string;
      next: NextFireWrite;
    }
  | { op: 'del'; id: string; expected: string };

/** The script's reply codes, one per entry. */
export const ApplyCode = {
  applied: 1,
  /** Already in the wanted state (applied twice, or deleted already). */
  noop: 0,
  /** The entry changed since the plan was made: left alone. */
  conflict: -1,
} as const;

export type EntryOutcome = 'applied' | 'noop' | 'conflict';

export interface ApplyBatch {
  /** Recorded as createdAt / updatedAt (epoch ms). */
  now: number;
  /** Announce a change on the events channel (wakes the dispatchers). */
  publish: boolean;
  writes: readonly EntryWrite[];
  /** The writer's lease token: the batch is refused whole (FencedError) unless the lease holds it. Absent: unfenced. */
  fence?: string;
}

/** Makes sure Redis knows the script, so that batches sent in a row find it. */
export function loadApplyChanges(redis: Redis): Promise<void> {
  return ensureScript(redis, 'apply-changes');
}

/**
 * Sends one batch without waiting for earlier ones: resolves to one outcome per write,
 * in order (rejects with a FencedError when the batch's fence token lost the lease). The returned promise already has a rejection handler attached, so a
 * failure surfaces where it is awaited and never as an unhandled rejection.
 */
export function applyChanges(redis: Redis, keys: Keys, batch: ApplyBatch): Promise<EntryOutcome[]> {
  const k: string[] = [keys.index, keys.next];
  const a: (string | number)[] = [batch.now, batch.publish ? keys.events : ''];
  // The script reads every index field before it writes any: a second write of one id
  // would be checked against the state before the first (a plan has one change per id).
  const seen = new Set<string>();
  for (const w of batch.writes) {
    if (seen.has(w.id)) {
      const refused = Promise.reject(new Error(`apply-changes: id ${JSON.stringify(w.id)} twice in one batch`));
      refused.catch(() => undefined); // as `sent` below: surfaces where it is awaited
      return refused;
    }
    seen.add(w.id);
    k.push(keys.schedule(w.id), keys.runs(w.id));
    if (w.op === 'del') a.push('del', w.id, w.expected, '', '', '', '', '');
    else
      a.push(
        w.op,
        w.id,
        w.expected,
        w.hash,
        w.source,
        w.origin,
        w.spec,
        w.next === 'keep' ? '' : w.next === 'remove' ? '-' : w.next.set,
      );
  }
  const tail = fenceTail(keys.leader, batch.fence);
  k.push(keys.paused, tail.key);
  a.push(tail.arg);
  const sent = sendPrebuiltScript<number[]>(redis, prebuildScriptCall('apply-changes', k, a)).then(
    decodeCodes,
    asFenced('apply-changes'),
  );
  sent.catch(() => undefined);
  return sent;
}

function decodeCodes(codes: number[]): EntryOutcome[] {
  return codes.map((c) => {
    if (c === ApplyCode.applied) return 'applied';
    if (c === ApplyCode.noop) return 'noop';
    if (c === ApplyCode.conflict) return 'conflict';
    throw new Error(`apply-changes.lua: unknown reply code ${c}`);
  });
}
