/**
 * reconcileOnce on the in-memory registry: what it reads, what it plans and what it
 * applies, without a Redis server (the registry contract test holds the in-memory
 * registry to the Redis adapter's behaviour).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';
import { makeSpec } from '../helpers/schedules.js';

const T0 = Date.parse('2026-06-01T12:00:10Z');
const every = (id: string, seconds = 60, fields: Record<string, unknown> = {}): Schedule =>
  makeSpec({ id, every: seconds, ...fields });

/** A source whose snapshot the test sets field by field. */
class ScriptedSource implements Source {
  specs: Schedule[] = [];
  stale = false;
  /** What the source says changed since its previous snapshot; undefined: it cannot say. */
  changed: string[] | undefined = undefined;
  heldIds: string[] = [];
  freshReads = 0;
  constructor(readonly name: string) {}
  async snapshot(opts: { fresh?: boolean } = {}): Promise<SourceSnapshot> {
    if (opts.fresh) this.freshReads++;
    const schedules = this.specs.map((spec) => ({ spec, hash: specHash(spec), origin: `${this.name}.json` }));
    return {
      source: this.name,
      schedules,
      errors: this.stale ? [{ source: this.name, message: 'unreadable' }] : [],
      stale: this.stale,
      heldOrigins: [],
      heldIds: this.heldIds,
      changed: this.changed,
    };
  }
  async close(): Promise<void> {}
}

function setup() {
  const registry = new MemoryRegistry();
  const clock = new ManualClock(T0);
  const files = new ScriptedSource('files');
  const run = (opts: Parameters<typeof reconcileOnce>[1] = {}, sources: Source[] = [files]) =>
    reconcileOnce({ sources, registry, clock }, opts);
  return { registry, clock, files, run };
}

describe('reconcileOnce (in-memory registry)', () => {
  it('a dry run plans and changes nothing; the real run applies exactly that plan', async () => {
    const { registry, files, run } = setup();
    files.specs = [every('a'), every('b')];
    const dry = await run({ dryRun: true });
    expect(dry.applied).toBeUndefined();
    expect(dry.plan.changes.map((c) => `${c.action} ${c.id}`)).toEqual(['create a', 'create b']);
    expect(registry.calls.applyPlan).toBeUndefined();
    expect(registry.index.size).toBe(0);
    const r = await run();
    expect(r.applied?.created).toEqual(['a', 'b']);
    expect(registry.published).toBe(1);
    expect((await run()).plan.changes).toEqual([]);
    expect(registry.published).toBe(1); // nothing changed: nothing announced
  });

  it('an update carries the spec it replaces and the fields that differ', async () => {
    const { files, run } = setup();
    files.specs = [every('a')];
    await run();
    files.specs = [every('a', 60, { queue: 'reports' })];
    const [change] = (await run()).plan.changes;
    expect(change).toMatchObject({
      action: 'update',
      id: 'a',
      before: every('a'),
      after: every('a', 60, { queue: 'reports' }),
      triggerChanged: false,
    });
    expect(change!.fields).toEqual([{ field: 'queue', before: 'default', after: 'reports' }]);
  });

  it('a stale source deletes nothing it owns, and other sources still apply', async () => {
    const { registry, files, run } = setup();
    const mysql = new ScriptedSource('mysql');
    files.specs = [every('a')];
    mysql.specs = [every('m')];
    await run({}, [files, mysql]);
    mysql.stale = true;
    mysql.specs = [];
    files.specs = [every('a'), every('b')];
    const r = await run({}, [files, mysql]);
    expect(r.applied).toMatchObject({ created: ['b'], deleted: [] });
    expect(r.plan.sources.find((s) => s.source === 'mysql')).toMatchObject({ stale: true });
    expect(await registry.has('m')).toBe(true);
  });

  it('entries of a source that takes no part in the run are left alone', async () => {
    const { registry, files, run } = setup();
    const socket = new ScriptedSource('socket');
    socket.specs = [every('pushed')];
    files.specs = [every('a')];
    await run({}, [files, socket]);
    files.specs = [];
    const r = await run({}, [files]);
    expect(r.applied?.deleted).toEqual(['a']);
    expect(await registry.has('pushed')).toBe(true);
  });

  it('a scoped run reads only the ids in scope (and what the sources say changed or hold)', async () => {
    const { registry, files, run } = setup();
    files.specs = [every('a'), every('b'), every('c'), every('d'), every('e')];
    await run();
    files.specs = [every('a', 90), every('b', 90), every('e')]; // d removed too, but nobody says so
    files.changed = ['b'];
    files.heldIds = ['c']; // c's row no longer parses: held, not deleted
    const before = { ...registry.calls };
    const r = await run({ scope: ['a'] });
    expect(registry.calls.readIndex).toBe(before.readIndex); // no full read of the index
    expect(registry.calls.readIndexIds).toBe((before.readIndexIds ?? 0) + 1);
    expect(r.plan.changes.map((c) => `${c.action} ${c.id}`).sort()).toEqual(['update a', 'update b']);
    expect(r.plan.held).toEqual(['c']);
    expect(r.plan.sources[0]!.schedules).toBe(3); // counted from the whole snapshot, not the scope
    expect(await registry.has('c')).toBe(true);
    expect(await registry.has('d')).toBe(true); // out of scope: the deep re-sync catches it
  });

  it('a scoped run becomes a full one when a source cannot say what changed, or is stale', async () => {
    const { registry, files, run } = setup();
    files.specs = [every('a'), every('b')];
    await run();
    files.specs = [every('a')];
    files.changed = undefined;
    const readsBefore = registry.calls.readIndex ?? 0;
    const r = await run({ scope: [] });
    expect(registry.calls.readIndex).toBe(readsBefore + 1);
    expect(r.applied?.deleted).toEqual(['b']);
  });

  it('a deep run reads sources from scratch and repairs drift', async () => {
    const { registry, files, run } = setup();
    files.specs = [every('a')];
    await run();
    registry.next.delete('a');
    const shallow = await run();
    expect(shallow.plan.changes).toEqual([]); // the index alone cannot see it
    const deep = await run({ deep: true });
    expect(files.freshReads).toBe(1);
    expect(deep.plan.changes[0]).toMatchObject({
      action: 'update',
      id: 'a',
      repair: true,
      reason: 'repair: next fire time missing',
    });
    expect(registry.next.get('a')).toBe(T0 + 60_000 - (T0 % 60_000));
  });

  it('a plan made stale by another writer reports conflicts and leaves their change', async () => {
    const { registry, clock, files, run } = setup();
    files.specs = [every('a')];
    await run();
    files.specs = [every('a', 120)];
    const mine = (await run({ dryRun: true })).plan;
    files.specs = [every('a', 300)];
    await run(); // the other writer
    const r = await registry.applyPlan(mine, clock.now());
    expect(r.conflicts).toEqual(['a']);
    expect((await registry.readSpecs(['a'])).get('a')?.every).toBe(300);
  });
});
