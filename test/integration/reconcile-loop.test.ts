import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { specHash } from '../../src/model/spec-hash.js';
import { Registry } from '../../src/registry/registry.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { ReconcileLoop } from '../../reconcilers/reconcile-loop.js';
import { eventually } from '../helpers/eventually.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

let server: PrivateRedis;
let redis: Redis;
let registry: Registry;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  registry = new Registry(redis, 'loop:');
});
afterAll(async () => server.close());

/**
 * A source that counts its reads, can be held mid-read (`hold()`: reads wait until
 * `release()`, and `entered` resolves when one is waiting), and can fail on demand.
 */
class CountingSource implements Source {
  reads = 0;
  fresh = 0;
  failNext = 0;
  ids = ['a'];
  private gate: Promise<void> | null = null;
  private open: () => void = () => undefined;
  private signalEntered: () => void = () => undefined;
  entered: Promise<void> = Promise.resolve();
  constructor(readonly name = 'files') {}
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
    this.entered = new Promise((r) => (this.signalEntered = r));
  }
  release(): void {
    this.gate = null;
    this.open();
  }
  async snapshot(opts: { fresh?: boolean } = {}): Promise<SourceSnapshot> {
    this.reads++;
    if (opts.fresh) this.fresh++;
    if (this.gate) {
      this.signalEntered();
      await this.gate;
    }
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('source exploded');
    }
    const schedules = this.ids.map((id) => {
      const r = normalizeSchedule({ id, function: 'a.b', every: 60 }, DEFAULT_CONTEXT);
      if (!r.ok) throw new Error('bad');
      return { spec: r.schedule, hash: specHash(r.schedule), origin: 'x' };
    });
    return { source: this.name, schedules, errors: [], stale: false, heldOrigins: [], heldIds: [] };
  }
  async close(): Promise<void> {}
}

describe('reconcile loop', () => {
  it('single-flight with a dirty bit: requests during a run cause exactly one more run', async () => {
    const src = new CountingSource();
    src.hold();
    const loop = new ReconcileLoop(() => ({ sources: [src], registry }));
    const first = loop.request({ reason: 'one' });
    await src.entered; // the first run is in flight, reading the source
    expect(loop.busy).toBe(true);
    const more = [
      loop.request({ reason: 'two' }),
      loop.request({ reason: 'three', deep: true }),
      loop.request({ reason: 'four' }),
    ];
    src.release();
    await first;
    const results = await Promise.all(more);
    expect(src.reads).toBe(2);
    expect(src.fresh).toBe(1); // the merged second run is deep because one request was
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    await loop.stop();
  });

  it('scopes a run to the sources asked for', async () => {
    const files = new CountingSource('files');
    const mysql = new CountingSource('mysql');
    mysql.ids = ['m'];
    const loop = new ReconcileLoop(() => ({ sources: [files, mysql], registry }));
    await loop.request({ sources: ['mysql'] });
    expect([files.reads, mysql.reads]).toEqual([0, 1]);
    await loop.request({});
    expect([files.reads, mysql.reads]).toEqual([1, 2]);
    await loop.stop();
  });

  it('retries a failed run with backoff, and the waiters of the failed run get the error', async () => {
    const src = new CountingSource();
    src.failNext = 2;
    const results: string[] = [];
    const loop = new ReconcileLoop(() => ({ sources: [src], registry }), {
      backoffMs: [20, 100],
      onResult: (r) => void results.push(r.runId),
    });
    await expect(loop.request({ reason: 'x' })).rejects.toThrow('source exploded');
    await eventually(() => results.length > 0, { message: 'the retried run finished', timeout: 10_000, every: 10 });
    expect(src.reads).toBe(3); // two failures, then success, without anyone asking again
    expect(results).toHaveLength(1);
    expect(loop.lastError).toBeUndefined();
    await loop.stop();
  });

  it('stop waits for the run in flight and refuses new requests', async () => {
    const src = new CountingSource();
    src.hold();
    const loop = new ReconcileLoop(() => ({ sources: [src], registry }));
    const p = loop.request({});
    await src.entered; // the run is in flight
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await expect(loop.request({})).rejects.toThrow(/stopped/);
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // still waiting for the run in flight
    src.release();
    await stopping;
    await expect(p).resolves.toBeTruthy();
    expect(src.reads).toBe(1);
  });
});
