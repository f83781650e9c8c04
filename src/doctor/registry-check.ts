/**
 * The registry: orphans (entries whose source this configuration does not have: they
 * keep firing; `pyrq prune` removes them) and paused schedules (an operator's override
 * that is easy to forget).
 */
import { readPauses } from '../registry/pauses.js';
import { orphanLines, orphansOf } from '../status/orphans.js';
import type { CheckResult, DoctorCheck } from './check.js';

/** At most this many paused ids are named in the message. */
const MAX_NAMED = 10;

export const registryCheck: DoctorCheck = {
  name: 'registry',
  needsRedis: true,
  async run(ctx) {
    const out: CheckResult[] = [];
    const index = new Map(ctx.entries.map((e) => [e.id, e]));
    const facts = await ctx.registry!.readDaemonFacts();
    const configured = [...ctx.sources.map((s) => s.name), ...(facts.sources ?? [])];
    const orphans = orphansOf(index, configured);
    orphanLines(orphans).forEach((line, i) =>
      out.push({
        check: 'orphans',
        status: 'warn',
        message: line,
        fix: `configure source "${orphans[i]!.source}" again, or remove its entries: pyrq prune --source ${orphans[i]!.source}`,
      }),
    );
    if (orphans.length === 0)
      out.push({ check: 'orphans', status: 'ok', message: `${ctx.entries.length} registry entries, none orphaned` });
    const pauses = [...(await readPauses(ctx.redis!, ctx.keys))].filter(([id]) => index.has(id));
    if (pauses.length === 0) out.push({ check: 'paused', status: 'ok', message: 'no schedule is paused' });
    else {
      const named = pauses
        .slice(0, MAX_NAMED)
        .map(([id, p]) => `${id} (since ${new Date(p.since).toISOString()}${p.reason ? `: ${p.reason}` : ''})`);
      out.push({
        check: 'paused',
        status: 'warn',
        message: `${pauses.length} schedule(s) paused, not firing: ${named.join(', ')}${pauses.length > MAX_NAMED ? ', …' : ''}`,
        fix: 'pyrq resume ID (or --all) when the pause is over',
      });
    }
    return out;
  },
};
