/**
 * RQ job encoding: the Redis hash a stock `rq worker` loads and runs. Pure (no Redis).
 *
 * Checked against RQ 1.13's `Job.to_dict()` / `Job.restore()` / `Queue.enqueue_job()`
 * (Debian's python3-rq, rq/job.py and rq/queue.py):
 * - `data`: zlib-compressed pickle of `(func_name, instance, args, kwargs)`; `restore`
 *   tries `zlib.decompress` and falls back to raw bytes, then `pickle.loads` unpacks
 *   exactly four items. `func_name` is a dotted path resolved by `import_attribute`.
 * - `created_at`, `enqueued_at`: `%Y-%m-%dT%H:%M:%S.%fZ` (utcformat/utcparse).
 * - `status` `queued`, `origin` the queue name (not the key), `description` free text.
 * - `timeout`, `result_ttl`, `failure_ttl`, `ttl`: integers as text; absent means RQ's
 *   default (180 s timeout is always written, as `enqueue_job` does; result_ttl 500 s,
 *   failure_ttl 1 year). `ttl` is also applied as EXPIRE on the job key
 *   (`Job.cleanup(ttl)`), which is what makes a queued job vanish when it waited too long.
 * - `meta`: the serializer's dump of a dict, not compressed.
 * - `retries_left`, `retry_intervals` (a schedule's `retry`): as `Job.to_dict` writes a
 *   `Retry(max, interval)`: an int and `json.dumps` of a list of ints. The worker's
 *   `handle_job_failure` calls `job.retry()`: interval 0 requeues at once, a longer one
 *   puts the job in the ScheduledJobRegistry (a worker with `--with-scheduler` moves it back).
 * RQ 2.x (read, not run: only 1.13 is installed here): a recent 2.x `Job.restore` (after
 * 2.4.1) reads every field through `obj.get`, `data` through zlib then the serializer,
 * `meta` through the serializer, and `status` into its JobStatus enum (`queued` is a
 * member); the fields 2.x added (group_id, repeats_left, rate_limit_key, webhooks, ...)
 * are optional. A job needs nothing else: started_at, ended_at, worker_name etc. are
 * written by the worker.
 */
import { deflateSync } from 'node:zlib';
import type { Schedule } from '../model/schedule-schema.js';
import { RqKeys } from '../redis/keys.js';
import {
  FRAPPE_EXECUTE_JOB,
  FRAPPE_FAILURE_TTL,
  FRAPPE_RESULT_TTL,
  frappeKwargs,
  frappeQueueName,
} from './frappe-target.js';
import { scheduledJobId } from './job-id.js';
import { encodePickle, PyTuple, type PyValue } from './pickle.js';

export interface EncodeOptions {
  /** Frappe bench id (`config.frappe.benchId`): queue names become `<benchId>:<queue>`. */
  frappeBenchId?: string;
  frappeSite?: string;
  frappeUser?: string;
}

/**
 * Everything about a schedule's jobs that is the same for every occurrence, computed
 * once per spec version (the dispatcher caches it by id + spec hash). Values are kept
 * as the strings and bytes stored in the job hash; `jobHashFields` lays them out.
 */
export interface EncodedSchedule {
  id: string;
  hash: string;
  /** RQ queue name (`origin`), e.g. `default` or `my-bench:long`. */
  queueName: string;
  queueKey: string;
  funcName: string;
  /** zlib-compressed pickle of the job tuple. */
  data: Buffer;
  description: string;
  timeout: string;
  resultTtl?: string;
  failureTtl?: string;
  /** RQ `ttl` and EXPIRE on the job key, seconds. */
  ttl?: number;
  /** The schedule's own meta; pyrq adds its trace under `pyrq`. */
  userMeta: { [k: string]: PyValue };
  /** The pickled meta of a scheduled occurrence with a placeholder occurrence (see jobMeta). */
  metaTemplate: Buffer;
  /** Byte offset of the 24-byte placeholder in `metaTemplate`; -1: no template. */
  metaOffset: number;
  overlap: Schedule['overlap'];
  /** RQ `failure_callback_name` (the schedule's `onFailure`): the worker imports and calls it when the job raises. */
  failureCallback?: string;
  /**
   * The schedule has `jobIdKwarg`: each job's `data` carries its own job id, so it is
   * encoded per job (`jobData`); `data` above is then the encoding without the id.
   */
  dataFor?: (jobId: string) => Buffer;
  /** RQ `retries_left` (the schedule's `retry.max`), as text. */
  retriesLeft?: string;
  /** RQ `retry_intervals` as RQ writes it (`json.dumps` of a list of ints: `[10, 60]`). */
  retryIntervals?: string;
  /** The schedule's `times`: the fire script stops enqueuing scheduled jobs at this count. */
  times?: number;
}

/** What a job's `meta.pyrq` says: enough to trace any job back to its schedule. */
export interface PyrqJobMeta {
  schedule: string;
  /** The occurrence, ISO 8601 UTC (for a manual run: the time it was triggered). */
  occurrence: string;
  trigger: 'schedule' | 'manual';
  /** The spec hash the job was encoded from. */
  hash: string;
}

