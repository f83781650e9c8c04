import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { ttlsFromConf } from '../../sources/btu/site-config.js';
import { SqlSource } from '../../sources/sql/sql-source.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 27 point 6: BTU's jobs get the result and failure TTLs Frappe's enqueue reads from
// the site's configuration (frappe.conf: common_site_config.json, then the site's own).
const SITE = 'erp.example.com';

describe('site TTLs (pure)', () => {
  it('takes whole seconds and names a bad key', () => {
    expect(ttlsFromConf({ rq_results_ttl: 120, rq_job_failure_ttl: -1 }, 'x')).toEqual({
      resultTtl: 120,
      failureTtl: -1,
    });
    expect(() => ttlsFromConf({ rq_results_ttl: '2h' }, 'sites')).toThrow(
      /sites: rq_results_ttl must be a whole number/,
    );
  });
});

describe.each(SQL_TEST_DRIVERS)('$name: BTU rows take the TTLs from the site config', (d) => {
  let db: TestDb;
  let bench: ReturnType<typeof tmpDir>;
  beforeAll(async () => {
    db = await d.createDb();
    bench = tmpDir();
    mkdirSync(join(bench.path, 'sites', SITE), { recursive: true });
    writeFileSync(
      join(bench.path, 'sites', 'common_site_config.json'),
      JSON.stringify({ rq_results_ttl: 300, rq_job_failure_ttl: 86400 }),
    );
    writeFileSync(join(bench.path, 'sites', SITE, 'site_config.json'), JSON.stringify({ rq_job_failure_ttl: 3600 }));
  });
  afterAll(async () => {
    await db?.drop();
    bench?.cleanup();
  });

  it('the site overrides the bench, as frappe.conf does; without a bench path Frappe defaults apply', async () => {
    const read = async (benchPath?: string) => {
      const s = new SqlSource({
        driver: d.driver,
        config: { url: db.url, mode: 'btu', pollIntervalMs: 600_000 },
        ctx: DEFAULT_CONTEXT,
        site: SITE,
        btu: { runner: 'auto', overlap: 'forbid', benchPath },
      });
      try {
        return (await s.snapshot()).schedules.find((x) => x.spec.id === 'TS-000001')!.spec;
      } finally {
        await s.close();
      }
    };
    expect(await read(bench.path)).toMatchObject({ resultTtl: 300, failureTtl: 3600 });
    const plain = await read();
    expect(plain.resultTtl).toBeUndefined();
    expect(plain.failureTtl).toBeUndefined();
  });
});
