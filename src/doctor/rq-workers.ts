/**
 * Which queues live RQ workers listen on, from RQ's worker registry (rq/worker_registration.py,
 * RQ 1.x and 2.x): `rq:workers` holds every worker's key, `rq:workers:<queue>` the keys of
 * the workers of one queue, and each worker's HASH `rq:worker:<name>` has `queues`
 * (comma-separated) and expires when its heartbeats stop. A key in the sets whose hash is
 * gone is a worker that died without unregistering: not counted.
 */
import type { Redis } from 'ioredis';
import { RqKeys } from '../redis/keys.js';

/** Live worker keys by queue name, for every queue some live worker listens on. */
export async function workersByQueue(redis: Redis, queues: readonly string[]): Promise<Map<string, string[]>> {
  const all = await redis.smembers(RqKeys.workers);
  const perQueue = await Promise.all(queues.map((q) => redis.smembers(RqKeys.workersOf(q))));
  const keys = [...new Set([...all, ...perQueue.flat()])];
  const p = redis.pipeline();
  for (const k of keys) p.hget(k, 'queues');
  const replies = keys.length > 0 ? ((await p.exec()) ?? []) : [];
  const out = new Map<string, string[]>();
  const add = (q: string, k: string) => {
    const list = out.get(q) ?? [];
    if (!list.includes(k)) list.push(k);
    out.set(q, list);
  };
  keys.forEach((k, i) => {
    const [err, value] = replies[i] ?? [];
    if (err || typeof value !== 'string') return; // gone: the worker died without unregistering
    for (const q of value.split(',')) if (q) add(q, k);
  });
  return out;
}
