/**
 * The typed wrapper of `fire-batch.lua`: the only module that knows its KEYS and ARGV
 * layout and its reply codes. Callers describe what to fire as `FireItem`s and get one
 * `FireOutcome` per item.
 *
 * A batch is serialised ahead of time (`prepareFireBatch`: the dispatcher prepares the
 * batches of the next fire time half a second early), down to the bytes on the wire;
 * sending it patches the enqueue time into two fixed-width arguments and writes one
 * buffer. A batch prepared for Redis's clock (the daemon's) carries no time at all: the
 * script reads TIME, refuses items not yet due by it (`early`) and stamps the jobs. The
 * argument layout is positional and compact on purpose: with ten thousand items per
 * tick, the number of arguments is what the client spends its time on. The fence (the
 * paused HASH and the lease key last in KEYS, the lease token last in ARGV) comes after
 * the items; the reply's last value, after one code per item, is the script's time.
 */
import type { Redis } from 'ioredis';
import type { OverlapPolicy } from '../../model/schedule-schema.js';
import { type EncodedSchedule, rqTimestamp } from '../../rq/job-encoding.js';
import { type Keys, RqKeys } from '../keys.js';
import { patchRespArg } from '../resp.js';
import { type PrebuiltScriptCall, prebuildScriptCall, sendPrebuiltScript } from '../scripts.js';
import { asFenced, fenceTail } from './fence.js';

export interface EnqueueOp {
  kind: 'enqueue';
  occurrence: number;
  jobId: string;
  /** The pickled job meta (per occurrence). */
  meta: Buffer;
  /** This job's own `data`, when it differs from the schedule's (`jobIdKwarg`); else the item's shared data. */
  data?: Buffer;
}

export interface SkipOp {
  kind: 'skip';
  occurrence: number;
  outcome: 'skipped:missed' | 'skipped:deadline' | 'skipped:paused';
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
  /** Overlap policy; unless `allow`, checked against `prevJobId`, which must be what the caller saw. */
  overlap: OverlapPolicy;
  prevJobId: string;
  /** The schedule's encoded job (needed when there are enqueue ops). */
  job: EncodedSchedule;
  ops: FireOp[];
}

export interface FireOptions {
  historyLength: number;
  /**
   * The enqueue time stamped on jobs and run records (epoch ms), and the time no
   * occurrence may be ahead of; `'redis'`: Redis's clock at the moment the script runs
   * (the daemon's case, so a daemon whose clock is off fires neither early nor late).
   */
  at: number | 'redis';
  trigger: 'schedule' | 'manual' | 'backfill';
  /** The writer's lease token: the batch is refused whole (FencedError) unless the lease holds it. Absent: unfenced. */
  fence?: string;
}

/** The script's reply codes below zero (n >= 0: applied, n jobs enqueued). */
const FireCode = {
  /** The stored next fire time is not the expected one (fired by another dispatcher, or rescheduled). */
  notDue: -1,
  /** The stored spec hash differs: the spec changed since the item was built. */
  staleSpec: -2,
  /** Overlap (not allow): the schedule's last job is not the one the item was built against. */
  staleOverlap: -3,
  /** The schedule was paused after the item was built (it had enqueues): build it again as paused. */
  paused: -4,
  /** An occurrence of the item is still ahead of the script's time (the caller's clock runs fast). */
  early: -5,
} as const;

/**
 * What became of one item: the number of jobs enqueued (the item was applied; overlap
 * or duplicate checks may have skipped some of its enqueues), or why nothing was written.
 */
export type FireOutcome = number | 'not-due' | 'stale-spec' | 'stale-overlap' | 'paused' | 'early';

/** The outcomes of one batch, and the time the script went by (Redis's clock, or the caller's `at`). */
export interface FireReply {
  outcomes: FireOutcome[];
  /** Epoch ms: `at`, or Redis's TIME when the batch was sent with `'redis'`. */
  at: number;
}

/**
 * How long to wait (ms) before items refused as `early` are due by the script's clock:
 * the latest occurrence among them minus the reply's time; null when none was early.
 */
