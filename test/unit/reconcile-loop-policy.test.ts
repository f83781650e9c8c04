/**
 * The reconcile loop's policy (single-flight, dirty bit, merged requests, backoff, stop)
 * on the in-memory registry. Runs are held open by a gate the test releases, so the
 * tests wait on conditions, never on sleeps.
 */
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { type ReconcileRequest, ReconcileLoop } from '../../reconcilers/reconcile-loop.js';
import type { ReconcileResult } from '../../reconcilers/reconcile-once.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';
import { makeSpec } from '../helpers/schedules.js';

/** A source whose snapshots can be held until released, or made to fail. */
class GatedSource implements Source {
  specs: Schedule[];
  reads: { fresh: boolean }[] = [];
  failNext = 0;
  private gates: (() => void)[] = [];
  private held = false;
  constructor(
    readonly name: string,
    ids: string[] = [name],
  ) {
    this.specs = ids.map((id) => makeSpec({ id, every: 60 }));
  }
  /** Snapshots from now on wait until `release()`. */
  hold(): void {
    this.held = true;
  }
  release(): void {
    this.held = false;
    for (const g of this.gates.splice(0)) g();
  }
  get waiting(): number {
    return this.gates.length;
  }
  async snapshot(opts: { fresh?: boolean } = {}): Promise<SourceSnapshot> {
    this.reads.push({ fresh: opts.fresh === true });
    if (this.held) await new Promise<void>((r) => this.gates.push(r));
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error(`${this.name} exploded`);
    }
    return {
      source: this.name,
      schedules: this.specs.map((spec) => ({ spec, hash: specHash(spec), origin: 'x' })),
      errors: [],
      stale: false,
      heldOrigins: [],
      heldIds: [],
    };
  }
  async close(): Promise<void> {}
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function loopOver(sources: Source[], opts: ConstructorParameters<typeof ReconcileLoop>[1] = {}) {
  const registry = new MemoryRegistry();
  const seen: { result: ReconcileResult; req: ReconcileRequest }[] = [];
  const loop = new ReconcileLoop(() => ({ sources, registry }), {
    ...opts,
    onResult: (result, req) => void seen.push({ result, req }),
  });
  return { registry, loop, seen };
}

describe('reconcile loop policy (in-memory registry)', () => {
  it('single-flight with a dirty bit: requests during a run are merged into exactly one more run', async () => {
    const src = new GatedSource('files');
    const { loop, seen } = loopOver([src]);
    src.hold();
    const first = loop.request({ reason: 'one' });
    await until(() => src.waiting === 1, 'first run reads its source');
    expect(loop.busy).toBe(true);
    const more = [
      loop.request({ reason: 'two', sources: ['files'] }),
      loop.request({ reason: 'three', deep: true }),
      loop.request({ reason: 'two' }),
    ];
    src.release();
    await first;
    const results = await Promise.all(more);
    expect(src.reads).toEqual([{ fresh: false }, { fresh: true }]); // the merged run is deep because one request was
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(seen.map((x) => x.req)).toEqual([
      { reason: 'one' },
      { deep: true, reason: 'two, three', sources: undefined, scope: undefined },
    ]);
    await loop.stop();
  });

  it('merges scopes: the union of sources and ids, everything when one request wants everything', async () => {
    const files = new GatedSource('files');
    const mysql = new GatedSource('mysql');
    const socket = new GatedSource('socket');
    const { loop, seen } = loopOver([files, mysql, socket]);
    files.hold();
    const first = loop.request({ sources: ['files'], scope: [] });
    await until(() => files.waiting === 1, 'first run');
    const a = loop.request({ sources: ['mysql'], scope: ['m1'] });
    const b = loop.request({ sources: ['socket'], scope: ['s1', 'm1'] });
    files.release();
    await Promise.all([first, a, b]);
    expect(seen[1]!.req).toMatchObject({ sources: ['mysql', 'socket'], scope: ['m1', 's1'], deep: false });
    expect([files.reads.length, mysql.reads.length, socket.reads.length]).toEqual([1, 1, 1]);

    files.hold();
    const c = loop.request({ sources: ['files'] });
    await until(() => files.waiting === 1, 'third run');
    const d = loop.request({ sources: ['mysql'], scope: ['m2'] });
    const e = loop.request({});
    files.release();
    await Promise.all([c, d, e]);
    expect(seen[3]!.req).toMatchObject({ sources: undefined, scope: undefined });
    await loop.stop();
  });

  it('a failed run rejects its waiters and is retried after the backoff, unscoped, without anyone asking', async () => {
    const src = new GatedSource('files');
    const { loop, seen } = loopOver([src], { backoffMs: [1, 5] });
    src.failNext = 2;
    await expect(loop.request({ reason: 'x', scope: ['files'] })).rejects.toThrow('files exploded');
    expect(loop.lastError?.message).toBe('files exploded');
    await until(() => seen.length === 1, 'a successful retry');
    expect(src.reads).toHaveLength(3);
    expect(seen[0]!.req).toMatchObject({ reason: 'x', scope: undefined });
    expect(loop.lastError).toBeUndefined();
    expect(loop.lastResult?.applied?.created).toEqual(['files']);
    await loop.stop();
  });

  it('stop waits for the run in flight, fails what is still queued, and refuses new requests', async () => {
    const src = new GatedSource('files');
    const { loop, registry } = loopOver([src]);
    src.hold();
    const inFlight = loop.request({});
    await until(() => src.waiting === 1, 'run in flight');
    const queued = loop.request({ reason: 'queued' });
    const stopped = loop.stop();
    src.release();
    await stopped;
    await expect(inFlight).resolves.toMatchObject({ applied: { created: ['files'] } });
    await expect(queued).rejects.toThrow(/stopped/);
    await expect(loop.request({})).rejects.toThrow(/stopped/);
    expect(src.reads).toHaveLength(1);
    expect(await registry.has('files')).toBe(true);
  });
});
