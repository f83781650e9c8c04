/**
 * What the fault tests (daemon-faults, chaos) need to prove about a fault: that it
 * landed where they say (a kill in the middle of an apply), and that firing resumed
 * afterwards (jobs for occurrences after the recovery), not only that nothing queued
 * before it was doubled.
 */
import type { Redis } from 'ioredis';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { specHash } from '../../src/model/spec-hash.js';
import { parseJobId } from '../../src/rq/job-id.js';
import { applyGate } from './apply-gate.js';
import { type DaemonProcess, eventually } from './daemon.js';
import type { PrivateRedis } from './redis-server.js';

const INDEX = 'pyrq:index';

/**
 * Occurrences (epoch ms, oldest first) of one schedule's scheduled jobs in an RQ queue,
 * read back from the job ids (which carry the occurrence). Every job in the queue
 * counts, so a duplicate enqueue shows as the same occurrence twice.
 */
export async function queuedOccurrences(redis: Redis, queue: string, scheduleId: string): Promise<number[]> {
  const out: number[] = [];
  for (const jobId of await redis.lrange(`rq:queue:${queue}`, 0, -1)) {
    const p = parseJobId(jobId);
    if (p?.kind === 'scheduled' && p.scheduleId === scheduleId) out.push(p.time);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Waits until `count` occurrences of the schedule at or after `since` are in the queue:
 * firing resumed after the fault. Returns those occurrences.
 */
export async function firedSince(
  redis: Redis,
  queue: string,
  scheduleId: string,
  since: number,
  count: number,
  timeoutMs = 15_000,
): Promise<number[]> {
  return eventually(
    async () => {
      const after = (await queuedOccurrences(redis, queue, scheduleId)).filter((t) => t >= since);
      return after.length >= count ? after : null;
    },
    `${count} jobs of "${scheduleId}" for occurrences after ${new Date(since).toISOString()} (firing resumed after the fault)`,
    timeoutMs,
    50,
  );
}

/** id -> spec hash of raw schedules as a file source with default settings normalises them. */
export function desiredHashes(raw: readonly Record<string, unknown>[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of raw) {
    const n = normalizeSchedule(r, DEFAULT_CONTEXT);
    if (!n.ok) throw new Error(`fixture invalid: ${JSON.stringify(n.issues)}`);
    out.set(n.schedule.id, specHash(n.schedule));
  }
  return out;
}

/** How many entries of the index carry the spec hash `desired` wants for their id. */
export async function appliedCount(
  redis: Redis,
  desired: ReadonlyMap<string, string>,
  indexKey = INDEX,
): Promise<number> {
  const index = await redis.hgetall(indexKey);
  let n = 0;
  for (const [id, hash] of desired) if (index[id]?.startsWith(`${hash}\t`)) n++;
  return n;
}

/**
 * Starts a daemon (`start`) and kills it with SIGKILL the moment its first write to the
 * index lands (a keyspace event, so the kill follows within a millisecond or so, not a
 * polling interval later), then waits until Redis dropped the dead process's connections
 * (every command it had sent was executed by then). Returns the daemon and how many
 * entries carry the desired hash: the caller asserts that the kill landed mid-apply
 * (`0 < applied < desired.size`).
 */
export async function killDuringApply(
  server: PrivateRedis,
  admin: Redis,
  start: () => Promise<DaemonProcess>,
  desired: ReadonlyMap<string, string>,
): Promise<{ daemon: DaemonProcess; applied: number }> {
  const sub = server.client();
  let d: DaemonProcess | undefined;
  let written = false;
  try {
    await admin.config('SET', 'notify-keyspace-events', 'Kh');
    sub.on('message', () => {
      written = true;
      d?.proc.kill('SIGKILL');
    });
    // Subscribe only once connected, and check with Redis that the subscription holds
    // (a SUBSCRIBE queued while ioredis was still connecting was seen to resolve without
    // taking effect).
    if (sub.status !== 'ready') await new Promise((resolve) => sub.once('ready', resolve));
    await sub.subscribe(`__keyspace@0__:${INDEX}`);
    await eventually(
      async () => ((await admin.pubsub('NUMSUB', `__keyspace@0__:${INDEX}`)) as [string, number])[1] === 1,
      'the subscription to index events',
      5_000,
      10,
    );
    d = await start();
    if (written) d.proc.kill('SIGKILL');
    const dead = d.exited;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(
              `the daemon wrote nothing to the index within 30 s; last logs: ${JSON.stringify(d!.logs.filter((l) => l.msg !== 'fired' && l.msg !== 'job enqueued').slice(-8))}`,
            ),
          ),
        30_000,
      ).unref(),
    );
    await Promise.race([dead, timeout]);
  } finally {
    sub.disconnect();
    await admin.config('SET', 'notify-keyspace-events', '');
  }
  if (d.proc.signalCode !== 'SIGKILL')
    throw new Error(`the daemon exited by itself (${d.proc.exitCode}) before it was killed`);
  if (!d.logs.some((l) => l.msg === 'became leader')) throw new Error('the killed daemon never logged "became leader"');
  await eventually(
    async () => !/name=pyrq-daemon\b/.test(String(await admin.client('LIST'))),
    "Redis closed the killed daemon's connections",
    10_000,
    10,
  );
  return { daemon: d, applied: await appliedCount(admin, desired) };
}

/**
 * Starts a daemon whose Redis connections pass through an apply gate (apply-gate.ts:
 * `start` gets the URL to use), and kills it with SIGKILL once its first apply batch has
 * run in Redis; the later batches never reach Redis. Returns the daemon and how many
 * entries carry the desired hash: mid-apply by construction when the apply needs more
 * than one batch (0 < applied < desired.size).
 */
export async function killMidApply(
  server: PrivateRedis,
  admin: Redis,
  start: (redisUrl: string) => Promise<DaemonProcess>,
  desired: ReadonlyMap<string, string>,
): Promise<{ daemon: DaemonProcess; applied: number }> {
  const gate = await applyGate(server.port);
  let d: DaemonProcess | undefined;
  try {
    d = await start(gate.url);
    const daemon = d;
    await Promise.race([
      gate.gated,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no apply batch within 60 s; last logs: ${JSON.stringify(daemon.logs.slice(-8))}`)),
          60_000,
        ).unref(),
      ),
    ]);
    // The batch is one script: once any of its entries is in the index, all are.
    await eventually(async () => (await appliedCount(admin, desired)) > 0, 'the first apply batch ran', 30_000, 10);
    d.proc.kill('SIGKILL');
    await d.exited;
  } finally {
    if (d && d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
    await gate.close();
  }
  if (!d.logs.some((l) => l.msg === 'became leader')) throw new Error('the killed daemon never logged "became leader"');
  await eventually(
    async () => !/name=pyrq-daemon\b/.test(String(await admin.client('LIST'))),
    "Redis closed the killed daemon's connections",
    10_000,
    10,
  );
  return { daemon: d, applied: await appliedCount(admin, desired) };
}