export function earlyWaitMs(items: readonly FireItem[], reply: FireReply): number | null {
  let wait: number | null = null;
  reply.outcomes.forEach((o, i) => {
    if (o !== 'early') return;
    const ops = items[i]!.ops;
    // With jitter the item's expected time (a fire time) may be later than its occurrences.
    const w = Math.max(ops[ops.length - 1]!.occurrence, items[i]!.expected ?? -Infinity) - reply.at;
    wait = wait === null ? w : Math.min(wait, w);
  });
  return wait;
}

type Arg = string | number | Buffer;

/**
 * The job fields most schedules share (queue, timeout, TTLs, failure callback): sent once
 * per script call as a numbered template, not once per item (a sixth of the arguments
 * Redis and the script convert, per job).
 */
class JobTemplates {
  readonly queueKeys: string[] = [];
  readonly args: Arg[] = [];
  private readonly index = new Map<string, number>();

  /** The template number (1-based) of `j`'s shared fields. */
  of(j: EncodedSchedule): number {
    const fields = [
      j.queueName,
      j.timeout,
      j.resultTtl ?? '',
      j.failureTtl ?? '',
      j.ttl === undefined ? '' : String(j.ttl),
      j.failureCallback ?? '',
      // Retries (RQ's own fields) and the schedule's `times` (docs/firing.md).
      j.retriesLeft ?? '',
      j.retryIntervals ?? '',
      j.times === undefined ? '' : String(j.times),
    ];
    const key = fields.join('\u0000');
    let t = this.index.get(key);
    if (t === undefined) {
      t = this.queueKeys.length + 1;
      this.index.set(key, t);
      this.queueKeys.push(j.queueKey);
      this.args.push(...fields);
    }
    return t;
  }
}

/** The script's overlap argument per policy. */
const OVERLAP_ARG: Record<OverlapPolicy, string> = { allow: '0', forbid: '1', 'buffer-one': 'b', replace: 'r' };

/** Text a JSON string holds as it is (no quote, backslash, control or non-ASCII character). */
const JSON_PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** Appends one item's keys and args; false when a job id it records needs JSON escaping. */
function itemArgs(
  keys: Keys,
  item: FireItem,
  templates: JobTemplates,
  k: string[],
  a: Arg[],
  jobKeys: string[],
): boolean {
  const checked = item.overlap !== 'allow';
  let plain = !checked || JSON_PLAIN.test(item.prevJobId);
  const skey = keys.schedule(item.id);
  k.push(skey, keys.runs(item.id));
  if (checked) k.push(item.prevJobId ? RqKeys.job(item.prevJobId) : skey);
  if (item.overlap === 'buffer-one') k.push(keys.held);
  // A queued previous job is cancelled from the schedule's queue (where its jobs go).
  if (item.overlap === 'replace') k.push(RqKeys.canceled(item.job.queueName));
  const next =
    typeof item.next === 'object' ? item.next.set : item.next === 'keep' ? '' : item.next === 'ended' ? '-' : 'done';
  const j = item.job;
  a.push(
    item.expected ?? '',
    item.hash,
    next,
    OVERLAP_ARG[item.overlap],
    item.prevJobId,
    item.ops.length,
    templates.of(j),
    j.data,
    j.description,
  );
  for (const op of item.ops) {
    if (op.kind === 'enqueue') {
      a.push('E', op.occurrence, op.data ?? '', op.jobId, op.meta);
      jobKeys.push(RqKeys.job(op.jobId));
      if (plain && !JSON_PLAIN.test(op.jobId)) plain = false;
    } else {
      a.push('S', op.occurrence, op.until ?? '', op.outcome, op.count ?? '');
    }
  }
  return plain;
}

/** One script call, serialised ahead of time: everything but the enqueue time. */
export interface PreparedBatch {
  items: FireItem[];
  keys: string[];
  args: Arg[];
  call: PrebuiltScriptCall;
}

/** Placeholders of ARGV[3] (epoch ms: 13 digits from 2001 to 2286) and ARGV[4] (RQ time). */
const AT_PLACEHOLDER = '0'.repeat(13);
const RQ_AT_PLACEHOLDER = rqTimestamp(0);

