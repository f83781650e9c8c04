/**
 * What the metrics need of a fire-script round, boiled down: counters per label set, the
 * lateness of each job whose lateness is known, and two flags. Pure. The dispatcher thread
 * (reconcilers/dispatcher-worker.ts) sends this to the main thread, where the metrics
 * live, once per tick instead of its thousands of FireItems (a burst of 10,000 items is a
 * handful of label sets and one array of numbers).
 */
import type { FireItem, FireOutcome } from '../redis/commands/fire-batch.js';

export interface FireSummary {
  /** Refusals by the fire script, by reason label (`not_due`, `stale_spec`, ...). */
  conflicts: Record<string, number>;
  /** Occurrences per (queue, outcome, reason): the raw queue name (the metrics map it to its label). */
  occurrences: [queue: string, outcome: string, reason: string, n: number][];
  /** Seconds late of each job whose lateness is known (every planned job of its item enqueued). */
  lateness: number[];
  /** Some job was enqueued. */
  fired: boolean;
  /** The registry's counts may have changed (a one-shot done, a schedule with `times`). */
  countsChanged: boolean;
}

export function emptyFireSummary(): FireSummary {
  return { conflicts: {}, occurrences: [], lateness: [], fired: false, countsChanged: false };
}

/** One round: the items sent, the script's outcome per item, when each was sent (epoch ms). */
export function summarizeFires(
  items: readonly FireItem[],
  outcomes: readonly FireOutcome[],
  sentAt: readonly number[],
): FireSummary {
  const s = emptyFireSummary();
  // Summed per label set first: a burst is thousands of items, a handful of label sets.
  const counts = new Map<string, [string, string, string, number]>();
  const add = (queue: string, outcome: string, reason: string, n: number) => {
    const k = `${queue}\t${outcome}\t${reason}`;
    const c = counts.get(k);
    if (c) c[3] += n;
    else counts.set(k, [queue, outcome, reason, n]);
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    // A one-shot is done now; a schedule with `times` may be (the fire script decides).
    if (item.next === 'done' || item.job.times !== undefined) s.countsChanged = true;
    const outcome = outcomes[i];
    if (outcome === undefined) continue;
    if (typeof outcome !== 'number') {
      const reason = outcome.replace('-', '_');
      s.conflicts[reason] = (s.conflicts[reason] ?? 0) + 1;
      continue;
    }
    const queue = item.job.queueName;
    let planned = 0;
    for (const op of item.ops) {
      if (op.kind === 'enqueue') planned++;
      else
        add(
          queue,
          'skipped',
          op.outcome?.startsWith('skipped:') ? op.outcome.slice('skipped:'.length) : 'missed',
          op.count ?? 1,
        ); // missed, deadline, paused
    }
    if (outcome > 0) {
      add(queue, 'enqueued', '', outcome);
      s.fired = true;
    }
    // The script skipped (or buffered) the rest: with an overlap policy, because the last job still
    // runs; otherwise because the job already existed (another writer made it).
    if (planned > outcome) add(queue, 'skipped', item.overlap !== 'allow' ? 'overlap' : 'duplicate', planned - outcome);
    // Lateness is known per job only when every planned job was enqueued (as in the log).
    // Counted from the fire time: with jitter the item's expected time is its (first)
    // occurrence plus its delay, and the delay is not lateness.
    if (outcome === planned)
      for (const op of item.ops)
        if (op.kind === 'enqueue')
          s.lateness.push(Math.max(0, sentAt[i]! - Math.max(op.occurrence, item.expected ?? 0)) / 1000);
  }
  s.occurrences = [...counts.values()];
  return s;
}

/** `into` plus `more` (several rounds of one tick, sent as one). */
export function mergeFireSummary(into: FireSummary, more: FireSummary): FireSummary {
  for (const [k, n] of Object.entries(more.conflicts)) into.conflicts[k] = (into.conflicts[k] ?? 0) + n;
  into.occurrences.push(...more.occurrences);
  for (const x of more.lateness) into.lateness.push(x);
  into.fired ||= more.fired;
  into.countsChanged ||= more.countsChanged;
  return into;
}
