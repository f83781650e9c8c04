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
 * Every key with its type, its whole value and whether it expires: "unchanged" is
 * equality of two of these. (A TTL is kept as yes/no: it counts down.)
 *
 * The value is read logically (a hash's fields sorted, a set's members sorted), not with
 * DUMP: a hash in hashtable encoding can be mid-way through Redis's incremental rehash,
 * and any read (an HGET) moves that on, so an unchanged hash can DUMP to other bytes.
 * A plain read from the code under test once failed a "writes nothing" check that way.
 */
export async function dumpEveryKey(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of (await redis.keys('*')).sort()) {
    const [value, ttl] = await Promise.all([readWhole(redis, k), redis.pttl(k)]);
    out[k] = `${value} ttl:${ttl > 0 ? 'yes' : ttl}`;
  }
  return out;
}

const b64 = (b: Buffer): string => b.toString('base64');

/** One key's type and whole value as text; binary-safe (values in base64). */
async function readWhole(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return `string ${b64((await redis.getBuffer(key)) ?? Buffer.alloc(0))}`;
    case 'hash': {
      const flat = (await redis.callBuffer('HGETALL', key)) as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${b64(flat[i]!)}=${b64(flat[i + 1]!)}`);
      return `hash ${pairs.sort().join(',')}`;
    }
    case 'list':
      return `list ${(await redis.lrangeBuffer(key, 0, -1)).map(b64).join(',')}`;
    case 'set':
      return `set ${(await redis.smembersBuffer(key)).map(b64).sort().join(',')}`;
    case 'zset': {
      const flat = (await redis.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${b64(flat[i]!)}@${flat[i + 1]!.toString()}`);
      return `zset ${pairs.join(',')}`;
    }
    case 'none':
      return 'none';
    default:
      // pyrq and RQ write none of the other types; DUMP is the fallback for them
      return `${type} ${b64((await redis.dumpBuffer(key)) ?? Buffer.alloc(0))}`;
  }
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