/**
 * Builds and serialises one script call for `items` (everything but the enqueue time).
 * `redisClock`: the batch goes by Redis's clock and is sent as it is (`sendFireBatch`
 * with `'redis'`); otherwise it carries placeholders that the send patches.
 */
export function prepareFireBatch(
  keys: Keys,
  items: FireItem[],
  opts: Pick<FireOptions, 'historyLength' | 'trigger' | 'fence'> & { redisClock?: boolean },
): PreparedBatch {
  // The ids and the job keys of the call each in one block, so the script reads them
  // with one HMGET / ZMSCORE / EXISTS without walking the items first.
  const itemKeys: string[] = [];
  const jobKeys: string[] = [];
  const a: Arg[] = [
    opts.historyLength,
    items.length,
    opts.redisClock ? '' : AT_PLACEHOLDER,
    opts.redisClock ? '' : RQ_AT_PLACEHOLDER,
    opts.trigger,
    0,
    '',
    0,
  ];
  for (const item of items) a.push(item.id);
  const templates = new JobTemplates();
  let plain = true;
  for (const item of items) if (!itemArgs(keys, item, templates, itemKeys, a, jobKeys)) plain = false;
  // 'u': every id and job id once (the usual call), so the script keeps no table of them.
  const distinct = new Set(items.map((it) => it.id)).size === items.length && new Set(jobKeys).size === jobKeys.length;
  a[5] = templates.queueKeys.length;
  a[6] = (plain ? 'p' : '') + (distinct ? 'u' : '');
  a[7] = jobKeys.length;
  const k: string[] = [keys.next, RqKeys.queues, keys.outcomesPending, keys.index];
  for (const x of jobKeys) k.push(x);
  for (const x of itemKeys) k.push(x);
  k.push(...templates.queueKeys);
  a.push(...templates.args);
  const tail = fenceTail(keys.leader, opts.fence);
  k.push(keys.paused, tail.key);
  a.push(tail.arg);
  return { items, keys: k, args: a, call: prebuildScriptCall('fire-batch', k, a) };
}

/**
 * Sends a prepared batch stamped with enqueue time `at`, without waiting (so the caller
 * can build or send the next batch while Redis runs this one). Resolves to one outcome
 * per item, in order. The returned promise already has a rejection handler attached,
 * so a failure surfaces where it is awaited and never as an unhandled rejection.
 *
 * A batch is sent once: its buffer is patched in place and handed to the socket.
 */
export function sendFireBatch(redis: Redis, batch: PreparedBatch, at: number | 'redis'): Promise<FireReply> {
  const atText = at === 'redis' ? '' : String(at);
  let call = batch.call;
  if (batch.args[2] === atText) {
    // Prepared for Redis's clock and sent with it: as it is.
  } else if (at !== 'redis' && atText.length === AT_PLACEHOLDER.length && batch.args[2] === AT_PLACEHOLDER) {
    patchRespArg(call, call.argv(3), atText);
    patchRespArg(call, call.argv(4), rqTimestamp(at));
  } else {
    // Not 13 digits (a test clock near 1970, or a fraction of a millisecond), or the
    // other kind of clock than the batch was prepared for: serialise again.
    const args = [...batch.args];
    args[2] = atText;
    args[3] = at === 'redis' ? '' : rqTimestamp(at);
    call = prebuildScriptCall('fire-batch', batch.keys, args);
  }
  const sent = sendPrebuiltScript<number[]>(redis, call).then(decodeCodes, asFenced('fire-batch'));
  sent.catch(() => undefined);
  return sent;
}

function decodeCodes(codes: number[]): FireReply {
  const n = codes.length - 1;
  const out: FireOutcome[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (c >= 0) out[i] = c;
    else if (c === FireCode.notDue) out[i] = 'not-due';
    else if (c === FireCode.staleSpec) out[i] = 'stale-spec';
    else if (c === FireCode.staleOverlap) out[i] = 'stale-overlap';
    else if (c === FireCode.paused) out[i] = 'paused';
    else if (c === FireCode.early) out[i] = 'early';
    else throw new Error(`fire-batch.lua: unknown reply code ${c}`);
  }
  return { outcomes: out, at: codes[n]! };
}