/** RQ's timestamp format, `2026-03-01T02:00:00.000000Z` (microseconds; ms precision here). */
export function rqTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

// Identical payloads (many schedules calling one function with the same arguments) share
// one compressed buffer: deflateSync costs ~30 µs a call, mostly setup, which is most of
// the cost of encoding a schedule. Bounded; cleared wholesale when full.
const compressed = new Map<string, Buffer>();
const COMPRESSED_MAX = 20_000;

/**
 * A copy of `b` in memory of its own. The dispatcher keeps encoded payloads for as long as
 * a schedule exists, and a view keeps everything it is a view of: deflateSync's 16 KiB
 * output chunk, or a slab of Node's buffer pool shared with short-lived buffers (a
 * 100,000-schedule daemon held hundreds of MB that way).
 */
function keepable(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}

function compress(pickle: Buffer): Buffer {
  const key = pickle.toString('latin1');
  let out = compressed.get(key);
  if (out === undefined) {
    out = keepable(deflateSync(pickle));
    if (compressed.size >= COMPRESSED_MAX) compressed.clear();
    compressed.set(key, out);
  }
  return out;
}

/** The pickled (uncompressed) job tuple `(func_name, None, args, kwargs)`. */
export function jobTuplePickle(funcName: string, args: readonly PyValue[], kwargs: { [k: string]: PyValue }): Buffer {
  return encodePickle(new PyTuple([funcName, null, new PyTuple(args), kwargs]), 'job');
}

/**
 * Encodes the occurrence-independent part of a schedule's jobs.
 * @throws Error when the schedule cannot become a job (a value Python cannot hold, or a
 *   Frappe schedule with positional args); the message names the schedule.
 */
export function encodeSchedule(spec: Schedule, hash: string, opts: EncodeOptions = {}): EncodedSchedule {
  const frappe = spec.target === 'frappe';
  const funcName = frappe ? FRAPPE_EXECUTE_JOB : spec.function;
  const args = (frappe ? [] : spec.args) as PyValue[];
  const kwargs = frappe
    ? frappeKwargs(spec, opts.frappeSite, opts.frappeUser)
    : (spec.kwargs as { [k: string]: PyValue });
  let pickle: Buffer;
  try {
    pickle = jobTuplePickle(funcName, args, kwargs);
  } catch (e) {
    throw new Error(`schedule "${spec.id}": ${(e as Error).message}`, { cause: e });
  }
  const queueName = frappe ? frappeQueueName(spec.queue, opts.frappeBenchId) : spec.queue;
  const resultTtl = spec.resultTtl ?? (frappe ? FRAPPE_RESULT_TTL : undefined);
  const failureTtl = spec.failureTtl ?? (frappe ? FRAPPE_FAILURE_TTL : undefined);
  const description =
    spec.description ??
    callString(frappe ? spec.function : funcName, args, frappe ? (spec.kwargs as { [k: string]: PyValue }) : kwargs);
  const userMeta = spec.meta as { [k: string]: PyValue };
  const dataFor =
    spec.jobIdKwarg === undefined ? undefined : perJobData(spec, spec.jobIdKwarg, funcName, args, kwargs, frappe);
  const metaTemplate = keepable(encodeMeta(spec.id, hash, userMeta, OCCURRENCE_PLACEHOLDER, 'schedule'));
  const metaOffset = metaTemplate.lastIndexOf(OCCURRENCE_PLACEHOLDER, undefined, 'latin1');
  return {
    id: spec.id,
    hash,
    queueName,
    queueKey: RqKeys.queue(queueName),
    funcName,
    data: compress(pickle),
    description,
    timeout: String(spec.timeout),
    resultTtl: resultTtl === undefined ? undefined : String(resultTtl),
    failureTtl: failureTtl === undefined ? undefined : String(failureTtl),
    ttl: spec.ttl,
    userMeta,
    metaTemplate,
    metaOffset,
    overlap: spec.overlap,
    failureCallback: spec.onFailure,
    dataFor,
    ...(spec.retry
      ? { retriesLeft: String(spec.retry.max), retryIntervals: `[${spec.retry.intervals.join(', ')}]` }
      : {}),
    ...(spec.times !== undefined ? { times: spec.times } : {}),
  };
}

/**
 * The `data` of each job of a schedule whose arguments carry the job's own id. A scheduled
 * job id has the same length for every occurrence (`scheduledJobId`), so the pickle is
 * built once with a placeholder of that length and each job's id is copied over it (~1 µs
 * instead of ~45 µs for a pickle and a deflate per job). That data is left uncompressed:
 * RQ's `Job.restore` (1.x and 2.x) tries zlib and falls back to the raw bytes, and a
 * pickle (first byte 0x80) is never a zlib stream. Ids of another length (manual runs)
 * get a pickle of their own, compressed like every other job's.
 */
