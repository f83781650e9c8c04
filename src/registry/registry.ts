/**
 * The registry adapter (the Redis side of `RegistryPort`): the applied state in Redis.
 * Reads what is applied (shallow: the index in one HGETALL; deep: every entry, to find
 * drift), applies plans in batches of one `apply-changes` call each, pipelined, and
 * owns the records `pyrq status` reads without a daemon (source status, daemon facts).
 * All key names come from `Keys`.
 */
import type { Redis } from 'ioredis';
import { parseJson } from '../canonical-json.js';
import { SETTINGS } from '../config/settings.js';
import type { Schedule } from '../model/schedule-schema.js';
import { storedSchedule } from '../model/stored-schedule.js';
import { specHash, specHashOfText } from '../model/spec-hash.js';
import type { ObservedEntry, Plan } from '../plan/types.js';
import { type EntryOutcome, applyChanges, loadApplyChanges } from '../redis/commands/apply-changes.js';
import { type FenceGuard, FencedError } from '../redis/commands/fence.js';
import { type DeepFields, loadReadDeep, readDeepFields } from '../redis/commands/read-deep.js';
import { collectIfGrown } from '../gc.js';
import { Keys } from '../redis/keys.js';
import { slicer } from '../yield-slices.js';
import { nextFireAfter } from '../schedule/next-fire.js';
import { fireTimeOf, nextFireTimeAfter, occurrenceAt } from '../schedule/jitter.js';
import { specTextMayBeOneShot, TRIGGER_FIELDS } from '../schedule/triggers/index.js';
import { type IndexValue, decodeIndexValue } from './index-value.js';
import { applyResultOf, entryWriteOf } from './plan-writes.js';
import { publishWriteNotice, writeNoticeOf, writerRole } from './write-notice.js';
import type {
  ApplyResult,
  DaemonClock,
  DaemonFacts,
  KnownSpecs,
  RegistryEntry,
  RegistryPort,
  SourceStatus,
} from './registry-port.js';

/** Changes per Lua call: big enough to amortise the round trip, small enough not to block Redis for long. */
export const APPLY_BATCH = 500;
/**
 * Lua calls written but not yet answered, at most: Redis applies one while the next
 * are built, and the arguments of 100,000 changes (~150 MB as strings, then again as
 * bytes on the wire) are never all in memory at once.
 */
const CALLS_IN_FLIGHT = 10;

/**
 * Ids per pipelined read batch. Each batch's replies are parsed (and validated) in one
 * go: 2,000 specs held the event loop, and the dispatcher's fires, for 60-90 ms on a busy
 * machine during a file storm (issue 22); 500 keep it near 20 ms.
 */
const READ_BATCH = 500;
/** Entries checked between two yields of a deep read (about 5 ms of hashing on a busy machine). */
const DEEP_SLICE = 200;
/** read-deep calls in flight during a deep read (a fire waits behind at most these in Redis, ~1 ms each). */
const DEEP_IN_FLIGHT = 4;
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Parses a stored spec; returns undefined when it is not a valid normalised schedule. */
export function parseStoredSpec(json: string | null | undefined): Schedule | undefined {
  if (!json) return undefined;
  try {
    // By hand, not with the schema: reading the registry loads no zod (stored-schedule.ts).
    return storedSchedule(parseJson(json));
  } catch {
    return undefined;
  }
}

/**
 * An entry as `status` shows it, from its index value, the fields of its schedule HASH
 * (spec, hash, owner, times, and the dispatcher's state) and its next fire time.
 */
export function registryEntryOf(
  id: string,
  idx: IndexValue,
  fields: Record<string, string>,
  next: number | null,
): RegistryEntry {
  const { spec, hash, source, origin, createdAt, updatedAt, ...state } = fields;
  return {
    id,
    spec: parseStoredSpec(spec),
    hash: hash ?? idx.hash,
    source: source ?? idx.source,
    origin: origin ?? idx.origin,
    createdAt: createdAt ? Number(createdAt) : undefined,
    updatedAt: updatedAt ? Number(updatedAt) : undefined,
    next,
    state,
  };
}

