/**
 * Time-sliced work on the event loop. The daemon's fires are timers on the same thread
 * as its reconciles; a loop over 100,000 files or schedules that never yields holds
 * every due fire until it ends (issue 22: a per-second schedule fired up to 0.9 s late
 * during a 100,000-file storm). A slicer lets such a loop run for a bounded time, then
 * yield to the event loop (setImmediate: timers and I/O run first), then go on. Slicing
 * by time rather than by count keeps the pauses short on a loaded machine too, where
 * each item costs more, and adds no yields on an idle one, where a slice does more.
 */

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
