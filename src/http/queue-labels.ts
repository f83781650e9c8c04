/**
 * The `queue` label of `pyrq_occurrences_total` comes from user data (any schedule may
 * name any queue), so its values are bounded: at most `MAX_QUEUE_LABELS` queues keep
 * their own series, the ones with the most schedules in the registry (ties by name);
 * fires on any other queue count under `queue="other"`. Before the first count of the
 * registry, the first queues fired on take the places. A queue that no schedule names any
 * more (its schedules deleted), or that dropped out of the top, loses its series at the
 * next recount, so deleted queues do not stay in every scrape for the daemon's life.
 *
 * Pure: no I/O.
 */

/** Queues with a series of their own; the rest are `other`. */
export const MAX_QUEUE_LABELS = 20;
export const OTHER_QUEUE = 'other';

export class QueueLabels {
  /** The queues that keep a series (from the last count), or the provisional ones before it. */
  private allowed = new Set<string>();
  private counted = false;

  constructor(private readonly max = MAX_QUEUE_LABELS) {}

  /** The label value a fire on `queue` is counted under. */
  label(queue: string): string {
    if (this.allowed.has(queue)) return queue;
    if (!this.counted && this.allowed.size < this.max) {
      this.allowed.add(queue);
      return queue;
    }
    return OTHER_QUEUE;
  }

  /**
   * A new count of schedules per queue: the top `max` keep their series. Returns the
   * queues whose series must go (deleted, or no longer in the top).
   */
  update(schedulesPerQueue: ReadonlyMap<string, number>): string[] {
    const top = [...schedulesPerQueue.entries()]
      .filter(([q, n]) => n > 0 && q !== OTHER_QUEUE)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, this.max)
      .map(([q]) => q);
    const next = new Set(top);
    const dropped = [...this.allowed].filter((q) => !next.has(q));
    this.allowed = next;
    this.counted = true;
    return dropped;
  }
}
