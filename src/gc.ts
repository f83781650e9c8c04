/**
 * Full garbage collections on request, for the daemon's idle time after bulk work.
 *
 * V8 collects when allocation reaches a limit that grows with the heap; an idle process
 * never reaches it. After a deep re-sync or a warm-up of 100,000 schedules the daemon's
 * heap held ~360 MB of which ~130 MB was live, and its RSS stayed at 500-700 MB until
 * the next burst of work. A full collection returns the rest to the OS within seconds.
 * Node exposes `gc` only with --expose-gc, which `pyrq daemon` cannot pass to itself;
 * the flag set at run time applies to new contexts, so one is made for it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;
/** The heap in use after the last collection made here. */
let liveAfterGc = 0;

/** Runs full collections (a pause of ~100-200 ms with 100,000 schedules); false when unavailable. */
export function fullGc(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      gc = typeof fn === 'function' ? (fn as () => void) : null;
    } catch {
      gc = null;
    }
  }
  if (!gc) return false;
  // Twice, as V8's own low-memory notification does: the first collection frees the
  // objects, the second lets V8 shrink and release the pages they were on.
  gc();
  gc();
  liveAfterGc = getHeapStatistics().used_heap_size;
  return true;
}

/** True when the heap grew by more than `bytes` since the last collection made here. */
export function heapGrownBy(bytes: number): boolean {
  return getHeapStatistics().used_heap_size - liveAfterGc > bytes;
}

/** While set (bytes), `collectIfGrown` collects once the heap grew by that much; 0: never. */
let growthBudget = 0;
/** Collections made by `collectIfGrown` (the daemon logs them with its first reconcile). */
export const growthCollections = { count: 0 };

/**
 * Runs `fn` with collections bounding the garbage it leaves: `collectIfGrown`, called
 * between its steps, runs a full collection whenever the heap grew by `budgetBytes` since
 * the last. For the daemon's first reconcile of a large registry (nothing fires until it
 * ends, so a pause holds no fire): V8 let the garbage of reading 100,000 schedules and
 * the deep comparison pile up in the old generation to ~150 MB beyond the ~94 MB live,
 * and that was the daemon's start-up peak (docs/performance.md).
 */
export async function collectingAsItGrows<T>(budgetBytes: number, fn: () => Promise<T>): Promise<T> {
  const before = growthBudget;
  growthBudget = budgetBytes;
  liveAfterGc = getHeapStatistics().used_heap_size;
  try {
    return await fn();
  } finally {
    growthBudget = before;
  }
}

/** A full collection if inside `collectingAsItGrows` and the heap grew by its budget; cheap otherwise. */
export function collectIfGrown(): void {
  if (growthBudget > 0 && heapGrownBy(growthBudget) && fullGc()) growthCollections.count++;
}
