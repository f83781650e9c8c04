/**
 * The one-writer check of the one-shot commands that reconcile (`apply`, `tick`): when a
 * live daemon owns one of the sources they read, from another place, a plan that would
 * change that source's entries is refused (OWNED_BY_DAEMON, exit 3) unless --force. The
 * same configuration proceeds: both writers converge on the same entries (each change is
 * a compare-and-set), so there is nothing to protect and nothing to delegate.
 */
import type { Redis } from 'ioredis';
import { PyrqError } from '../src/errors.js';
import type { Plan } from '../src/plan/types.js';
import type { Keys } from '../src/redis/keys.js';
import { changesOf, readLiveOwner, refusalText, sourcesReadElsewhere } from '../src/registry/source-owner.js';
import type { Source } from '../src/source.js';
import { ownedSourcesOf } from '../reconcilers/owned-sources.js';

/** The plan check for `reconcileOnce({check})`, or undefined when nothing is owned elsewhere (or forced). */
export async function ownerCheck(
  redis: Redis,
  keys: Keys,
  sources: readonly Source[],
  command: string,
  force: boolean,
): Promise<((plan: Plan) => void) | undefined> {
  if (force) return undefined;
  const owner = await readLiveOwner(redis, keys);
  if (!owner) return undefined;
  const mine = ownedSourcesOf(sources);
  const conflicts = sourcesReadElsewhere(owner, mine);
  if (conflicts.length === 0) return undefined;
  const names = new Set(conflicts.map((c) => c.name));
  return (plan) => {
    const changes = changesOf(plan, names);
    if (changes.length > 0)
      throw new PyrqError('OWNED_BY_DAEMON', refusalText(command, owner, conflicts, mine, changes), {
        owner: { host: owner.host, pid: owner.pid, holderId: owner.holderId },
        sources: conflicts,
      });
  };
}