/**
 * Why a stored next fire time does not follow from the spec, or undefined when it does:
 * it must be an occurrence, and not later than the first occurrence after `now` (a later
 * one silences the schedule until then, as a `pyrq tick --at` a month ahead used to).
 * A time in the past is merely due: the dispatcher's catch-up policy handles it.
 */
export function strayNextFire(spec: Schedule | undefined, stored: number, now: number): string | undefined {
  if (!spec) return undefined;
  if (stored > now) {
    const upcoming = nextFireTimeAfter(spec, now);
    if (upcoming === null || stored > upcoming)
      return `stored next fire time ${new Date(stored).toISOString()} skips occurrences (the next is ${upcoming === null ? 'none' : new Date(upcoming).toISOString()})`;
  }
  // With jitter the stored time is an occurrence's fire time (src/schedule/jitter.ts).
  const occurrence = occurrenceAt(spec, stored);
  if (nextFireAfter(spec, occurrence - 1000) !== occurrence || fireTimeOf(spec, occurrence) !== stored)
    return `stored next fire time ${new Date(stored).toISOString()} is not an occurrence of the schedule`;
  return undefined;
}

/**
 * The trigger fields of a spec as one string, kept per spec object: the desired specs
 * are the same objects from one deep re-sync to the next (a file whose bytes did not
 * change keeps its parse), and building the string was most of a memo hit's cost.
 * Specs are never changed in place (their hash is computed once, when parsed).
 */
const triggerKeys = new WeakMap<Schedule, string>();
function triggerKeyOf(spec: Schedule): string {
  let key = triggerKeys.get(spec);
  if (key === undefined) {
    const fields = spec as unknown as Record<string, unknown>;
    key = '';
    for (const f of TRIGGER_FIELDS) {
      const v = fields[f];
      key +=
        v === undefined
          ? '\u0001'
          : typeof v === 'string'
            ? `\u0002${v}`
            : typeof v === 'number'
              ? `\u0003${v}`
              : typeof v === 'boolean'
                ? v
                  ? '\u0004'
                  : '\u0005'
                : `\u0006${JSON.stringify(v)}`;
    }
    // One string per distinct trigger (a few thousand), not one per schedule.
    const shared = internedKeys.get(key);
    if (shared === undefined) {
      if (internedKeys.size >= 50_000) internedKeys.clear();
      internedKeys.set(key, key);
    } else key = shared;
    triggerKeys.set(spec, key);
  }
  return key;
}
const internedKeys = new Map<string, string>();

/**
 * `strayNextFire` for one deep read (one `now`), remembered per trigger (the fields that
 * decide when a schedule fires) and stored time: 100,000 schedules share a few thousand
 * triggers and mostly the same next fire time, and the two next-fire evaluations per
 * entry (memo hits in cron.ts, mostly) were a third of the deep read's CPU.
 */
function strayChecker(now: number): (spec: Schedule, stored: string) => string | undefined {
  const memo = new Map<string, Map<string, string | undefined>>();
  return (spec, stored) => {
    const key = triggerKeyOf(spec);
    let byStored = memo.get(key);
    if (byStored === undefined) memo.set(key, (byStored = new Map()));
    if (byStored.has(stored)) return byStored.get(stored);
    const stray = strayNextFire(spec, Number(stored), now);
    byStored.set(stored, stray);
    return stray;
  };
}

/** A stored spec whose text hashes to its recorded hash: pyrq wrote it, so it is parsed without validation (and not kept). */
function trustedSpec(json: string): Schedule | undefined {
  try {
    return parseJson(json) as Schedule;
  } catch {
    return undefined;
  }
}

export class Registry implements RegistryPort {
  readonly keys: Keys;

  /**
   * `fence`: the daemon's; its registry writes carry the lease token while it leads, and a
   * refused apply (the lease was lost) is reported to it. Without one, writes are unfenced.
   */
  constructor(
    readonly redis: Redis,
    prefix: string = SETTINGS['redis.prefix'].default,
    private readonly fence?: FenceGuard,
  ) {
    this.keys = new Keys(prefix);
  }

