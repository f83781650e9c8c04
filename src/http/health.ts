/**
 * Liveness and readiness, as pure functions of what the daemon knows, so the rules are
 * tested without a server. Liveness (`/healthz`): the process and its event loop work
 * (the loop's lag is under a threshold). Readiness (`/readyz`): the daemon can do its job
 * now: Redis is reachable, every configured source is fresh or explicitly holding (its
 * last read was complete; broken files or rows it holds are reported, not failed), and
 * who leads is known. A stale source (its read failed as a whole) is not ready.
 * Both answer 200 or 503 with a JSON body naming each reason.
 */
import type { SourceStatus } from '../registry/registry-port.js';
import type { DaemonRole } from './daemon-view.js';

export interface ProbeResult {
  status: 200 | 503;
  body: Record<string, unknown> & { status: 'ok' | 'fail'; reasons: string[] };
}

/** Event-loop lag above this fails liveness. */
export const MAX_LOOP_LAG_MS = 5_000;

export function liveness(loopLagMs: number, maxLagMs = MAX_LOOP_LAG_MS): ProbeResult {
  const reasons = loopLagMs > maxLagMs ? [`event loop lag ${Math.round(loopLagMs)} ms is over ${maxLagMs} ms`] : [];
  return {
    status: reasons.length ? 503 : 200,
    body: { status: reasons.length ? 'fail' : 'ok', reasons, loopLagMs: Math.round(loopLagMs * 10) / 10 },
  };
}

export interface ReadinessInput {
  redisReady: boolean;
  role: DaemonRole;
  configuredSources: readonly string[];
  /** Each source's last recorded health; null when it could not be read (Redis down). */
  sources: readonly SourceStatus[] | null;
}

export function readiness(i: ReadinessInput): ProbeResult {
  const reasons: string[] = [];
  if (!i.redisReady) reasons.push('redis: not connected');
  const role = i.role.leader ? 'leader' : i.role.currentLeader ? 'standby' : 'unknown';
  if (role === 'unknown') reasons.push('leader: not known yet (no daemon holds the lease)');
  const sources: Record<string, string> = {};
  for (const name of i.configuredSources) {
    const s = i.sources?.find((x) => x.source === name);
    if (!s) {
      sources[name] = 'unknown';
      reasons.push(`source ${name}: ${i.sources === null ? 'health unreadable' : 'not read yet'}`);
    } else if (s.stale) {
      sources[name] = 'stale';
      reasons.push(`source ${name}: stale${s.errors[0] ? ` (${s.errors[0]})` : ''}`);
    } else {
      sources[name] = s.held > 0 ? `holding ${s.held}` : 'fresh';
    }
  }
  const ok = reasons.length === 0;
  return {
    status: ok ? 200 : 503,
    body: {
      status: ok ? 'ok' : 'fail',
      reasons,
      role,
      leader: i.role.currentLeader,
      redis: i.redisReady ? 'up' : 'down',
      sources,
    },
  };
}
