/**
 * The daemon: who leads (the lease key), how long ago the leader renewed its lease
 * (it renews every tenth of the TTL, src/lease-timing.ts, so a lease two thirds
 * of a TTL old means a leader that stalls),
 * the standbys (every daemon records its clock offset, leader or not), and each
 * daemon's recorded clock offset from Redis.
 */
import { leaseRenewMs } from '../lease-timing.js';
import { readLeaseHolder } from '../redis/commands/lease.js';
import type { DaemonFacts } from '../registry/registry-port.js';
import type { CheckResult, DoctorCheck } from './check.js';

/** The findings from the lease holder, its remaining TTL (ms, negative: none) and the daemon facts. Pure. */
export function daemonResults(
  leader: string | null,
  pttlMs: number,
  facts: DaemonFacts,
  opts: { leaseTtlMs: number; clockOffsetWarnMs: number },
): CheckResult[] {
  const out: CheckResult[] = [];
  const daemons = Object.entries(facts.clocks ?? {}).filter(([, c]) => c);
  if (leader === null) {
    out.push({
      check: 'daemon',
      status: 'fail',
      message: 'no daemon leads (no lease in Redis): nothing fires',
      fix: 'start the daemon with the same settings: pyrq daemon --config FILE (docs/daemon.md)',
    });
  } else {
    const age = Math.max(0, opts.leaseTtlMs - pttlMs);
    const late = age > Math.ceil((opts.leaseTtlMs * 2) / 3);
    out.push(
      late
        ? {
            check: 'daemon',
            status: 'warn',
            message: `leader ${leader} last renewed its lease ${age} ms ago (it renews every ${leaseRenewMs(opts.leaseTtlMs)} ms): it may be stalled or cut off from Redis`,
            fix: "see the leader's log; a standby takes over when the lease expires",
          }
        : { check: 'daemon', status: 'ok', message: `leader ${leader}, lease renewed ${age} ms ago` },
    );
  }
  const standbys = daemons.map(([id]) => id).filter((id) => id !== leader);
  out.push({
    check: 'daemon standbys',
    status: 'ok',
    message:
      standbys.length > 0
        ? `${standbys.length} standby daemon(s): ${standbys.join(', ')}`
        : 'no standby daemon: if the leader stops, nothing fires until it is back',
  });
  for (const [id, c] of daemons)
    if (Math.abs(c!.offsetMs) > opts.clockOffsetWarnMs)
      out.push({
        check: 'daemon clock',
        status: 'warn',
        message: `daemon ${id}'s clock is ${Math.abs(c!.offsetMs)} ms off Redis's (more than ${opts.clockOffsetWarnMs} ms)`,
        fix: "synchronise that machine's clock (NTP); fires go by Redis's clock meanwhile",
      });
  return out;
}

export const daemonCheck: DoctorCheck = {
  name: 'daemon',
  needsRedis: true,
  async run(ctx) {
    const redis = ctx.redis!;
    const [leader, pttl, facts] = await Promise.all([
      readLeaseHolder(redis, ctx.keys.leader),
      redis.pttl(ctx.keys.leader),
      ctx.registry!.readDaemonFacts(),
    ]);
    return daemonResults(leader, pttl, facts, {
      leaseTtlMs: ctx.config.daemon.leaseTtlMs,
      clockOffsetWarnMs: ctx.config.daemon.clockOffsetWarnMs,
    });
  },
};
