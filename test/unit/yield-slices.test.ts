/**
 * The time-sliced loop yields once a slice has used its budget, and only then (the
 * clock is the test's: each item "costs" what the test says).
 */
import { describe, expect, it } from 'vitest';
import { forEachSliced, slicer, sortStringsSliced } from '../../src/yield-slices.js';

describe('slicer', () => {
  it('yields when a slice has run for its budget, and starts a new slice after the yield', async () => {
    let t = 0;
    const yieldsAt: number[] = [];
    const s = slicer({
      budgetMs: 10,
      now: () => t,
      yieldFn: async () => {
        yieldsAt.push(t);
      },
    });
    for (let i = 0; i < 25; i++) {
      t += 1; // each item costs 1 ms
      const y = s.tick();
      if (y) await y;
    }
    expect(yieldsAt).toEqual([10, 20]);
    expect(s.yields).toBe(2);
  });

  it('never yields while the work is quicker than the budget', async () => {
    let t = 0;
    let yielded = 0;
    const s = slicer({ budgetMs: 10, now: () => t, yieldFn: async () => void yielded++ });
    for (let i = 0; i < 1000; i++) {
      t += 0.001;
      expect(s.tick()).toBeUndefined();
    }
    expect(yielded).toBe(0);
  });

  it('lets a due timer run between slices of a long loop', async () => {
    // Real clock and real yields: a loop of ~60 ms of busy work in 5 ms slices; a 0 ms
    // timer set before it starts runs before the loop ends.
    let timerRanAt = -1;
    let index = 0;
    setTimeout(() => (timerRanAt = index), 0);
    await forEachSliced(
      Array.from({ length: 12 }, (_, i) => i),
      (i) => {
        index = i;
        const until = performance.now() + 5;
        while (performance.now() < until); // 5 ms of work
      },
      { budgetMs: 5 },
    );
    expect(timerRanAt).toBeGreaterThanOrEqual(0);
    expect(timerRanAt).toBeLessThan(11);
  });
});

describe('forEachSliced', () => {
  it('calls fn for every item in order with its index', async () => {
    let t = 0;
    const seen: [string, number][] = [];
    await forEachSliced(['a', 'b', 'c'], (x, i) => ((t += 20), seen.push([x, i])), {
      budgetMs: 10,
      now: () => t,
      yieldFn: async () => undefined,
    });
    expect(seen).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
  });
});

describe('sortStringsSliced', () => {
  it('sorts as Array.prototype.sort does, across many runs and merges, yielding on the way', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const names = Array.from({ length: 5000 }, () => `d${rand() % 97}/f${rand() % 100000}.json`);
    names.push('Z', 'a', 'é', 'e', '', 'a');
    let t = 0;
    let yields = 0;
    const sorted = await sortStringsSliced(names.slice(), {
      budgetMs: 10,
      now: () => (t += 1),
      yieldFn: async () => void yields++,
    });
    expect(sorted).toEqual(names.slice().sort());
    expect(yields).toBeGreaterThan(0);
    expect(await sortStringsSliced([])).toEqual([]);
    expect(await sortStringsSliced(['b', 'a'])).toEqual(['a', 'b']);
  });
});
