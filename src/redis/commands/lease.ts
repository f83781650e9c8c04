/**
 * The typed wrapper of `lease.lua`, and the only reader of the lease key: the KEYS and
 * ARGV order and the reply codes of the script are known here and nowhere else.
 */
import type { Redis } from 'ioredis';
import { runScript } from '../scripts.js';

export type LeaseOp = 'acquire' | 'renew' | 'release';

/** The script's reply codes. */
export const LeaseCode = {
  /** This holder has the lease (acquired or renewed), or released it. */
  held: 1,
  /** Someone else holds it, or nobody (renew/release of a lease that is gone). */
  notHeld: 0,
} as const;

export interface LeaseReply {
  /** True: this holder has (or, for release, just gave up) the lease. */
  held: boolean;
  /** Who holds the lease now; null when nobody does. */
  holder: string | null;
  /** Its remaining time to live (ms); -2 when there is no lease. */
  pttlMs: number;
}

/**
 * Runs `op` on the lease in `key` for `holderId`; `ttlMs` is used by acquire and renew;
 * a release is published on `releasedChannel` when given (and only when it released).
 */
export async function leaseCommand(
  redis: Redis,
  key: string,
  op: LeaseOp,
  holderId: string,
  ttlMs: number,
  releasedChannel = '',
): Promise<LeaseReply> {
  const [code, holder, pttl] = await runScript<[number, string, number]>(
    redis,
    'lease',
    [key],
    [op, holderId, ttlMs, releasedChannel],
  );
  return { held: code === LeaseCode.held, holder: holder || null, pttlMs: Number(pttl) };
}

/** The current holder of the lease in `key` (null when nobody holds it): `pyrq status` without a daemon. */
export async function readLeaseHolder(redis: Redis, key: string): Promise<string | null> {
  return redis.get(key);
}
