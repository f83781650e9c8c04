/**
 * Fencing: the daemon's registry and job writes (`apply-changes.lua`, `fire-batch.lua`)
 * carry the writer's lease token, and each script checks inside Redis, before writing
 * anything, that the lease key still holds it. A process that lost its lease without
 * knowing (frozen past its TTL, cut off, Redis restarted empty under it) therefore
 * writes nothing, not even for a moment: its call is refused as a whole.
 *
 * The layout both scripts share: the lease key is their last KEY, the token their last
 * ARGV ('' = not fenced: `pyrq apply`, `tick`, `trigger` and a standby serving a socket
 * request write as any compare-and-set writer does). This module is the one place that
 * knows the refusal's reply text.
 */

/** The prefix of the scripts' error reply when the lease does not hold the token. */
export const FENCED_REPLY = 'PYRQ_FENCED';

/** A write refused because this process no longer holds the lease. */
export class FencedError extends Error {
  constructor(script: string) {
    super(`${script}: refused, this process no longer holds the leader lease (fenced)`);
    this.name = 'FencedError';
  }
}

/** What a fenced writer needs: the token to write with (undefined: write unfenced), and whom to tell of a refusal. */
export interface FenceGuard {
  token(): string | undefined;
  /** Called once per refused call; the lease steps down (and logs it once). */
  refused(): void;
}

/** The trailing KEY and ARGV of a script call (the lease key, the token or ''). */
export function fenceTail(leaseKey: string, token: string | undefined): { key: string; arg: string } {
  return { key: leaseKey, arg: token ?? '' };
}

/** The promise's error as a FencedError when the script refused the call for lack of the lease. */
export function asFenced(script: string): (e: unknown) => never {
  return (e: unknown) => {
    if (e instanceof Error && e.message.includes(FENCED_REPLY)) throw new FencedError(script);
    throw e;
  };
}
