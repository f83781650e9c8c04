/**
 * Time-sliced work on the event loop. The daemon's fires are timers on the same thread
 * as its reconciles; a loop over 100,000 files or schedules that never yields holds
 * every due fire until it ends (issue 22: a per-second schedule fired up to 0.9 s late
 * during a 100,000-file storm). A slicer lets such a loop run for a bounded time, then
 * yield to the event loop (setImmediate: timers and I/O run first), then go on. Slicing
 * by time rather than by count keeps the pauses short on a loaded machine too, where
 * each item costs more, and adds no yields on an idle one, where a slice does more.
 */

import { collectIfGrown } from './gc.js';
/** Milliseconds a slice may run before it yields. */
export const SLICE_BUDGET_MS = 10;

export interface SlicerOptions {
  budgetMs?: number;
  /** Monotonic milliseconds (a test's clock). */
  now?: () => number;
  /** How to yield (a test's hook); default: one turn of the event loop. */
  yieldFn?: () => Promise<void>;
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Slicer {
  /**
   * Yields when the current slice has run for its budget, else resolves at once. Call
   * it between items: `await slicer.tick()`. The clock is read every call (cheap: one
   * performance.now()).
   */
  tick(): Promise<void> | undefined;
  /** How many times it yielded (for tests and logs). */
  readonly yields: number;
}

export function slicer(opts: SlicerOptions = {}): Slicer {
  const budget = opts.budgetMs ?? SLICE_BUDGET_MS;
  const now = opts.now ?? (() => performance.now());
  const yieldFn = opts.yieldFn ?? yieldToEventLoop;
  let sliceStart = now();
  let yields = 0;
  const after = () => {
    sliceStart = now();
  };
  return {
    tick() {
      if (now() - sliceStart < budget) return undefined;
      yields++;
      collectIfGrown(); // the daemon's first reconcile only (gc.ts)
      return yieldFn().then(after);
    },
    get yields() {
      return yields;
    },
  };
}

/** `fn` over every item, yielding whenever a slice has run for its budget. */
export async function forEachSliced<T>(
  items: Iterable<T>,
  fn: (item: T, index: number) => void,
  opts: SlicerOptions = {},
): Promise<void> {
  const s = slicer(opts);
  let i = 0;
  for (const item of items) {
    fn(item, i++);
    const y = s.tick();
    if (y) await y;
  }
}

/** Items sorted at once before the merges (a few ms at most). */
const SORT_RUN = 1024;

/**
 * Sorts strings (by UTF-16 code units, as `Array.prototype.sort()` does) in time slices:
 * runs of a thousand sorted at once, then merged pairwise, yielding between slices. The
 * sort of a 100,000-file listing held the event loop for 100+ ms on a busy machine.
 */
export async function sortStringsSliced(items: string[], opts: SlicerOptions = {}): Promise<string[]> {
  const s = slicer(opts);
  let runs: string[][] = [];
  for (let i = 0; i < items.length; i += SORT_RUN) {
    runs.push(items.slice(i, i + SORT_RUN).sort());
    await s.tick();
  }
  while (runs.length > 1) {
    const next: string[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1];
      if (!b) {
        next.push(a);
        continue;
      }
      const out: string[] = new Array(a.length + b.length);
      let i = 0;
      let j = 0;
      for (let k = 0; k < out.length; k++) {
        out[k] = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
        if ((k & 255) === 255) await s.tick();
      }
      next.push(out);
    }
    runs = next;
  }
  return runs[0] ?? [];
}
