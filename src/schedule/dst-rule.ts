/**
 * BTU's DST rule for a repeated (fall-back) hour: one run per local time.
 *
 * BTU's scheduler (btu_scheduler `scheduler.run_immediate_scheduled_task`) records each
 * local slot it fired (`btu:fired:<id>:<YYYY-MM-DD:HH:MM>` in the schedule's timezone,
 * 25 h TTL) and skips an occurrence whose slot is recorded: in the repeated hour the
 * second pass of a local time never runs, whatever the cron pattern (croniter itself
 * yields both passes). pyrq's own (Vixie) rule runs an interval job in both passes.
 *
 * The gap is the same under both rules: croniter 6.2 (measured, America/New_York,
 * 2026-03-08) moves `30 2 * * *` to 03:00 EDT, as Vixie cron does. Pure.
 */
import { tzOffsetMs } from '../model/timezone.js';

/** How far back a fall-back is looked for: no zone moves its clock back by more. */
const LOOKBACK_MS = 3 * 3600_000;

/**
 * True when the wall clock in `tz` showed the same local time as at `ms` earlier: `ms` is
 * in the second pass of a repeated hour.
 */
export function isSecondPass(tz: string, ms: number): boolean {
  const now = tzOffsetMs(tz, ms);
  const back = tzOffsetMs(tz, ms - LOOKBACK_MS) - now;
  if (back <= 0) return false;
  // The instant `back` earlier shows the same wall time if its offset is `back` larger.
  return tzOffsetMs(tz, ms - back) === now + back;
}
