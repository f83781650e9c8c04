/**
 * The leader lease's timing, from its TTL (`daemon.leaseTtl`): pure, shared by the lease
 * (reconcilers/leader-lease.ts) and `pyrq doctor`, which tells a late renewal from a
 * normal one.
 *
 * The leader renews ten times per TTL, so a pause of 90 % of the TTL (a long GC, a
 * stalled VM, a machine under load) passes without losing the lease: with the default
 * 2.5 s TTL, a 2 s event-loop stall leaves 250 ms to spare. A standby checks as often
 * and, once the lease is about to expire, exactly when it does: it takes over a killed
 * leader at most one TTL after the leader's last renewal (plus one round trip), and a
 * leader that stops cleanly at once (it publishes its release).
 */

/** The shortest interval between two checks, whatever the TTL (a check costs a round trip). */
export const MIN_LEASE_CHECK_MS = 50;

/** How often the leader renews its lease. */
export function leaseRenewMs(ttlMs: number): number {
  return Math.max(MIN_LEASE_CHECK_MS, Math.floor(ttlMs / 10));
}

/**
 * When a standby checks the lease next, after a check that found it held by another with
 * `pttlMs` left (-2: nobody holds it, -1: no TTL): at its poll interval, or just after the
 * lease expires when that comes sooner.
 */
export function standbyNextCheckMs(ttlMs: number, pttlMs: number): number {
  const poll = Math.max(MIN_LEASE_CHECK_MS, Math.floor(ttlMs / 10));
  // +1: Redis expires a key at its PTTL's end, not before; a check then finds it gone.
  return pttlMs >= 0 ? Math.max(1, Math.min(poll, pttlMs + 1)) : poll;
}