  /** What is applied, from the index alone (one round trip). */
  async readIndex(): Promise<Map<string, ObservedEntry>> {
    // The reply as a flat array: ioredis turns an `hgetall` reply into an object (its
    // reply transformer is keyed by the lower-case name), which at 100,000 entries cost
    // ~250 ms of one block of the event loop, and Object.entries as much again.
    const raw = (await this.redis.call('HGETALL', this.keys.index)) as string[] | Record<string, string>;
    const out = new Map<string, ObservedEntry>();
    if (Array.isArray(raw)) {
      const s = slicer(); // let timers run
      for (let i = 0; i + 1 < raw.length; i += 2) {
        out.set(raw[i]!, decodeIndexValue(raw[i + 1]!));
        await s.tick();
      }
    } else for (const [id, v] of Object.entries(raw)) out.set(id, decodeIndexValue(v));
    return out;
  }

  /** Index entries of just these ids (one HMGET). */
  async readIndexIds(ids: readonly string[]): Promise<Map<string, ObservedEntry>> {
    const out = new Map<string, ObservedEntry>();
    if (ids.length === 0) return out;
    const values = await this.redis.hmget(this.keys.index, ...ids);
    ids.forEach((id, i) => {
      const v = values[i];
      if (v) out.set(id, decodeIndexValue(v));
    });
    return out;
  }

