/**
 * The jobs' outcomes: schedules failing (their last `failAfter` jobs failed) or overdue
 * (no success within `alertAfter`), as the daemon's outcome reader recorded them
 * (docs/observability.md). A warning each: pyrq fires them, the jobs are what fails.
 */
import { readPauses } from '../registry/pauses.js';
import { statusRow } from '../status/status-view.js';
import type { CheckResult, DoctorCheck } from './check.js';

/** At most this many ids are named per finding. */
const MAX_NAMED = 10;

export const outcomesCheck: DoctorCheck = {
  name: 'outcomes',
  needsRedis: true,
  async run(ctx) {
    const pauses = await readPauses(ctx.redis!, ctx.keys);
    const rows = ctx.entries.map((e) => statusRow(e, ctx.now, pauses.get(e.id)));
    const failing = rows.filter((r) => r.failing);
    const overdue = rows.filter((r) => r.overdue);
    const out: CheckResult[] = [];
    if (failing.length > 0)
      out.push({
        check: 'failing',
        status: 'warn',
        message: `${failing.length} schedule(s) failing: ${failing
          .slice(0, MAX_NAMED)
          .map((r) => `${r.id} (${r.consecutiveFailures} in a row${r.failure ? `: ${r.failure}` : ''})`)
          .join(', ')}${failing.length > MAX_NAMED ? ', …' : ''}`,
        fix: 'pyrq history ID shows each run and its exception; fix the job (or raise failAfter)',
      });
    else out.push({ check: 'failing', status: 'ok', message: 'no schedule is failing' });
    if (overdue.length > 0)
      out.push({
        check: 'overdue',
        status: 'warn',
        message: `${overdue.length} schedule(s) overdue (no success within alertAfter): ${overdue
          .slice(0, MAX_NAMED)
          .map((r) => `${r.id} (last success ${r.lastSuccess ?? 'never'})`)
          .join(', ')}${overdue.length > MAX_NAMED ? ', …' : ''}`,
        fix: 'check that a worker listens on its queue (pyrq doctor: workers) and that its jobs finish; pyrq history ID',
      });
    else out.push({ check: 'overdue', status: 'ok', message: 'no schedule is overdue' });
    return out;
  },
};
