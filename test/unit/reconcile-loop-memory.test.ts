/**
 * What the reconcile loop keeps between runs (issue 22): after a storm of deleted files the
 * last plan's changes (every deleted schedule's spec) stayed in memory until the next run.
 * The applied result still names every id, so the status summary is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { specHash } from '../../src/model/spec-hash.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { ReconcileLoop } from '../../reconcilers/reconcile-loop.js';
import { summarizeReconcile } from '../../src/status/reconcile-summary.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';
import { makeSpec } from '../helpers/schedules.js';

class ListSource implements Source {
  readonly name = 'files';
  ids: string[] = [];
  async snapshot(): Promise<SourceSnapshot> {
    return {
      source: this.name,
      schedules: this.ids.map((id) => {
        const spec = makeSpec({ id, every: 60 });
        return { spec, hash: specHash(spec), origin: `${id}.yaml` };
      }),
      errors: [],
      stale: false,
      heldOrigins: [],
      heldIds: [],
    };
  }
  async close(): Promise<void> {}
}

describe('reconcile loop memory', () => {
  it('keeps no plan changes once applied; the summary still counts them', async () => {
    const src = new ListSource();
    const registry = new MemoryRegistry();
    const loop = new ReconcileLoop(() => ({ sources: [src], registry }));
    src.ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
    const created = await loop.request({});
    expect(created.plan.changes).toHaveLength(50); // the caller's result is whole
    expect(loop.lastResult!.plan.changes).toHaveLength(0);
    expect(summarizeReconcile(loop.lastResult!, 0)).toMatchObject({ created: 50, deleted: 0 });
    src.ids = [];
    await loop.request({});
    expect(loop.lastResult!.plan.changes).toHaveLength(0);
    expect(loop.lastResult!.applied!.deleted).toHaveLength(50);
    expect(summarizeReconcile(loop.lastResult!, 0)).toMatchObject({ created: 0, deleted: 50 });
    await loop.stop();
  });
});
