/**
 * The daemon's event path plans only what changed: the file source reports the ids of
 * the files it re-read (what they had and have) and of files that are gone; a socket
 * request names its id. A scoped run must reach the same registry as a full one, and
 * read the index of just those ids (HMGET), never the whole of it (HGETALL).
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { Registry } from '../../src/registry/registry.js';
import { FileSource } from '../../sources/files/file-source.js';
import { ReconcileLoop } from '../../reconcilers/reconcile-loop.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { eventually } from '../helpers/eventually.js';
import { monitor } from '../helpers/redis-monitor.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let server: PrivateRedis;
let redis: Redis;
let registry: Registry;
let dir: ReturnType<typeof tmpDir>;
let source: FileSource;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  registry = new Registry(redis, 'scope:');
});
afterAll(async () => server.close());
beforeEach(async () => {
  await redis.flushall();
  dir = tmpDir();
  source = new FileSource({ dir: dir.path, ctx: DEFAULT_CONTEXT });
});
afterEach(() => dir.cleanup());

const sched = (id: string, every = 60) => ({ id, function: 'app.tasks.run', every });
const write = (rel: string, schedules: unknown[]) => {
  mkdirSync(join(dir.path, rel, '..'), { recursive: true });
  writeFileSync(join(dir.path, rel), JSON.stringify(schedules));
};
const run = (opts: { scope?: string[]; deep?: boolean } = {}) => reconcileOnce({ sources: [source], registry }, opts);
const index = async () => (await redis.hkeys('scope:index')).sort();
/**
 * How many of each command the clients sent while `fn` ran (MONITOR), not counting what
 * scripts ran: apply-changes.lua reads the index fields of its batch with an HMGET of
 * its own, which is a write's compare-and-set, not the reconcile's read of the registry.
 */
async function clientCalls(fn: () => Promise<unknown>): Promise<(cmd: string) => number> {
  const m = await monitor(server);
  await fn();
  await redis.echo('scoped-reconcile: end');
  await eventually(() => m.lines.some((l) => l.args[1] === 'scoped-reconcile: end') || null, 'MONITOR caught up');
  const lines = await m.stop();
  return (cmd) => lines.filter((l) => l.source !== 'lua' && l.args[0]!.toLowerCase() === cmd).length;
}

describe('file source: what changed since the previous snapshot', () => {
  it('is unknown at first, empty when nothing changed, and names the ids of edited and removed files', async () => {
    write('a.json', [sched('a1'), sched('a2')]);
    write('b.json', [sched('b1')]);
    expect((await source.snapshot()).changed).toBeUndefined();
    expect((await source.snapshot()).changed).toEqual([]);
    write('a.json', [sched('a1', 90), sched('a3')]); // a2 removed, a3 added, a1 edited
    utimesSync(join(dir.path, 'a.json'), new Date(), new Date(Date.now() + 5000));
    expect((await source.snapshot()).changed?.sort()).toEqual(['a1', 'a2', 'a3']);
    rmSync(join(dir.path, 'b.json'));
    expect((await source.snapshot()).changed).toEqual(['b1']);
    expect((await source.snapshot({ fresh: true })).changed).toBeUndefined();
  });

  it('a broken file keeps naming the ids it holds; deleting it names them for deletion', async () => {
    write('a.json', [sched('a1'), sched('a2')]);
    await source.snapshot();
    writeFileSync(join(dir.path, 'a.json'), '[{"id": "a1"'); // half-saved
    const broken = await source.snapshot();
    expect(broken.heldOrigins).toEqual(['a.json']);
    expect(broken.changed?.sort()).toEqual(['a1', 'a2']);
    expect((await source.snapshot()).changed?.sort()).toEqual(['a1', 'a2']); // still held
    rmSync(join(dir.path, 'a.json'));
    expect((await source.snapshot()).changed?.sort()).toEqual(['a1', 'a2']);
  });
});

describe('file source: duplicate ids across edits', () => {
  it('an id in two files is held while both define it, and released to the other when one drops it', async () => {
    write('a.json', [sched('x'), sched('a')]);
    write('b.json', [sched('x'), sched('b')]);
    const first = await source.snapshot();
    expect(first.heldIds).toEqual(['x']);
    expect(first.errors.map((e) => e.message)).toEqual([
      'id is defined in more than one file: a.json, b.json; it keeps its applied state until only one file defines it',
    ]);
    expect(first.schedules.map((d) => d.spec.id)).toEqual(['a', 'b']);
    write('a.json', [sched('a')]);
    utimesSync(join(dir.path, 'a.json'), new Date(), new Date(Date.now() + 5000));
    const second = await source.snapshot();
    expect(second.heldIds).toEqual([]);
    expect(second.errors).toEqual([]);
    expect(second.byId?.get('x')?.origin).toBe('b.json');
    expect(second.changed?.sort()).toEqual(['a', 'x']);
    write('c.json', [sched('b')]); // now b is duplicated, with the earlier file named first
    const third = await source.snapshot();
    expect(third.heldIds).toEqual(['b']);
    expect(third.errors.map((e) => e.message)).toEqual([
      'id is defined in more than one file: b.json, c.json; it keeps its applied state until only one file defines it',
    ]);
    expect(third.changed).toEqual(['b']);
  });
});

