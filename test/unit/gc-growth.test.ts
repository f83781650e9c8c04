import { describe, expect, it } from 'vitest';
import { collectIfGrown, collectingAsItGrows, growthCollections } from '../../src/gc.js';

const grow = (): unknown[] => Array.from({ length: 50_000 }, (_, i) => ({ i, s: `item ${i}` }));

describe('collectingAsItGrows', () => {
  it('collects only inside, once the heap grew by the budget', async () => {
    const kept: unknown[] = [];
    const before = growthCollections.count;
    kept.push(grow());
    collectIfGrown(); // outside: never
    expect(growthCollections.count).toBe(before);
    await collectingAsItGrows(2 ** 20, async () => {
      collectIfGrown(); // not 1 MB more since the start
      expect(growthCollections.count).toBe(before);
      kept.push(grow());
      collectIfGrown();
      expect(growthCollections.count).toBe(before + 1);
    });
    kept.push(grow());
    collectIfGrown(); // outside again
    expect(growthCollections.count).toBe(before + 1);
    expect(kept).toHaveLength(3);
  });

  it('ends its budget when the work throws', async () => {
    await expect(collectingAsItGrows(2 ** 20, () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    const before = growthCollections.count;
    const kept = grow();
    collectIfGrown();
    expect(growthCollections.count).toBe(before);
    expect(kept).toHaveLength(50_000);
  });
});
