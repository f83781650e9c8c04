/**
 * Opening Redis connections. ioredis does the work (URLs incl. `rediss://` TLS and ACL
 * users, Sentinel); this decides the retry behaviour. One-shot commands fail fast with
 * a clear error; the daemon retries forever with capped backoff.
 */
import { createRequire } from 'node:module';
import type { RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/config.js';
import { PyrqError, redactUrl } from '../errors.js';
import { tlsOptions } from './tls.js';

// ioredis is CommonJS: required rather than imported (the same module either way). An
// ESM import makes Node scan it and the files it re-exports for export names first:
// ~125 M instructions (~12 ms) more at every CLI start that opens Redis.
const { Redis } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
type Redis = import('ioredis').Redis;

export interface ConnectOptions {
  /** Daemon mode: never give up, queue commands while reconnecting. */
  persistent?: boolean;
  connectionName?: string;
}

function baseOptions(cfg: RedisConfig, opts: ConnectOptions): RedisOptions {
  const common: RedisOptions = {
    connectionName: opts.connectionName ?? 'pyrq',
    lazyConnect: true,
    enableAutoPipelining: false,
  };
  if (cfg.password !== undefined) common.password = cfg.password;
  const tls = tlsOptions(cfg);
  if (tls) common.tls = tls;
  if (opts.persistent) {
    return {
      ...common,
      maxRetriesPerRequest: null,
      retryStrategy: (n) => Math.min(100 * 2 ** Math.min(n, 6), 5_000),
      // While disconnected, commands fail at once instead of queueing: every caller
      // retries at a higher level (the reconcile loop, the dispatcher, the lease), and
      // every write is a compare-and-set. Queued pipelines were seen to hang forever
      // across a Redis restart (their promise never settled, stopping the reconcile
      // loop for good). Commands in flight at a disconnect are resent by ioredis (its
      // default; turning that off drops them without settling their promises).
      enableOfflineQueue: false,
      // The backstop: no command waits forever, whatever happens to the connection. A
      // reply to the largest batch pyrq sends comes within a few seconds.
      commandTimeout: 15_000,
    };
  }
  // sentinelRetryStrategy too: ioredis's default asks the sentinels forever, so a master
  // name no sentinel knows hung a one-shot command instead of failing it.
  const giveUp = (n: number) => (n > 2 ? null : 200 * n);
  return {
    ...common,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 1,
    retryStrategy: giveUp,
    sentinelRetryStrategy: giveUp,
  };
}

export function createRedis(cfg: RedisConfig, opts: ConnectOptions = {}): Redis {
  const base = baseOptions(cfg, opts);
  if (cfg.sentinels && cfg.sentinels.length > 0) {
    return new Redis({ ...base, sentinels: cfg.sentinels, name: cfg.name ?? 'mymaster' });
  }
  return new Redis(cfg.url, base);
}

/** Connects (and pings) or throws REDIS_UNAVAILABLE naming the redacted URL. */
export async function connectRedis(cfg: RedisConfig, opts: ConnectOptions = {}): Promise<Redis> {
  const redis = createRedis(cfg, opts);
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => {
    lastError = e;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (e) {
    redis.disconnect();
    const sentinel = cfg.sentinels?.length ? `sentinel master "${cfg.name ?? 'mymaster'}"` : undefined;
    const why = (lastError ?? (e as Error)).message;
    const hint = sentinel ? 'check redis.sentinels and redis.name' : 'set --redis-url, PYRQ_REDIS_URL or redis.url';
    throw new PyrqError(
      'REDIS_UNAVAILABLE',
      `cannot connect to Redis at ${sentinel ?? redactUrl(cfg.url)}: ${why.replace(cfg.password ?? '\u0000', '***')} (${hint})`,
    );
  }
}
