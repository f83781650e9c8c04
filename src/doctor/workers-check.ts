/**
 * At least one live RQ worker on every queue that enabled schedules send jobs to
 * (the registry's entries and the sources' desired schedules, so a schedule not yet
 * applied counts too): a job on a queue nobody listens on waits forever.
 */
import { redactUrl } from '../errors.js';
import type { Schedule } from '../model/schedule-schema.js';
import type { CheckResult, DoctorCheck, DoctorContext } from './check.js';
import { usedQueues } from './queues.js';
import { workersByQueue } from './rq-workers.js';

/** Every enabled-or-not spec known to this run, by id: the registry's, then the sources' (which win). */
export function knownSpecs(ctx: Pick<DoctorContext, 'entries' | 'sources'>): Map<string, Schedule> {
  const specs = new Map<string, Schedule>();
  for (const e of ctx.entries) if (e.spec) specs.set(e.id, e.spec);
  for (const s of ctx.sources) for (const d of s.snapshot?.schedules ?? []) specs.set(d.spec.id, d.spec);
  return specs;
}

/** One finding per used queue. Pure. */
export function workerResults(
  used: ReadonlyMap<string, number>,
  workers: ReadonlyMap<string, string[]>,
  url: string,
  frappeQueues: ReadonlySet<string> = new Set(),
): CheckResult[] {
  if (used.size === 0)
    return [{ check: 'workers', status: 'ok', message: 'no enabled schedule: no queue needs a worker yet' }];
  return [...used].map(([queue, n]): CheckResult => {
    const live = workers.get(queue) ?? [];
    if (live.length > 0)
      return {
        check: 'workers',
        status: 'ok',
        message: `queue "${queue}" (${n} schedule(s)): ${live.length} live RQ worker(s) listen`,
      };
    return {
      check: 'workers',
      status: 'warn',
      message: `no live RQ worker listens on queue "${queue}" (${n} enabled schedule(s) send jobs there): its jobs wait in rq:queue:${queue}`,
      fix: frappeQueues.has(queue)
        ? `start Frappe's workers for it: bench worker --queue ${queue.replace(/^.*:/, '')} (in the bench)`
        : `start one: rq worker --url ${url} ${queue}`,
    };
  });
}

export const workersCheck: DoctorCheck = {
  name: 'workers',
  needsRedis: true,
  async run(ctx) {
    const specs = [...knownSpecs(ctx).values()];
    const benchId = ctx.config.frappe.benchId;
    const used = usedQueues(specs, benchId);
    const frappe = new Set(
      usedQueues(
        specs.filter((s) => s.target === 'frappe'),
        benchId,
      ).keys(),
    );
    const workers = await workersByQueue(ctx.redis!, [...used.keys()]);
    return workerResults(used, workers, redactUrl(ctx.config.redis.url), frappe);
  },
};
