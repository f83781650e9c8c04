/**
 * When the dispatcher may run a full garbage collection (src/gc.ts): only in a gap before
 * the next fire of at least twice the pause it expects, plus a margin (the prepare before
 * the fire). A fixed 2 s gap never came with a per-second schedule, so after a 20,000-file
 * storm the daemon kept ~150 MB of freed heap for good (issue 22). Pure: the caller gives
 * the times.
 */

/** The prepare before a fire, kept free of a collection. */
export const GC_MARGIN_MS = 200;
/** A full collection's expected pause until one was measured (100,000 schedules, busy machine). */
export const GC_FIRST_ESTIMATE_MS = 300;
/** The least pause a full collection is expected to take. */
export const GC_MIN_ESTIMATE_MS = 100;

export class GcPacer {
  /** The last full collection's pause (ms), or less after skips: what the next one is expected to take. */
  estimateMs = GC_FIRST_ESTIMATE_MS;
  private skippedAt = -Infinity;

  /**
   * Whether to collect now: `due` (one is wanted), `gapMs` until the next fire (null: none
   * due), `nowMs` a monotonic time. One slow collection (450 ms on a loaded machine) would
   * otherwise ask for a gap no per-second schedule ever leaves, and the freed heap of a
   * storm stayed for good (3 runs of 3, +100-125 MB): each second that has to skip a
   * wanted collection expects 10% less of it.
   */
  shouldCollect(due: boolean, gapMs: number | null, nowMs: number): boolean {
    if (!due) return false;
    if (gapMs === null || gapMs > 2 * this.estimateMs + GC_MARGIN_MS) return true;
    if (nowMs - this.skippedAt >= 1000) {
      this.skippedAt = nowMs;
      this.estimateMs = Math.max(GC_MIN_ESTIMATE_MS, this.estimateMs * 0.9);
    }
    return false;
  }

  /** A collection took `ms`. */
  measured(ms: number): void {
    this.estimateMs = Math.max(GC_MIN_ESTIMATE_MS, ms);
  }
}