  /** The stored specs of `ids` (pipelined); ids whose spec is missing or invalid are absent. */
  async readSpecs(
    ids: readonly string[],
    expectedHash?: (id: string) => string | undefined,
  ): Promise<Map<string, Schedule>> {
    const out = new Map<string, Schedule>();
    const s = slicer();
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) p.hget(this.keys.schedule(id), 'spec');
      const res = (await p.exec()) ?? [];
      // Parsed in time slices: the deletes of a 100,000-file storm read 100,000 specs, and
      // a batch in one go held the fires. A text that hashes to the hash the caller
      // observed is what pyrq wrote (as in readDeep): parsed, not validated again (the
      // validation, ~200 µs a spec on a busy machine, was most of the deletes' CPU).
      for (let j = 0; j < batch.length; j++) {
        const id = batch[j]!;
        const text = res[j]?.[1] as string | null;
        const expected = expectedHash?.(id);
        const spec = text && expected && specHashOfText(text) === expected ? trustedSpec(text) : parseStoredSpec(text);
        if (spec) out.set(id, spec);
        await s.tick();
      }
    }
    return out;
  }

  /**
   * A deep read for the periodic re-sync: every indexed entry with its spec, checked
   * against what pyrq wrote. An entry whose hash key is gone or altered, whose spec no
   * longer hashes to its recorded hash, or which lost its next fire time, is marked
   * `drift` so the plan rewrites it.
   */
  async readDeep(now: number, known?: KnownSpecs): Promise<Map<string, ObservedEntry>> {
    const index = await this.readIndex();
    const ids = [...index.keys()];
    await loadReadDeep(this.redis);
    // One read-deep call per slice (two commands per entry cost most of the read in the
    // client's per-command work and garbage); small slices (building and decoding 4,000
    // commands at once held the event loop for ~100 ms, and with it the dispatcher's
    // fires), a few in flight at all times (Redis reads the next while this process
    // checks one), each checked as it arrives, yielding between them.
    const stray = strayChecker(now);
    const inFlight: { slice: string[]; reply: Promise<DeepFields[]> }[] = [];
    let next = 0;
    const send = () => {
      const slice = ids.slice(next, next + DEEP_SLICE);
      next += slice.length;
      const reply = readDeepFields(this.redis, this.keys, slice);
      reply.catch(() => undefined); // awaited below, in order
      inFlight.push({ slice, reply });
    };
    while (next < ids.length || inFlight.length > 0) {
      while (next < ids.length && inFlight.length < DEEP_IN_FLIGHT) send();
      const { slice, reply } = inFlight.shift()!;
      this.checkDeep(index, slice, await reply, now, stray, known);
      collectIfGrown(); // the daemon's first reconcile only (gc.ts)
      await yieldToIo();
    }
    return index;
  }

  /** The checks of readDeep for one slice of ids and what Redis holds of them. */
  private checkDeep(
    index: Map<string, ObservedEntry>,
    batch: readonly string[],
    res: readonly DeepFields[],
    now: number,
    strayOf: ReturnType<typeof strayChecker>,
    known?: KnownSpecs,
  ): void {
    batch.forEach((id, j) => {
      const entry = index.get(id)!;
      const { spec: specJson, hash, source, origin, done, score } = res[j]!;
      // The usual case, cheaply: the stored text is exactly what pyrq wrote for this hash,
      // so it is a valid spec that hashes to it (no parse; a re-sync of 100,000 entries
      // would otherwise parse and keep every spec). The diff needs the spec only of a
      // one-shot (is its `at` being re-aimed?); updates and deletes read theirs later.
      const intact = specJson != null && specHashOfText(specJson) === entry.hash;
      // An intact text with the hash of a known (desired, validated) spec is that spec:
      // no parse and validation again (~200 µs each, for every disabled schedule).
      // A source that keeps its specs as text (files) parses one only when asked, and then
      // keeps it: taken from there only when already parsed, else read from the stored text
      // and dropped (a start-up's deep read would otherwise parse and keep all 100,000).
      const k = intact ? known?.(id) : undefined;
      const knownSpec = k?.hash === entry.hash && k.text === undefined ? k.spec : undefined;
      const spec =
        intact && score != null && !specTextMayBeOneShot(specJson)
          ? undefined
          : (knownSpec ?? parseStoredSpec(specJson));
      if (specJson == null) entry.drift = 'schedule key missing';
      else if (!intact && !spec) entry.drift = 'stored spec is not a valid schedule';
      else if ((!intact && specHash(spec!) !== entry.hash) || hash !== entry.hash)
        entry.drift = 'stored spec does not match its recorded hash';
      else if (source !== entry.source || origin !== entry.origin)
        entry.drift = 'stored owner does not match the index';
      else if (score == null && done !== '1' && spec && nextFireAfter(spec, now) !== null)
        entry.drift = 'next fire time missing';
      else if (score != null) {
        const s = spec ?? knownSpec ?? trustedSpec(specJson);
        const stray = s && strayOf(s, score);
        if (stray) entry.drift = stray;
      }
      if (spec) entry.spec = spec;
    });
  }

  /**
   * Applies exactly `plan`: every change is a compare-and-set on the hash the plan
   * observed. Batches are pipelined, so 100,000 changes take a handful of round trips.
   */
  /**
   * `signal`: once aborted (Ctrl-C on `pyrq apply`), no further batch is sent; the batches
   * in flight complete (each change is all-or-nothing), and the result covers the changes
   * sent, with `notSent` counting the rest.
   */
  async applyPlan(plan: Plan, now: number, opts: { signal?: AbortSignal } = {}): Promise<ApplyResult> {
    const changes = plan.changes;
    if (changes.length === 0) return applyResultOf([], []);
    await loadApplyChanges(this.redis);
    const fence = this.fence?.token();
    const calls: Promise<EntryOutcome[]>[] = [];
    let sent = 0;
    try {
      for (let i = 0; i < changes.length && !opts.signal?.aborted; i += APPLY_BATCH) {
        if (calls.length >= CALLS_IN_FLIGHT) await calls[calls.length - CALLS_IN_FLIGHT];
        if (opts.signal?.aborted) break;
        const writes = changes.slice(i, i + APPLY_BATCH).map((c) => entryWriteOf(c, now));
        calls.push(applyChanges(this.redis, this.keys, { now, publish: true, writes, fence }));
        sent = i + writes.length;
        // Let due timers run between batches: building the first ten (5,000 changes) in one
        // go held the daemon's event loop, and its fires, for 100+ ms in a file storm.
        if (i + APPLY_BATCH < changes.length) await new Promise((resolve) => setImmediate(resolve));
      }
      const result = applyResultOf(changes.slice(0, sent), (await Promise.all(calls)).flat());
      // Who wrote which sources' entries: the daemon that owns them notices a foreign write.
      const notice = writeNoticeOf(changes.slice(0, sent), result, writerRole());
      if (notice) await publishWriteNotice(this.redis, this.keys, notice);
      return sent < changes.length ? { ...result, notSent: changes.length - sent } : result;
    } catch (e) {
      if (e instanceof FencedError) this.fence?.refused();
      throw e;
    }
  }

  async has(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.index, id)) === 1;
  }

  /** Every entry with its spec, next fire time and dispatcher state (for `status`). */
  async readEntries(ids?: readonly string[]): Promise<RegistryEntry[]> {
    const index = await this.readIndex();
    const wanted = ids ? ids.filter((id) => index.has(id)) : [...index.keys()].sort();
    const out: RegistryEntry[] = [];
    for (let i = 0; i < wanted.length; i += READ_BATCH) {
      const batch = wanted.slice(i, i + READ_BATCH);
      const p = this.redis.pipeline();
      for (const id of batch) {
        p.hgetall(this.keys.schedule(id));
        p.zscore(this.keys.next, id);
      }
      const res = (await p.exec()) ?? [];
      batch.forEach((id, j) => {
        const score = res[2 * j + 1]?.[1] as string | null;
        out.push(
          registryEntryOf(
            id,
            index.get(id)!,
            (res[2 * j]?.[1] as Record<string, string>) ?? {},
            score == null ? null : Number(score),
          ),
        );
      });
    }
    return out;
  }

  async recordSourceStatus(statuses: readonly SourceStatus[]): Promise<void> {
    if (statuses.length === 0) return;
    await this.redis.hset(this.keys.sourceStatus, ...statuses.flatMap((h) => [h.source, JSON.stringify(h)]));
  }

  async readSourceStatus(): Promise<SourceStatus[]> {
    return Object.values(await this.redis.hgetall(this.keys.sourceStatus)).map((v) => JSON.parse(v) as SourceStatus);
  }

  async recordDaemonFacts(facts: DaemonFacts): Promise<void> {
    const fields: string[] = [];
    if (facts.leader !== undefined) fields.push('leader', facts.leader);
    if (facts.leaderSince !== undefined) fields.push('leaderSince', String(facts.leaderSince));
    if (facts.lastReconcile !== undefined) fields.push('lastReconcile', JSON.stringify(facts.lastReconcile));
    if (facts.sources !== undefined) fields.push('sources', JSON.stringify(facts.sources));
    const gone: string[] = [];
    for (const [id, c] of Object.entries(facts.clocks ?? {})) {
      if (c === null) gone.push(`clock:${id}`);
      else fields.push(`clock:${id}`, JSON.stringify(c));
    }
    if (fields.length > 0) await this.redis.hset(this.keys.daemon, ...fields);
    if (gone.length > 0) await this.redis.hdel(this.keys.daemon, ...gone);
  }

  async readDaemonFacts(): Promise<DaemonFacts> {
    // One read: the fixed fields and every daemon's `clock:<holder id>`.
    const all = await this.redis.hgetall(this.keys.daemon);
    const { leader, leaderSince, lastReconcile, sources } = all;
    const facts: DaemonFacts = {};
    for (const [field, value] of Object.entries(all)) {
      if (field.startsWith('clock:')) (facts.clocks ??= {})[field.slice(6)] = JSON.parse(value) as DaemonClock;
    }
    if (leader != null) facts.leader = leader;
    if (leaderSince != null) facts.leaderSince = Number(leaderSince);
    if (lastReconcile != null) facts.lastReconcile = JSON.parse(lastReconcile) as DaemonFacts['lastReconcile'];
    if (sources != null) facts.sources = JSON.parse(sources) as string[];
    return facts;
  }
}
