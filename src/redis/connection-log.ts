/**
 * The story of the daemon's Redis connection in the log: one warning when it is lost
 * (or cannot be made at start), one info line when it is back with how long it was
 * down, and every retry's error at debug. Callers that retry on their own (the
 * reconcile loop, the lease, the dispatcher) ask `isDown()` and log their failures at
 * debug meanwhile, so an outage is two lines at info, not one error every few seconds.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export interface ConnectionLog {
  /** True from the moment the connection is lost (or before it was ever made) until it is ready. */
  isDown(): boolean;
  /** Stops logging (the daemon is closing the connection on purpose). */
  stop(): void;
}

/**
 * Watches `redis` (persistent: ioredis reconnects by itself). `where` names the server
 * without secrets (a redacted URL); `clean` removes secrets from an error message.
 */
export function watchConnection(
  redis: Redis,
  logger: Logger,
  where: string,
  clean: (text: string) => string = (t) => t,
): ConnectionLog {
  let ready = false;
  let everReady = false;
  let downSince: number | null = Date.now();
  let warned = false;
  let retries = 0;
  let stopped = false;
  const lost = (why: string) => {
    if (stopped) return;
    if (!warned) {
      warned = true;
      logger.warn(
        { redis: where, err: { message: why } },
        everReady
          ? 'redis connection lost; retrying in the background'
          : 'cannot connect to redis; retrying in the background',
      );
    } else {
      logger.debug({ redis: where, err: { message: why }, retries }, 'redis still unreachable; retrying');
    }
  };
  redis.on('error', (e: Error) => {
    retries++;
    lost(clean(e.message));
  });
  redis.on('close', () => {
    if (ready) {
      ready = false;
      downSince = Date.now();
      retries = 0;
      lost('connection closed');
    }
  });
  redis.on('ready', () => {
    ready = true;
    if (stopped) return;
    if (everReady || warned) {
      const downtimeMs = downSince === null ? 0 : Date.now() - downSince;
      logger.info(
        { redis: where, downtimeMs, downtime: formatDowntime(downtimeMs), retries },
        'redis connection restored',
      );
    }
    everReady = true;
    warned = false;
    downSince = null;
  });
  return {
    isDown: () => !ready,
    stop: () => {
      stopped = true;
    },
  };
}

function formatDowntime(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}
