/**
 * Fires a list of items in batches of `batchSize` (`pyrq trigger`'s manual run; the
 * dispatcher builds and sends its own batches ahead of time). Each batch is sent as soon
 * as it is built, so the client building batch n+1 overlaps Redis running batch n.
 */
import type { Redis } from 'ioredis';
import {
  type FireItem,
  type FireOptions,
  type FireOutcome,
  type FireReply,
  prepareFireBatch,
  sendFireBatch,
} from '../redis/commands/fire-batch.js';
import type { Keys } from '../redis/keys.js';

/** Lets pending socket writes go out before the next batch is built. */
export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Fires `items`; returns one outcome per item, in order. Throws on a Redis or script
 * error (other batches may have been applied; each item is atomic on its own, so a
 * retry finds them done: not due).
 */
export async function fireItems(
  redis: Redis,
  keys: Keys,
  items: readonly FireItem[],
  opts: FireOptions & { batchSize: number },
): Promise<FireOutcome[]> {
  const pending: Promise<FireReply>[] = [];
  for (let i = 0; i < items.length; i += opts.batchSize) {
    pending.push(
      sendFireBatch(
        redis,
        prepareFireBatch(keys, items.slice(i, i + opts.batchSize), { ...opts, redisClock: opts.at === 'redis' }),
        opts.at,
      ),
    );
    await yieldToIo();
  }
  return (await Promise.all(pending)).flatMap((r) => r.outcomes);
}
