/**
 * Frappe: when BTU mode is configured or some schedule has `target: frappe`, the site its
 * jobs run on, and the bench id that Frappe v14+ workers put before every queue name
 * (`<bench_id>:long`). A bench id missing while Frappe workers listen on prefixed queues
 * sends every job to a queue nobody reads: the worker registry shows which prefix they use.
 */
import { RqKeys } from '../redis/keys.js';
import type { CheckResult, DoctorCheck } from './check.js';
import { knownSpecs } from './workers-check.js';

/** The bench ids seen in the names of queues live workers listen on (`frappe-bench:long` -> `frappe-bench`). */
async function benchIdsOfWorkers(ctx: Parameters<DoctorCheck['run']>[0]): Promise<string[]> {
  const redis = ctx.redis!;
  const keys = await redis.smembers(RqKeys.workers);
  const p = redis.pipeline();
  for (const k of keys) p.hget(k, 'queues');
  const replies = keys.length > 0 ? ((await p.exec()) ?? []) : [];
  const ids = new Set<string>();
  for (const [, v] of replies)
    if (typeof v === 'string')
      for (const q of v.split(',')) if (q.includes(':')) ids.add(q.slice(0, q.lastIndexOf(':')));
  return [...ids].sort();
}

export const frappeCheck: DoctorCheck = {
  name: 'frappe',
  needsRedis: true,
  async run(ctx) {
    const c = ctx.config;
    const btu = (['mysql', 'postgres'] as const).filter((n) => c[n]?.mode === 'btu');
    const frappeSpecs = [...knownSpecs(ctx).values()].filter((s) => s.target === 'frappe');
    if (btu.length === 0 && frappeSpecs.length === 0) return [];
    const out: CheckResult[] = [];
    const site = c.frappe.site ?? btu.map((n) => c[n]!.site).find((s) => s !== undefined);
    const siteless = frappeSpecs.filter((s) => s.site === undefined);
    if (site !== undefined)
      out.push({ check: 'frappe site', status: 'ok', message: `Frappe jobs run on site "${site}"` });
    else if (siteless.length > 0 || btu.length > 0)
      out.push({
        check: 'frappe site',
        status: 'fail',
        message: `no Frappe site is configured, and ${btu.length > 0 ? `BTU mode (${btu.join(', ')})` : `${siteless.length} Frappe schedule(s)`} name none`,
        fix: 'pass --frappe-site SITE (or PYRQ_FRAPPE_SITE, or frappe.site in the config file)',
      });
    const seen = await benchIdsOfWorkers(ctx);
    const benchId = c.frappe.benchId;
    if (benchId !== undefined) {
      const other = seen.filter((b) => b !== benchId);
      out.push(
        seen.length > 0 && !seen.includes(benchId)
          ? {
              check: 'frappe bench id',
              status: 'warn',
              message: `bench id "${benchId}": jobs go to "${benchId}:<queue>", but live workers listen on queues of bench ${other.map((b) => `"${b}"`).join(', ')}`,
              fix: `set --frappe-bench-id to the bench_id of common_site_config.json (the workers suggest ${JSON.stringify(other[0])})`,
            }
          : {
              check: 'frappe bench id',
              status: 'ok',
              message: `bench id "${benchId}": jobs go to "${benchId}:<queue>"`,
            },
      );
    } else if (seen.length > 0) {
      out.push({
        check: 'frappe bench id',
        status: 'warn',
        message: `no bench id is configured, so Frappe jobs go to bare queue names ("long"), but live workers listen on queues of bench ${seen.map((b) => `"${b}"`).join(', ')} (Frappe v14+)`,
        fix: `pass --frappe-bench-id ${seen[0]} (or PYRQ_FRAPPE_BENCH_ID, or frappe.benchId)`,
      });
    } else {
      out.push({
        check: 'frappe bench id',
        status: 'ok',
        message:
          'no bench id: Frappe jobs go to bare queue names, as Frappe v13 names them (v14+ needs --frappe-bench-id)',
      });
    }
    return out;
  },
};