describe('scoped reconcile', () => {
  it('reaches the registry a full reconcile reaches, reading only the ids in scope', async () => {
    for (let f = 0; f < 20; f++)
      write(
        `f${f}.json`,
        Array.from({ length: 50 }, (_, i) => sched(`s${f}-${i}`)),
      );
    await run({ deep: true });
    expect(await redis.hlen('scope:index')).toBe(1000);

    write('f3.json', [...Array.from({ length: 49 }, (_, i) => sched(`s3-${i}`, i === 0 ? 120 : 60)), sched('new')]); // s3-0 edited, s3-49 gone, new added
    rmSync(join(dir.path, 'f7.json'));
    let r!: Awaited<ReturnType<typeof run>>;
    const calls = await clientCalls(async () => (r = await run({ scope: [] })));
    expect(calls('hgetall')).toBe(0);
    expect(calls('hmget')).toBe(1);
    expect(r.applied!.created).toEqual(['new']);
    expect(r.applied!.updated).toEqual(['s3-0']);
    expect(r.applied!.deleted.sort()).toEqual(['s3-49', ...Array.from({ length: 50 }, (_, i) => `s7-${i}`)].sort());
    expect(r.plan.sources[0]!.schedules).toBe(950);
    expect(await redis.hget('scope:schedule:s3-0', 'spec')).toContain('"every":120');

    // A full reconcile now finds nothing left to do.
    expect((await run()).plan.changes).toEqual([]);
    expect((await run({ deep: true })).plan.changes).toEqual([]);
  });

  it('an id moved between files in one change is moved, not deleted and re-created', async () => {
    write('a.json', [sched('x'), sched('a')]);
    write('b.json', [sched('b')]);
    await run({ deep: true });
    await redis.lpush('scope:runs:x', '{"occurrence":1}'); // history that a delete would lose
    write('a.json', [sched('a')]);
    write('b.json', [sched('b'), sched('x')]);
    const r = await run({ scope: [] });
    expect(r.applied!.updated).toEqual(['x']);
    expect(r.applied!.deleted).toEqual([]);
    expect(await redis.hget('scope:index', 'x')).toMatch(/\tfiles\tb\.json$/);
    expect(await redis.llen('scope:runs:x')).toBe(1);
  });

  it('a broken file deletes nothing and its schedules count as held', async () => {
    write('a.json', [sched('a1'), sched('a2')]);
    write('b.json', [sched('b1')]);
    await run({ deep: true });
    writeFileSync(join(dir.path, 'a.json'), '');
    const r = await run({ scope: [] });
    expect(r.plan.changes).toEqual([]);
    expect(r.plan.held).toEqual(['a1', 'a2']);
    expect(r.plan.sources[0]!.held).toBe(2);
    expect(await index()).toEqual(['a1', 'a2', 'b1']);
  });

  it('a source that cannot say what changed gets a full reconcile', async () => {
    write('a.json', [sched('a1')]);
    let r!: Awaited<ReturnType<typeof run>>;
    const calls = await clientCalls(async () => (r = await run({ scope: [] }))); // the first snapshot: nothing to compare with
    expect(r.applied!.created).toEqual(['a1']);
    expect(calls('hgetall')).toBe(1);
  });

  it('the reconcile loop retries a failed scoped run in full', async () => {
    write('a.json', [sched('a1')]);
    await run({ deep: true });
    let fail = 1;
    const flaky = {
      name: 'files',
      snapshot: async (opts?: { fresh?: boolean }) => {
        const snap = await source.snapshot(opts);
        if (fail-- > 0) throw new Error('Redis went away');
        return snap;
      },
      close: async () => undefined,
    };
    let retried!: () => void;
    const retriedOk = new Promise<void>((resolve) => (retried = resolve));
    const loop = new ReconcileLoop(() => ({ sources: [flaky], registry }), {
      backoffMs: [10, 10],
      onResult: () => retried(),
    });
    write('a.json', [sched('a1'), sched('a2')]);
    // Counted from before the failed run: it fails in the source snapshot, before reading
    // the registry, so every index read counted is the retry's.
    const calls = await clientCalls(async () => {
      await expect(loop.request({ scope: [] })).rejects.toThrow(/went away/);
      await retriedOk;
    });
    // The failed run consumed the file source's record of the change; the retry is full.
    expect(await index()).toEqual(['a1', 'a2']);
    expect(calls('hgetall')).toBe(1);
    expect(calls('hmget')).toBe(0);
    await loop.stop();
  });
});
