/**
 * The registry contract, run against both adapters: the Redis one (the real thing, on a
 * private redis-server) and the in-memory one the reconcile unit tests use. The same
 * plans must give the same outcomes and the same stored state in both, so the fake
 * cannot drift from what Redis and apply-changes.lua do.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { Registry } from '../../src/registry/registry.js';
import type { RegistryPort } from '../../src/registry/registry-port.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { ListSource, makeSpec } from '../helpers/schedules.js';

let server: PrivateRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => server.close());

/** A registry under test, with the ways a test alters its stored state behind pyrq's back. */
interface Subject {
  registry: RegistryPort;
  dropNext(id: string): Promise<void>;
  setScheduleField(id: string, field: string, value: string): Promise<void>;
  dropSchedule(id: string): Promise<void>;
}

const PREFIX = 'contract:';
const subjects: { name: string; make: () => Promise<Subject> }[] = [
  {
    name: 'in memory',
    make: async () => {
      const m = new MemoryRegistry();
      return {
        registry: m,
        dropNext: async (id) => void m.next.delete(id),
        setScheduleField: async (id, f, v) => void (m.schedules.get(id)![f] = v),
        dropSchedule: async (id) => void m.schedules.delete(id),
      };
    },
  },
  {
    name: 'Redis',
    make: async () => {
      await redis.flushall();
      const r = new Registry(redis, PREFIX);
      return {
        registry: r,
        dropNext: async (id) => void (await redis.zrem(r.keys.next, id)),
        setScheduleField: async (id, f, v) => void (await redis.hset(r.keys.schedule(id), f, v)),
        dropSchedule: async (id) => void (await redis.del(r.keys.schedule(id))),
      };
    },
  },
];

const T0 = Date.parse('2026-06-01T12:00:10Z');
const hourly = (id: string, fields: Record<string, unknown> = {}): Schedule =>
  makeSpec({ id, cron: '0 * * * *', ...fields });

