import { describe, expect, it } from 'vitest';
import { runInFlight } from '../../src/in-flight.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runInFlight', () => {
  it('runs every index once, never more than the limit at a time', async () => {
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    await runInFlight(25, 4, async (i) => {
      running++;
      most = Math.max(most, running);
      await tick(i % 3);
      seen.push(i);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(most).toBe(4);
  });

  it('starts the next task as soon as one ends, not when its whole chunk has', async () => {
    // Task 0 is slow; with chunks of 2, task 2 would wait for it. Here 1, 2, 3 all run
    // (one after another on the second slot) while 0 still runs.
    const order: string[] = [];
    await runInFlight(4, 2, async (i) => {
      order.push(`start ${i}`);
      await tick(i === 0 ? 60 : 5);
      order.push(`end ${i}`);
    });
    expect(order.indexOf('end 3')).toBeLessThan(order.indexOf('end 0'));
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    const run = runInFlight(10, 2, async (i) => {
      started.push(i);
      await tick(1);
      if (i === 1) throw new Error('task 1 failed');
    });
    await expect(run).rejects.toThrow('task 1 failed');
    expect(Math.max(...started)).toBeLessThan(4);
  });

  it('does nothing for no indexes', async () => {
    let calls = 0;
    await runInFlight(0, 8, async () => void calls++);
    expect(calls).toBe(0);
  });
});
