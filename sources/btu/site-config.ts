/**
 * The result and failure TTLs of a site's jobs, where Frappe's enqueue reads them for
 * BTU's jobs: `frappe.conf.get("rq_results_ttl")` and `frappe.conf.get("rq_job_failure_ttl")`
 * (frappe `utils/background_jobs.enqueue`), `frappe.conf` being the bench's
 * `sites/common_site_config.json` overlaid by `sites/<site>/site_config.json`. Absent there,
 * Frappe's defaults apply (pyrq's frappe target: 600 s and 7 days).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SiteTtls {
  resultTtl?: number;
  failureTtl?: number;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${path}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Pure: the TTLs from the merged configuration; a value that is not a whole number is an error naming its key. */
export function ttlsFromConf(conf: Record<string, unknown>, where: string): SiteTtls {
  const out: SiteTtls = {};
  for (const [key, field] of [
    ['rq_results_ttl', 'resultTtl'],
    ['rq_job_failure_ttl', 'failureTtl'],
  ] as const) {
    const v = conf[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -1)
      throw new Error(`${where}: ${key} must be a whole number of seconds (or -1), got ${JSON.stringify(v)}`);
    out[field] = v;
  }
  return out;
}

export async function readSiteTtls(benchPath: string, site: string): Promise<SiteTtls> {
  const sites = join(benchPath, 'sites');
  const common = await readJson(join(sites, 'common_site_config.json'));
  const own = await readJson(join(sites, site, 'site_config.json'));
  return ttlsFromConf({ ...common, ...own }, `${sites} (common_site_config.json, ${site}/site_config.json)`);
}