function perJobData(
  spec: Schedule,
  name: string,
  funcName: string,
  args: PyValue[],
  kwargs: { [k: string]: PyValue },
  frappe: boolean,
): (jobId: string) => Buffer {
  // Frappe's execute_job passes its `kwargs` on to the method: the id goes in there.
  const pickleWith = (jobId: string): Buffer =>
    frappe
      ? jobTuplePickle(funcName, args, {
          ...kwargs,
          kwargs: { ...(kwargs.kwargs as { [k: string]: PyValue }), [name]: jobId },
        })
      : jobTuplePickle(funcName, args, { ...kwargs, [name]: jobId });
  const length = scheduledJobId(spec.id, 0).length;
  const placeholder = `<${'#'.repeat(length - 2)}>`;
  const template = keepable(pickleWith(placeholder));
  const offset = template.indexOf(placeholder, 0, 'latin1');
  const unique = offset >= 0 && template.lastIndexOf(placeholder, undefined, 'latin1') === offset;
  return (jobId) => {
    if (!unique || jobId.length !== length) return deflateSync(pickleWith(jobId));
    const out = Buffer.from(template);
    out.write(jobId, offset, 'latin1');
    return out;
  };
}

// An ISO timestamp is 24 ASCII characters (years 0000-9999), so it pickles to the same
// opcode and length as this placeholder: a scheduled occurrence's meta is the template
// with the timestamp copied over the placeholder, not a fresh pickle per job.
const OCCURRENCE_PLACEHOLDER = '<<pyrq:occurrence:here>>';

function encodeMeta(
  id: string,
  hash: string,
  userMeta: { [k: string]: PyValue },
  occurrence: string,
  trigger: 'schedule' | 'manual',
): Buffer {
  const trace: PyrqJobMeta = { schedule: id, occurrence, trigger, hash };
  return encodePickle({ ...userMeta, pyrq: trace as unknown as { [k: string]: PyValue } }, 'meta');
}

/** The pickled `meta` of one job: the schedule's meta plus pyrq's trace. */
export function jobMeta(enc: EncodedSchedule, occurrenceMs: number, trigger: 'schedule' | 'manual'): Buffer {
  const occurrence = new Date(occurrenceMs).toISOString();
  if (trigger === 'schedule' && enc.metaOffset >= 0 && occurrence.length === OCCURRENCE_PLACEHOLDER.length) {
    const out = Buffer.from(enc.metaTemplate);
    out.write(occurrence, enc.metaOffset, 'latin1');
    return out;
  }
  return encodeMeta(enc.id, enc.hash, enc.userMeta, occurrence, trigger);
}

/** The `data` of one job: the schedule's, or its own when the job id is one of its arguments. */
export function jobData(enc: EncodedSchedule, jobId: string): Buffer {
  return enc.dataFor ? enc.dataFor(jobId) : enc.data;
}

/**
 * Every field of one job hash, as alternating names and values (for HSET), in the order
 * fire-batch.lua writes them. The script assembles the same hash from the parts; this
 * is its reference layout (tests compare the two). `jobId` matters only with `jobIdKwarg`.
 */
export function jobHashFields(
  enc: EncodedSchedule,
  occurrenceMs: number,
  nowMs: number,
  trigger: 'schedule' | 'manual',
  jobId = '',
): (string | Buffer)[] {
  const now = rqTimestamp(nowMs);
  const f: (string | Buffer)[] = [
    'data',
    jobData(enc, jobId),
    'status',
    'queued',
    'origin',
    enc.queueName,
    'description',
    enc.description,
    'timeout',
    enc.timeout,
  ];
  if (enc.resultTtl !== undefined) f.push('result_ttl', enc.resultTtl);
  if (enc.failureTtl !== undefined) f.push('failure_ttl', enc.failureTtl);
  if (enc.ttl !== undefined) f.push('ttl', String(enc.ttl));
  if (enc.failureCallback !== undefined) f.push('failure_callback_name', enc.failureCallback);
  if (enc.retriesLeft !== undefined) f.push('retries_left', enc.retriesLeft);
  if (enc.retryIntervals !== undefined) f.push('retry_intervals', enc.retryIntervals);
  f.push('created_at', now, 'enqueued_at', now, 'meta', jobMeta(enc, occurrenceMs, trigger));
  return f;
}

const MAX_DESCRIPTION = 1000;

/** `pkg.mod.func(1, 'a', x=True)`: RQ's default description (`Job.get_call_string`). */
export function callString(funcName: string, args: readonly PyValue[], kwargs: { [k: string]: PyValue }): string {
  const parts = [...args.map(pyRepr), ...Object.entries(kwargs).map(([k, v]) => `${k}=${pyRepr(v)}`)];
  const s = `${funcName}(${parts.join(', ')})`;
  return s.length > MAX_DESCRIPTION ? `${s.slice(0, MAX_DESCRIPTION - 4)}...)` : s;
}

/** Python's repr of a JSON-like value (close enough for a description; not parsed back). */
export function pyRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number')
    return Number.isSafeInteger(v)
      ? String(v)
      : Number.isFinite(v)
        ? String(v)
        : Number.isNaN(v)
          ? 'nan'
          : v > 0
            ? 'inf'
            : '-inf';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof PyTuple)
    return v.items.length === 1 ? `(${pyRepr(v.items[0]!)},)` : `(${v.items.map(pyRepr).join(', ')})`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(', ')}}`;
}
