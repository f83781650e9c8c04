/**
 * A manual run (`pyrq trigger ID`): one job now, outside the schedule. It goes through
 * the same fire script as scheduled occurrences, without the compare-and-set on the
 * next fire time (the schedule keeps its own rhythm) and without the overlap check (an
 * explicit request, like `kubectl create job --from=cronjob/x`). It is recorded in the
 * history with trigger `manual` and becomes the schedule's last job, so an overlap
 * `forbid` schedule waits for it. Disabled and finished schedules can be triggered.
 */
import { scheduleNotFound } from '../registry/not-found.js';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import { PyrqError } from '../errors.js';
import type { Keys } from '../redis/keys.js';
import { jobMeta } from '../rq/job-encoding.js';
import { manualJobId } from '../rq/job-id.js';
import { Registry } from '../registry/registry.js';
import { fireItems } from './fire.js';
import { ScheduleCache } from './schedule-cache.js';

export interface ManualRunResult {
  id: string;
  jobId: string;
  queue: string;
  function: string;
  enqueuedAt: string;
}

export interface ManualRunDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  config: Pick<Config, 'dispatch' | 'frappe'>;
}

/** Enqueues one manual run of schedule `id`. Throws NOT_FOUND when there is no such schedule. */
export async function manualRun(deps: ManualRunDeps, id: string): Promise<ManualRunResult> {
  const { redis, keys, clock, config } = deps;
  const registry = new Registry(redis, keys.prefix);
  const cache = new ScheduleCache(redis, keys, {
    frappeBenchId: config.frappe.benchId,
    frappeSite: config.frappe.site,
    frappeUser: config.frappe.user,
  });
  // The spec can change between the read and the fire (the script then refuses): read again.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!(await registry.has(id))) throw await scheduleNotFound(registry, [id]);
    const [problem] = await cache.load([id]);
    if (problem) throw new PyrqError('VALIDATION_FAILED', `schedule "${id}" cannot be run: ${problem.message}`);
    const c = cache.get(id)!;
    const now = clock.now();
    const jobId = manualJobId(id, now, randomBytes(4).toString('hex'));
    const [outcome] = await fireItems(
      redis,
      keys,
      [
        {
          id,
          expected: null,
          hash: c.hash,
          next: 'keep',
          overlap: 'allow',
          prevJobId: '',
          job: c.enc,
          ops: [
            {
              kind: 'enqueue',
              occurrence: now,
              jobId,
              meta: jobMeta(c.enc, now, 'manual'),
              data: c.enc.dataFor?.(jobId),
            },
          ],
        },
      ],
      { historyLength: config.dispatch.historyLength, batchSize: 1, at: now, trigger: 'manual' },
    );
    if (outcome === 'stale-spec') {
      cache.invalidate(id);
      continue;
    }
    return { id, jobId, queue: c.enc.queueName, function: c.spec.function, enqueuedAt: new Date(now).toISOString() };
  }
  throw new PyrqError('STALE_PLAN', `schedule "${id}" kept changing while it was triggered; try again`);
}