describe.each(subjects)('registry contract: $name', ({ make }) => {
  let s: Subject;
  let clock: ManualClock;
  const run = (sources: ListSource[], opts: { deep?: boolean; dryRun?: boolean; scope?: string[] } = {}) =>
    reconcileOnce({ sources, registry: s.registry, clock }, opts);

  const fresh = async () => {
    s = await make();
    clock = new ManualClock(T0);
  };

  it('creates entries with owner, times and next fire time; reads them back every way', async () => {
    await fresh();
    const a = hourly('a');
    const off = hourly('off', { enabled: false });
    const r = await run([new ListSource('files', [a, off])]);
    expect(r.applied).toMatchObject({ created: ['a', 'off'], updated: [], deleted: [], noop: [], conflicts: [] });
    expect(await s.registry.readIndex()).toEqual(
      new Map([
        ['a', { hash: specHash(a), source: 'files', origin: 'test' }],
        ['off', { hash: specHash(off), source: 'files', origin: 'test' }],
      ]),
    );
    expect(await s.registry.readIndexIds(['off', 'nope'])).toEqual(
      new Map([['off', { hash: specHash(off), source: 'files', origin: 'test' }]]),
    );
    expect([await s.registry.has('a'), await s.registry.has('nope')]).toEqual([true, false]);
    expect(await s.registry.readSpecs(['a', 'nope'])).toEqual(new Map([['a', a]]));
    expect(await s.registry.readEntries()).toEqual([
      {
        id: 'a',
        spec: a,
        hash: specHash(a),
        source: 'files',
        origin: 'test',
        createdAt: T0,
        updatedAt: T0,
        next: Date.parse('2026-06-01T13:00:00Z'),
        state: {},
      },
      {
        id: 'off',
        spec: off,
        hash: specHash(off),
        source: 'files',
        origin: 'test',
        createdAt: T0,
        updatedAt: T0,
        next: null,
        state: {},
      },
    ]);
    expect((await s.registry.readEntries(['off', 'nope'])).map((e) => e.id)).toEqual(['off']);
  });

  it('applying the same plan twice changes nothing the second time', async () => {
    await fresh();
    const src = new ListSource('files', [hourly('a'), hourly('b')]);
    const plan = (await run([src], { dryRun: true })).plan;
    expect(await s.registry.applyPlan(plan, T0)).toMatchObject({ created: ['a', 'b'], noop: [] });
    expect(await s.registry.applyPlan(plan, T0 + 1000)).toMatchObject({ created: [], noop: ['a', 'b'], conflicts: [] });
    expect((await s.registry.readEntries(['a']))[0]!.updatedAt).toBe(T0);
  });

  it('a stale plan is a conflict and changes nothing; a delete of what is gone is a no-op', async () => {
    await fresh();
    const src = new ListSource('files', [hourly('a'), hourly('b')]);
    await run([src]);
    src.specs = [hourly('a', { queue: 'v2' })];
    const stale = (await run([src], { dryRun: true })).plan; // update a, delete b
    src.specs = [hourly('a', { queue: 'v3' })];
    clock.advance(1000);
    const other = await run([src]); // another writer: a becomes v3, b is deleted
    expect(other.applied).toMatchObject({ updated: ['a'], deleted: ['b'] });
    const r = await s.registry.applyPlan(stale, clock.now());
    expect(r).toMatchObject({ updated: [], deleted: [], conflicts: ['a'], noop: ['b'] });
    expect((await s.registry.readSpecs(['a'])).get('a')?.queue).toBe('v3');
    expect(await s.registry.has('b')).toBe(false);
  });

  it('a create that finds the same entry already there is a no-op; one that finds another is a conflict', async () => {
    await fresh();
    const mine = (await run([new ListSource('files', [hourly('a')])], { dryRun: true })).plan;
    const theirs = (await run([new ListSource('files', [hourly('a', { queue: 'other' })])], { dryRun: true })).plan;
    expect(await s.registry.applyPlan(mine, T0)).toMatchObject({ created: ['a'] });
    expect(await s.registry.applyPlan(mine, T0)).toMatchObject({ created: [], noop: ['a'] });
    expect(await s.registry.applyPlan(theirs, T0)).toMatchObject({ created: [], conflicts: ['a'] });
  });

  it('an update keeps the next fire time unless the trigger changed; a move records the new owner', async () => {
    await fresh();
    const src = new ListSource('files', [hourly('a')]);
    await run([src]);
    clock.set(Date.parse('2026-06-01T12:30:00Z'));
    src.specs = [hourly('a', { queue: 'other' })];
    await run([src]);
    expect((await s.registry.readEntries(['a']))[0]).toMatchObject({
      next: Date.parse('2026-06-01T13:00:00Z'),
      createdAt: T0,
      updatedAt: clock.now(),
    });
    src.specs = [hourly('a', { queue: 'other', cron: '*/10 * * * *' })];
    await run([src]);
    expect((await s.registry.readEntries(['a']))[0]!.next).toBe(Date.parse('2026-06-01T12:40:00Z'));
    const r = await run([new ListSource('mysql', src.specs), new ListSource('files', [])]);
    expect(r.applied).toMatchObject({ updated: ['a'], deleted: [] });
    expect((await s.registry.readIndexIds(['a'])).get('a')?.source).toBe('mysql');
  });

  it('a deep read finds what was altered behind pyrq, and a deep reconcile repairs it', async () => {
    await fresh();
    const src = new ListSource('files', [hourly('a'), hourly('b'), hourly('c'), hourly('d'), hourly('e')]);
    await run([src]);
    await s.dropNext('a');
    await s.setScheduleField('b', 'hash', 'not-the-hash');
    await s.dropSchedule('c');
    await s.setScheduleField('d', 'source', 'someone-else');
    await s.setScheduleField('e', 'spec', '{"broken":');
    const deep = await s.registry.readDeep(clock.now());
    expect(Object.fromEntries([...deep].map(([id, e]) => [id, e.drift]))).toEqual({
      a: 'next fire time missing',
      b: 'stored spec does not match its recorded hash',
      c: 'schedule key missing',
      d: 'stored owner does not match the index',
      e: 'stored spec is not a valid schedule',
    });
    expect(deep.get('a')?.spec).toEqual(hourly('a'));
    const r = await run([src], { deep: true });
    expect(r.applied?.updated.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([...(await s.registry.readDeep(clock.now())).values()].filter((e) => e.drift)).toEqual([]);
    expect((await s.registry.readEntries(['a']))[0]!.next).toBe(Date.parse('2026-06-01T13:00:00Z'));
    expect((await run([src], { deep: true })).plan.changes).toEqual([]);
  });

  it('records source health per source and the daemon facts field by field', async () => {
    await fresh();
    const files = { source: 'files', stale: false, schedules: 3, held: 0, errors: [], at: T0 };
    const mysql = {
      source: 'mysql',
      stale: true,
      schedules: 0,
      held: 2,
      errors: ['mysql: down'],
      at: T0,
      by: 'pyrq apply',
    };
    expect(await s.registry.readSourceStatus()).toEqual([]);
    await s.registry.recordSourceStatus([files, mysql]);
    await s.registry.recordSourceStatus([{ ...files, schedules: 4, at: T0 + 1 }]);
    await s.registry.recordSourceStatus([]);
    const health = (await s.registry.readSourceStatus()).sort((x, y) => x.source.localeCompare(y.source));
    expect(health).toEqual([{ ...files, schedules: 4, at: T0 + 1 }, mysql]);
    expect(await s.registry.readDaemonFacts()).toEqual({});
    await s.registry.recordDaemonFacts({ leader: 'host:1:abc', leaderSince: T0 });
    const summary = {
      at: T0 + 5,
      runId: 'r1',
      durationMs: 1.5,
      created: 1,
      updated: 0,
      deleted: 0,
      conflicts: 0,
      unchanged: 2,
      errors: 0,
    };
    await s.registry.recordDaemonFacts({ lastReconcile: summary });
    expect(await s.registry.readDaemonFacts()).toEqual({
      leader: 'host:1:abc',
      leaderSince: T0,
      lastReconcile: summary,
    });
  });
});

describe('registry contract: both side by side', () => {
  it('the same reconciles leave both in the same state, step by step', async () => {
    const [memory, real] = await Promise.all(subjects.map((x) => x.make()));
    const clock = new ManualClock(T0);
    const files = new ListSource('files', [
      hourly('a'),
      hourly('b'),
      makeSpec({ id: 'once', at: '2026-06-02T00:00:00Z' }),
      hourly('off', { enabled: false }),
    ]);
    const mysql = new ListSource('mysql', [makeSpec({ id: 'm', every: 90 })]);
    const steps: (() => void)[] = [
      () => {},
      () => (files.specs = [hourly('a', { queue: 'x' }), ...files.specs.slice(1)]),
      () => (files.specs = files.specs.filter((x) => x.id !== 'b')),
      () => (mysql.specs = [...mysql.specs, hourly('a', { queue: 'x' })]), // claimed twice: a conflict, held
      () => (files.specs = files.specs.filter((x) => x.id !== 'a')), // a moves to mysql
      () =>
        (files.specs = files.specs.map((x) =>
          x.id === 'once' ? makeSpec({ id: 'once', at: '2026-06-03T00:00:00Z' }) : x,
        )),
    ];
    const done: string[] = [];
    for (const [i, step] of steps.entries()) {
      step();
      clock.advance(60_000);
      const results = [];
      for (const x of [memory!, real!])
        results.push(
          await reconcileOnce({ sources: [files, mysql], registry: x.registry, clock }, { deep: i % 2 === 1 }),
        );
      const [m, r] = results;
      expect(m!.applied, `step ${i}`).toEqual(r!.applied);
      const a = r!.applied!;
      done.push(
        ...a.created.map((id) => `+${id}`),
        ...a.updated.map((id) => `~${id}`),
        ...a.deleted.map((id) => `-${id}`),
        ...m!.plan.errors.map((e) => `!${e.id}`),
      );
      expect(m!.plan.errors, `step ${i}`).toEqual(r!.plan.errors);
      expect(await memory!.registry.readEntries(), `step ${i}`).toEqual(await real!.registry.readEntries());
      expect(await memory!.registry.readIndex(), `step ${i}`).toEqual(await real!.registry.readIndex());
    }
    // The steps did what they say (so the comparison above compared something).
    expect(done).toEqual(['+a', '+b', '+m', '+off', '+once', '~a', '-b', '!a', '~a', '~once']);
  });
});

describe('the index value', () => {
  it('apply-changes.lua writes what index-value.ts decodes, an origin with tabs included', async () => {
    await redis.flushall();
    const registry = new Registry(redis, PREFIX);
    const src = new ListSource('files', [hourly('a')]);
    await reconcileOnce({ sources: [src], registry, clock: new ManualClock(T0) });
    expect(await redis.hget(`${PREFIX}index`, 'a')).toBe(`${specHash(hourly('a'))}\tfiles\ttest`);
    const tabbed = {
      ...src,
      name: 'files',
      snapshot: async () => ({
        ...(await src.snapshot()),
        schedules: [{ spec: hourly('a'), hash: specHash(hourly('a')), origin: 'dir/with\ttab.json' }],
      }),
      close: async () => {},
    };
    await reconcileOnce({ sources: [tabbed], registry, clock: new ManualClock(T0) });
    expect((await registry.readIndexIds(['a'])).get('a')).toEqual({
      hash: specHash(hourly('a')),
      source: 'files',
      origin: 'dir/with\ttab.json',
    });
  });
});
