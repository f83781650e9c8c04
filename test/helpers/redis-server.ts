import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { freePort, launchRedisServer, stopRedisServer } from '../../scripts/private-redis.js';

/**
 * A private, throwaway redis-server on a free loopback port. Tests never touch the
 * machine's shared Redis: RQ's own keys (`rq:queue:*`, `rq:job:*`) have no prefix, so
 * isolation has to be a separate server. If redis-server cannot start, this throws:
 * a test that needs Redis fails loudly, it never skips.
 */
export interface PrivateRedis {
  port: number;
  url: string;
  client(): Redis;
  /** Stops the server (SIGKILL when `hard`), keeping the port so it can be restarted. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (its data is gone: no persistence). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const REDIS_SERVER = process.env.PYRQ_TEST_REDIS_SERVER ?? 'redis-server';

/**
 * `persistent`: an append-only file fsynced on every write, in a temp directory, so a
 * restart keeps the data (for tests of what survives a Redis restart).
 */
export async function startRedis(opts: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dataDir = opts.persistent ? mkdtempSync(join(tmpdir(), 'pyrq-redis-')) : undefined;
  const persistence = dataDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir]
    : ['--appendonly', 'no'];
  let proc: ChildProcess | undefined;
  const clients: Redis[] = [];
  const launch = async (): Promise<void> => {
    proc = (await launchRedisServer(REDIS_SERVER, port, persistence)).proc;
  };
  await launch();
  const stop = async (hard = false): Promise<void> => {
    if (proc) await stopRedisServer(proc, hard);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client() {
      const c = new Redis({ port, host: '127.0.0.1' });
      c.on('error', () => {}); // restarts are part of some tests; commands still fail loudly
      clients.push(c);
      return c;
    },
    stop,
    restart: launch,
    async close() {
      for (const c of clients) c.disconnect();
      await stop(true);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Every key with its DUMP (type, value, encoding) and whether it expires: "byte for byte
 * unchanged" is equality of two of these. (A TTL is kept as yes/no: it counts down.)
 */
export async function dumpEveryKey(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of (await redis.keys('*')).sort()) {
    const [dump, ttl] = await Promise.all([redis.dumpBuffer(k), redis.pttl(k)]);
    out[k] = `${dump?.toString('base64')} ttl:${ttl > 0 ? 'yes' : ttl}`;
  }
  return out;
}

/**
 * One private Redis for the whole file (beforeAll/afterAll registered here), emptied
 * before each test unless `flush: false`, so no test sees another's keys and each runs
 * alone. Read `server`/`redis` inside a test or hook.
 */
export function useRedis(opts: { flush?: boolean; persistent?: boolean } = {}): {
  readonly server: PrivateRedis;
  readonly redis: Redis;
} {
  let server: PrivateRedis | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis({ persistent: opts.persistent });
    redis = server.client();
  });
  afterAll(async () => server?.close());
  if (opts.flush !== false) beforeEach(async () => void (await redis!.flushall()));
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useRedis: the server exists only inside a test or hook');
    return v;
  };
  return {
    get server() {
      return need(server);
    },
    get redis() {
      return need(redis);
    },
  };
}
