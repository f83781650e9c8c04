import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { diff } from '../../src/plan/diff.js';
import { Registry } from '../../src/registry/registry.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

let server: PrivateRedis;
let redis: Redis;
let registry: Registry;
const clock = new ManualClock(Date.parse('2026-06-01T12:00:10Z'));

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  registry = new Registry(redis, 'test:');
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
  clock.set(Date.parse('2026-06-01T12:00:10Z'));
});

function spec(id: string, fields: Record<string, unknown> = {}): Schedule {
  const r = normalizeSchedule({ id, function: 'app.tasks.run', cron: '0 * * * *', ...fields }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

/** A source whose desired state the test sets directly. */
class ListSource implements Source {
  constructor(
    readonly name: string,
    public specs: Schedule[] = [],
    public stale = false,
  ) {}
  async snapshot(): Promise<SourceSnapshot> {
    return {
      source: this.name,
      schedules: this.specs.map((s) => ({ spec: s, hash: specHash(s), origin: 'list' })),
      errors: [],
      stale: this.stale,
      heldOrigins: [],
      heldIds: [],
    };
  }
  async close(): Promise<void> {}
}

const run = (sources: Source[], opts = {}) => reconcileOnce({ sources, registry, clock }, opts);

describe('registry apply', () => {
  it('creates entries with spec, hash, owner, times and next fire time; the second run changes nothing', async () => {
    const src = new ListSource('files', [
      spec('a'),
      spec('b', { every: 90, cron: undefined }),
      spec('off', { enabled: false }),
    ]);
    const first = await run([src]);
    expect(first.applied!.created).toEqual(['a', 'b', 'off']);
    expect(await redis.hget('test:index', 'a')).toBe(`${specHash(spec('a'))}\tfiles\tlist`);
    const h = await redis.hgetall('test:schedule:a');
    expect(JSON.parse(h.spec!)).toEqual(spec('a'));
    expect(h).toMatchObject({
      hash: specHash(spec('a')),
      source: 'files',
      origin: 'list',
      createdAt: String(clock.now()),
      updatedAt: String(clock.now()),
    });
    expect(await redis.zscore('test:next', 'a')).toBe(String(Date.parse('2026-06-01T13:00:00Z')));
    expect(await redis.zscore('test:next', 'b')).toBe(String(Date.parse('2026-06-01T12:01:30Z')));
    expect(await redis.zscore('test:next', 'off')).toBeNull();

    const second = await run([src]);
    expect(second.plan.changes).toEqual([]);
    expect(second.plan.unchanged).toBe(3);
    expect(second.applied).toEqual({ created: [], updated: [], deleted: [], noop: [], conflicts: [] });
  });

  it('an entry created where a schedule hash was left without its index field starts a new life', async () => {
    // What a hand-edited or half-restored Redis can hold: the hash, no index field.
    await redis.hset('test:schedule:a', 'createdAt', '1', 'done', '1', 'hash', 'old');
    const r = await run([new ListSource('files', [spec('a')])]);
    expect(r.applied!.created).toEqual(['a']);
    const h = await redis.hgetall('test:schedule:a');
    expect(h.createdAt).toBe(String(clock.now()));
    expect(h.hash).toBe(specHash(spec('a')));
    expect(h.done).toBeUndefined();
  });

  it('an update that does not touch the trigger keeps the next fire time; a trigger change recomputes it', async () => {
    const src = new ListSource('files', [spec('a')]);
    await run([src]);
    await redis.zadd('test:next', 12345, 'a'); // a marker: would be overwritten by a recompute
    clock.advance(60_000);
    src.specs = [spec('a', { kwargs: { x: 1 } })];
    const r1 = await run([src]);
    expect(r1.applied!.updated).toEqual(['a']);
    expect(r1.plan.changes[0]!.fields.map((f) => f.field)).toEqual(['kwargs']);
    expect(await redis.zscore('test:next', 'a')).toBe('12345');
    expect(await redis.hget('test:schedule:a', 'createdAt')).toBe(String(clock.now() - 60_000));
    expect(await redis.hget('test:schedule:a', 'updatedAt')).toBe(String(clock.now()));

    src.specs = [spec('a', { kwargs: { x: 1 }, cron: '30 * * * *' })];
    await run([src]);
    expect(await redis.zscore('test:next', 'a')).toBe(String(Date.parse('2026-06-01T12:30:00Z')));
    src.specs = [spec('a', { kwargs: { x: 1 }, cron: '30 * * * *', enabled: false })];
    await run([src]);
    expect(await redis.zscore('test:next', 'a')).toBeNull();
  });

  it('deletes an entry and its history; a stale source deletes nothing', async () => {
    const src = new ListSource('files', [spec('a'), spec('b')]);
    await run([src]);
    await redis.lpush('test:runs:a', '{"outcome":"enqueued"}');
    src.specs = [spec('b')];
    src.stale = true;
    expect((await run([src])).plan.changes).toEqual([]);
    expect(await redis.hexists('test:index', 'a')).toBe(1);
    src.stale = false;
    const r = await run([src]);
    expect(r.applied!.deleted).toEqual(['a']);
    expect(await redis.exists('test:schedule:a', 'test:runs:a')).toBe(0);
    expect(await redis.hexists('test:index', 'a')).toBe(0);
    expect(await redis.zscore('test:next', 'a')).toBeNull();
  });

  it('never touches entries owned by a source that is not part of the run', async () => {
    await run([new ListSource('socket', [spec('pushed')])]);
    const r = await run([new ListSource('files', [])]);
    expect(r.plan.changes).toEqual([]);
    expect(await redis.hexists('test:index', 'pushed')).toBe(1);
  });

  it('a stale plan changes nothing (compare-and-set on the observed hash)', async () => {
    const src = new ListSource('files', [spec('a')]);
    await run([src]);
    const plan = diff(
      [await new ListSource('files', [spec('a', { queue: 'mine' })]).snapshot()],
      await registry.readIndex(),
      clock.now(),
    );
    // Someone else applies a different change first.
    await run([new ListSource('files', [spec('a', { queue: 'theirs' })])]);
    const r = await registry.applyPlan(plan, clock.now());
    expect(r.conflicts).toEqual(['a']);
    expect(JSON.parse((await redis.hget('test:schedule:a', 'spec'))!).queue).toBe('theirs');
    // Applying the same plan twice is a no-op the second time.
    const fresh = diff([await src.snapshot()], await registry.readIndex(), clock.now());
    expect((await registry.applyPlan(fresh, clock.now())).updated).toEqual(['a']);
    expect((await registry.applyPlan(fresh, clock.now())).noop).toEqual(['a']);
    // Deleting what is already gone is a success, not an error.
    const del = diff([await new ListSource('files', []).snapshot()], await registry.readIndex(), clock.now());
    expect((await registry.applyPlan(del, clock.now())).deleted).toEqual(['a']);
    expect((await registry.applyPlan(del, clock.now())).noop).toEqual(['a']);
  });

  it('applies thousands of changes in batches of one script call each', async () => {
    const specs = Array.from({ length: 5000 }, (_, i) => spec(`s${i}`, { every: 60 + (i % 7), cron: undefined }));
    await redis.config('RESETSTAT');
    const r = await run([new ListSource('files', specs)]);
    expect(r.applied!.created).toHaveLength(5000);
    expect(await redis.hlen('test:index')).toBe(5000);
    expect(await redis.zcard('test:next')).toBe(5000);
    const stats = await redis.info('commandstats');
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // 5000 changes / 500 per batch = 10 script calls (EVALSHA, or EVAL once when the script is not cached yet).
    expect(calls('evalsha') + calls('eval')).toBeLessThanOrEqual(11);
    expect(calls('evalsha') + calls('eval')).toBeGreaterThanOrEqual(10);
    expect(calls('hgetall')).toBe(1);
  });

  it('a deep reconcile repairs drift that a shallow one cannot see', async () => {
    const src = new ListSource('files', [spec('a'), spec('b'), spec('c'), spec('d')]);
    await run([src]);
    await redis.del('test:schedule:a'); // entry lost
    await redis.hset('test:schedule:b', 'spec', JSON.stringify({ ...spec('b'), queue: 'hacked' })); // altered by hand
    await redis.zrem('test:next', 'c'); // lost its next fire time
    await redis.hset('test:schedule:d', 'spec', '{not json'); // corrupted

    expect((await run([src])).plan.changes).toEqual([]);
    const deep = await run([src], { deep: true });
    expect(deep.plan.changes.map((c) => `${c.id}: ${c.reason}`)).toEqual([
      'a: repair: schedule key missing',
      'b: repair: stored spec does not match its recorded hash',
      'c: repair: next fire time missing',
      'd: repair: stored spec is not a valid schedule',
    ]);
    expect(deep.applied!.updated).toEqual(['a', 'b', 'c', 'd']);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(JSON.parse((await redis.hget(`test:schedule:${id}`, 'spec'))!)).toEqual(spec(id));
      expect(await redis.zscore('test:next', id)).toBe(String(Date.parse('2026-06-01T13:00:00Z')));
    }
    expect((await run([src], { deep: true })).plan.changes).toEqual([]);
  });

  it('a deep read over many entries that share triggers finds each stray next fire time, with or without the known specs', async () => {
    // 450 entries (more than one read-deep slice) over three triggers, some disabled, one one-shot.
    const specs = Array.from({ length: 450 }, (_, i) =>
      spec(
        `s${String(i).padStart(3, '0')}`,
        i % 3 === 0
          ? { cron: '*/5 * * * *', timezone: 'Europe/Berlin' }
          : i % 3 === 1
            ? { cron: undefined, every: '10m' }
            : { enabled: i % 2 === 0 },
      ),
    );
    specs.push(spec('once', { cron: undefined, at: '2026-06-02T08:00:00Z' }));
    const src = new ListSource('files', specs);
    await run([src]);
    const T = (iso: string) => String(Date.parse(iso));
    await redis.zadd('test:next', T('2026-06-01T12:10:00Z'), 's000'); // skips 12:05 (Berlin */5)
    await redis.zadd('test:next', T('2026-06-01T12:03:00Z'), 's003'); // not an occurrence
    await redis.zadd('test:next', T('2026-06-01T12:05:00Z'), 's006'); // right
    await redis.zadd('test:next', T('2026-06-01T12:20:00Z'), 's001'); // skips 12:10 (every 10m)
    await redis.zadd('test:next', T('2026-06-01T11:50:00Z'), 's004'); // due (past): fine
    await redis.zadd('test:next', T('2026-06-01T11:55:00Z'), 's007'); // past, not an occurrence
    await redis.zadd('test:next', T('2026-06-01T13:00:00Z'), 's005'); // a disabled one with a next fire time
    await redis.zrem('test:next', 's008'); // enabled, lost its next fire time
    const snap = await src.snapshot();
    const known = new Map(snap.schedules.map((d) => [d.spec.id, d]));
    const withKnown = await registry.readDeep(clock.now(), (id) => known.get(id));
    const without = await registry.readDeep(clock.now());
    const drift = (m: Map<string, { drift?: string }>) =>
      Object.fromEntries([...m].filter(([, e]) => e.drift).map(([id, e]) => [id, e.drift]));
    expect(drift(withKnown)).toEqual(drift(without));
    expect(drift(withKnown)).toEqual({
      s000: 'stored next fire time 2026-06-01T12:10:00.000Z skips occurrences (the next is 2026-06-01T12:05:00.000Z)',
      s001: 'stored next fire time 2026-06-01T12:20:00.000Z skips occurrences (the next is 2026-06-01T12:10:00.000Z)',
      s003: 'stored next fire time 2026-06-01T12:03:00.000Z is not an occurrence of the schedule',
      s005: 'stored next fire time 2026-06-01T13:00:00.000Z skips occurrences (the next is none)',
      s007: 'stored next fire time 2026-06-01T11:55:00.000Z is not an occurrence of the schedule',
      s008: 'next fire time missing',
    });
    expect(withKnown.get('once')?.spec).toEqual(without.get('once')?.spec);
    expect(withKnown.get('once')?.spec?.at).toBe('2026-06-02T08:00:00Z');
  });

  it('two writers applying the same plan concurrently: each change happens exactly once', async () => {
    const specs = Array.from({ length: 300 }, (_, i) => spec(`s${i}`));
    const reg2 = new Registry(server.client(), 'test:');
    const desired = [await new ListSource('files', specs).snapshot()];
    const observedState = await registry.readIndex();
    const p1 = diff(desired, observedState, clock.now());
    const p2 = diff(desired, observedState, clock.now());
    const [r1, r2] = await Promise.all([registry.applyPlan(p1, clock.now()), reg2.applyPlan(p2, clock.now())]);
    expect(r1.created.length + r2.created.length).toBe(300);
    expect(r1.noop.length + r2.noop.length).toBe(300);
    expect(r1.conflicts.length + r2.conflicts.length).toBe(0);
    expect(await redis.hlen('test:index')).toBe(300);
  });
});
