import { describe, expect, it } from 'vitest';
import { WakeableSleep } from '../../reconcilers/wakeable-sleep.js';

describe('WakeableSleep', () => {
  it('a wake-up during a sleep ends it early', async () => {
    const s = new WakeableSleep();
    const sleeping = s.sleep(3_600_000);
    s.wake();
    expect(await sleeping).toBe(true);
  });

  it('a wake-up while nobody sleeps is kept for the next sleep, once', async () => {
    const s = new WakeableSleep();
    s.wake();
    expect(await s.sleep(3_600_000)).toBe(true);
    expect(await s.sleep(0)).toBe(false);
  });

  it('a sleep without a wake-up runs out', async () => {
    expect(await new WakeableSleep().sleep(1)).toBe(false);
  });
});
