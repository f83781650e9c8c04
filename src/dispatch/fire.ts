/**
 * The adapter between the dispatcher and `fire-batch.lua`: turns fire items into KEYS
 * and ARGV, one script call per batch, and returns one code per item (see the script
 * header). Batches are sent as soon as they are built and awaited together, so the
 * client building batch n+1 overlaps Redis running batch n.
 *
 * The argument layout is positional and compact on purpose: with ten thousand items per
 * tick, the number of arguments is what the client spends its time on.
 */
import type { Redis } from 'ioredis';
import { type Keys, RqKeys } from '../redis/keys.js';
import { patchRespArg } from '../redis/resp.js';
import { type PrebuiltScriptCall, prebuildScriptCall, sendPrebuiltScript } from '../redis/scripts.js';
import { type EncodedSchedule, rqTimestamp } from '../rq/job-encoding.js';

/** Item codes returned by the fire script. */
export const FIRE_NOT_DUE = -1;
export const FIRE_STALE_SPEC = -2;
export const FIRE_STALE_OVERLAP = -3;

export interface EnqueueOp {
  kind: 'enqueue';
  occurrence: number;
  jobId: string;
  /** The pickled job meta (per occurrence). */
  meta: Buffer;
}

export interface SkipOp {
  kind: 'skip';
  occurrence: number;
  outcome: 'skipped:missed' | 'skipped:deadline';
  /** An aggregate of missed occurrences (see SkippedOccurrence). */
  until?: number;
  count?: number;
}

export type FireOp = EnqueueOp | SkipOp;

export interface FireItem {
  id: string;
  /** The next fire time the caller saw; null for a manual run (no compare-and-set). */
  expected: number | null;
  hash: string;
  /** What to store as the next fire time afterwards. */
  next: { set: number } | 'keep' | 'ended' | 'done';
  /** Overlap forbid: checked against `prevJobId`, which must be what the caller saw. */
  forbid: boolean;
  prevJobId: string;
  /** The schedule's encoded job (needed when there are enqueue ops). */
  job: EncodedSchedule;
  ops: FireOp[];
}

export interface FireOptions {
  historyLength: number;
  batchSize: number;
  /** The enqueue time stamped on jobs and run records (epoch ms). */
  at: number;
  trigger: 'schedule' | 'manual';
}

type Arg = string | number | Buffer;

function itemArgs(keys: Keys, item: FireItem, k: string[], a: Arg[]): void {
  const skey = keys.schedule(item.id);
  k.push(skey, keys.runs(item.id));
  if (item.forbid) k.push(item.prevJobId ? RqKeys.job(item.prevJobId) : skey);
  const next = typeof item.next === 'object' ? item.next.set : item.next === 'keep' ? '' : item.next === 'ended' ? '-' : 'done';
  const j = item.job;
  a.push(item.id, item.expected ?? '', item.hash, next, item.forbid ? '1' : '0', item.prevJobId, item.ops.length);
  a.push(j.queueName, j.data, j.description, j.timeout, j.resultTtl ?? '', j.failureTtl ?? '', j.ttl ?? '');
  for (const op of item.ops) {
    if (op.kind === 'enqueue') {
      a.push('E', op.occurrence, '', op.jobId, op.meta);
      k.push(RqKeys.job(op.jobId), j.queueKey);
    } else {
      const extra = `${op.until !== undefined ? `,"until":${op.until}` : ''}${op.count !== undefined ? `,"count":${op.count}` : ''}`;
      a.push('S', op.occurrence, extra, op.outcome, '');
    }
  }
}

/**
 * One script call, serialised ahead of time (`prebuildScriptCall`): everything but the
 * enqueue time, which goes into two fixed-width arguments when the batch is sent.
 */
export interface PreparedBatch {
  items: FireItem[];
  keys: string[];
  args: Arg[];
  call: PrebuiltScriptCall;
}

/** Placeholders of ARGV[3] (epoch ms: 13 digits from 2001 to 2286) and ARGV[4] (RQ time). */
const AT_PLACEHOLDER = '0'.repeat(13);
const RQ_AT_PLACEHOLDER = rqTimestamp(0);

/** Builds and serialises one script call (everything but the enqueue time). */
export function prepareBatch(keys: Keys, items: FireItem[], opts: Pick<FireOptions, 'historyLength' | 'trigger'>): PreparedBatch {
  const k: string[] = [keys.next, RqKeys.queues];
  const a: Arg[] = [opts.historyLength, items.length, AT_PLACEHOLDER, RQ_AT_PLACEHOLDER, opts.trigger];
  for (const item of items) itemArgs(keys, item, k, a);
  return { items, keys: k, args: a, call: prebuildScriptCall('fire-batch', k, a) };
}

/**
 * Sends a prepared batch stamped with enqueue time `at`, without waiting (so the caller
 * can build or send the next batch while Redis runs this one). Resolves to the item
 * codes, in order. The returned promise already has a rejection handler attached, so a
 * failure surfaces where it is awaited and never as an unhandled rejection.
 *
 * A batch is sent once: its buffer is patched in place and handed to the socket.
 */
export function sendBatch(redis: Redis, batch: PreparedBatch, at: number): Promise<number[]> {
  const atText = String(at);
  let call = batch.call;
  if (atText.length === AT_PLACEHOLDER.length) {
    patchRespArg(call, call.argv(3), atText);
    patchRespArg(call, call.argv(4), rqTimestamp(at));
  } else {
    // Not 13 digits (a test clock near 1970, or a fraction of a millisecond): serialise again.
    const args = [...batch.args];
    args[2] = at;
    args[3] = rqTimestamp(at);
    call = prebuildScriptCall('fire-batch', batch.keys, args);
  }
  const sent = sendPrebuiltScript<number[]>(redis, call);
  sent.catch(() => undefined);
  return sent;
}

/** Lets pending socket writes go out before the next batch is built. */
export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Fires `items` in batches of `batchSize`, each sent as soon as it is built; returns
 * the codes in order. Throws on a Redis or script error (other batches may have been
 * applied; each item is atomic on its own, so a retry finds them done: `-1` not due).
 */
export async function fireItems(redis: Redis, keys: Keys, items: readonly FireItem[], opts: FireOptions): Promise<number[]> {
  const pending: Promise<number[]>[] = [];
  for (let i = 0; i < items.length; i += opts.batchSize) {
    pending.push(sendBatch(redis, prepareBatch(keys, items.slice(i, i + opts.batchSize), opts), opts.at));
    await yieldToIo();
  }
  return (await Promise.all(pending)).flat();
}
