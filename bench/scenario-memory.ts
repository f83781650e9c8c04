/**
 * Redis memory on paper's behalf: what the registry costs per schedule, and what the run
 * history and RQ's job hashes cost per fire, on the bench's private redis-server (INFO
 * memory for totals, MEMORY USAGE on samples for each structure).
 *
 * Schedules: `pyrq apply` of the scale scenario's files into an empty server; used_memory
 * before and after. Fires: `pyrq tick --at` two days ahead with `--force` (every schedule is due: each
 * fires once by its catch-up policy), then a sample of run lists and job hashes.
 */
import type { Redis } from 'ioredis';
import { runCli } from './proc.js';
import type { BenchRedis } from './redis.js';
import { type Figure, figure } from './report.js';

export interface MemoryScenario {
  redis: BenchRedis;
  admin: Redis;
  dir: string;
  count: number;
  log: (msg: string) => void;
}

async function usedMemory(c: Redis): Promise<number> {
  const info = await c.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** Mean MEMORY USAGE (bytes, SAMPLES 0: exact) of up to `n` keys matching `pattern`, and their total LLEN when lists. */
async function sample(c: Redis, pattern: string, n: number): Promise<{ keys: number; bytes: number; items: number }> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0' && keys.length < n);
  const chosen = keys.slice(0, n);
  const p = c.pipeline();
  for (const k of chosen) p.memory('USAGE', k, 'SAMPLES', 0);
  const sizes = ((await p.exec()) ?? []).map(([, v]) => Number(v));
  const q = c.pipeline();
  for (const k of chosen) q.llen(k);
  const lens = pattern.includes('runs') ? ((await q.exec()) ?? []).map(([, v]) => Number(v)) : [];
  return { keys: chosen.length, bytes: sizes.reduce((a, b) => a + b, 0), items: lens.reduce((a, b) => a + b, 0) };
}

export async function memoryScenario(s: MemoryScenario): Promise<Figure[]> {
  const { admin } = s;
  await admin.flushall();
  const before = await usedMemory(admin);
  const applied = await runCli(['apply', '--dir', s.dir, '--redis-url', s.redis.url]);
  if (applied.code !== 0) throw new Error(`memory: apply failed: ${applied.stderr.slice(-1000)}`);
  const afterApply = await usedMemory(admin);
  const perSchedule = (afterApply - before) / s.count;
  const [index, next] = await Promise.all([
    admin.memory('USAGE', 'pyrq:index', 'SAMPLES', 0),
    admin.memory('USAGE', 'pyrq:next', 'SAMPLES', 0),
  ]);
  const hashes = await sample(admin, 'pyrq:schedule:*', 1000);
  s.log(
    `memory: ${s.count} schedules use ${((afterApply - before) / 1e6).toFixed(1)} MB (${perSchedule.toFixed(0)} B each: schedule hash ~${(hashes.bytes / hashes.keys).toFixed(0)} B, index ${(Number(index) / s.count).toFixed(0)} B, next ${(Number(next) / s.count).toFixed(0)} B)`,
  );
  const at = new Date(Date.now() + 2 * 86_400_000).toISOString();
  const ticked = await runCli(['tick', '--at', at, '--force', '--redis-url', s.redis.url, '--json']);
  if (ticked.code !== 0) throw new Error(`memory: tick failed: ${ticked.stderr.slice(-1000)}`);
  const afterTick = await usedMemory(admin);
  const runs = await sample(admin, 'pyrq:runs:*', 1000);
  const jobs = await sample(admin, 'rq:job:*', 1000);
  const enqueued = Number((JSON.parse(ticked.stdout) as { enqueued: number }).enqueued);
  s.log(
    `memory: one tick fired ${enqueued} jobs: +${((afterTick - afterApply) / 1e6).toFixed(1)} MB; run list ~${(runs.bytes / runs.keys).toFixed(0)} B for ${(runs.items / runs.keys).toFixed(2)} records; job hash ~${(jobs.bytes / jobs.keys).toFixed(0)} B`,
  );
  const sc = `Redis memory, ${s.count.toLocaleString('en-US')} schedules`;
  return [
    figure(sc, 'per schedule (used_memory after apply − before) / schedules', 'B', [Math.round(perSchedule)]),
    figure(sc, 'schedule hash (MEMORY USAGE, mean of a sample)', 'B', [Math.round(hashes.bytes / hashes.keys)]),
    figure(sc, 'pyrq:index + pyrq:next, per schedule', 'B', [Math.round((Number(index) + Number(next)) / s.count)]),
    figure(
      sc,
      'run history list of a schedule after one fire (MEMORY USAGE)',
      'B',
      [Math.round(runs.bytes / runs.keys)],
      undefined,
      `${(runs.items / runs.keys).toFixed(2)} records per list`,
    ),
    figure(sc, 'RQ job hash (until RQ deletes it: result_ttl)', 'B', [Math.round(jobs.bytes / jobs.keys)]),
    figure(
      sc,
      'one fire of every schedule (used_memory delta) / jobs',
      'B',
      [Math.round((afterTick - afterApply) / Math.max(enqueued, 1))],
      undefined,
      `${enqueued} jobs`,
    ),
  ];
}
