/**
 * Each daemon's clock offset from Redis, as `pyrq status` shows it (pure): from the
 * daemon facts, sorted by daemon, each marked when beyond the warning threshold.
 */
import type { DaemonFacts } from '../registry/registry-port.js';

export interface DaemonClockRow {
  /** The daemon's lease holder id. */
  daemon: string;
  pid: number;
  /** Redis time minus the daemon's clock (ms): positive when the daemon's clock is behind. */
  offsetMs: number;
  /** When it was measured (ISO, Redis time). */
  measuredAt: string;
  /** Beyond `daemon.clockOffsetWarn` (set by `pyrq status`, which knows the setting). */
  warn?: boolean;
}

export function daemonClocks(facts: DaemonFacts): DaemonClockRow[] {
  return Object.entries(facts.clocks ?? {})
    .flatMap(([daemon, c]) =>
      c ? [{ daemon, pid: c.pid, offsetMs: c.offsetMs, measuredAt: new Date(c.at).toISOString() }] : [],
    )
    .sort((a, b) => a.daemon.localeCompare(b.daemon));
}

/** Marks the rows beyond `warnMs` (either way). */
export function markClockWarnings(rows: readonly DaemonClockRow[], warnMs: number): DaemonClockRow[] {
  return rows.map((r) => ({ ...r, warn: Math.abs(r.offsetMs) > warnMs }));
}
