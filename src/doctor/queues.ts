/**
 * The RQ queue a schedule's jobs go to, as the dispatcher names it (`encodeSchedule`):
 * a Frappe schedule's queue carries the bench id (`<benchId>:<queue>`) when one is
 * configured. Pure.
 */
import type { Schedule } from '../model/schedule-schema.js';
import { frappeQueueName } from '../rq/frappe-target.js';

export function jobQueue(spec: Pick<Schedule, 'queue' | 'target'>, benchId: string | undefined): string {
  return spec.target === 'frappe' ? frappeQueueName(spec.queue, benchId) : spec.queue;
}

/** The queues enabled schedules use, each with how many schedules use it (sorted by name). */
export function usedQueues(
  specs: Iterable<Pick<Schedule, 'queue' | 'target' | 'enabled'>>,
  benchId: string | undefined,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of specs) {
    if (!s.enabled) continue;
    const q = jobQueue(s, benchId);
    counts.set(q, (counts.get(q) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
}
