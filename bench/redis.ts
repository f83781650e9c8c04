/**
 * The bench's own private redis-server on a free loopback port (scripts/private-redis.ts,
 * as the demo and the tests use): no persistence, so nothing is written to disk and the
 * machine's Redis is never touched.
 */
import { Redis } from 'ioredis';
import { freePort, launchRedisServer, stopRedisServer } from '../scripts/private-redis.js';

export interface BenchRedis {
  url: string;
  pid: number;
  client(): Redis;
  /** Total calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
  commandCalls(c: Redis): Promise<Map<string, number>>;
  close(): Promise<void>;
}

const REDIS_SERVER = process.env.PYRQ_BENCH_REDIS_SERVER ?? 'redis-server';

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const { proc } = await launchRedisServer(REDIS_SERVER, port);
  const clients: Redis[] = [];
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid!,
    client() {
      const c = new Redis({ port, host: '127.0.0.1' });
      clients.push(c);
      return c;
    },
    async commandCalls(c) {
      const text = await c.info('commandstats');
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
      return out;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await stopRedisServer(proc, true);
    },
  };
}
