import { describe, expect, it } from 'vitest';
import { GC_MARGIN_MS, GcPacer } from '../../src/dispatch/gc-pacer.js';

// A per-second schedule leaves gaps of just under a second after each fire.
const GAP_MS = 950;

describe('GcPacer: full collections in the gaps between fires', () => {
  it('collects nothing unless one is due, and at once when no fire is due at all', () => {
    const p = new GcPacer();
    expect(p.shouldCollect(false, null, 0)).toBe(false);
    expect(p.shouldCollect(true, null, 0)).toBe(true);
  });

  it('never in a gap shorter than twice the expected pause plus the margin', () => {
    const p = new GcPacer();
    p.measured(300);
    expect(p.shouldCollect(true, 2 * 300 + GC_MARGIN_MS - 1, 0)).toBe(false);
    expect(p.shouldCollect(true, 2 * p.estimateMs + GC_MARGIN_MS + 1, 0)).toBe(true);
  });

  it('after one slow collection, a wanted one still finds a gap of a per-second schedule within seconds', () => {
    const p = new GcPacer();
    p.measured(450); // asks for 1,100 ms: more than any gap a per-second schedule leaves
    let at: number | undefined;
    for (let s = 0; s < 60 && at === undefined; s++) if (p.shouldCollect(true, GAP_MS, s * 1000)) at = s;
    expect(at).toBeDefined();
    expect(at).toBeLessThanOrEqual(5);
  });

  it('expects less only once a second, however often the dispatcher passes by', () => {
    const p = new GcPacer();
    p.measured(450);
    for (let ms = 0; ms < 1000; ms += 10) p.shouldCollect(true, GAP_MS, ms);
    expect(p.estimateMs).toBeCloseTo(405);
  });
});
