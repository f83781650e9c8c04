/**
 * Runs `task(i)` for every index in `[0, count)`, at most `limit` at a time, starting the
 * next as soon as one ends (not chunk by chunk: a chunk waits for its slowest member, and
 * with a parse pool the thread that finished its share of a chunk first stood idle until
 * the other finished its own). Resolves when all have ended; rejects with the first
 * failure (the others still run to their end, none is started after it).
 */
export async function runInFlight(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const runner = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const runners = Array.from({ length: Math.min(limit, count) }, runner);
  const settled = await Promise.allSettled(runners);
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
