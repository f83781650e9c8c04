import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';

// Issue 27 point 1: `status` says which BTU generation was detected and why (and which rows
// had a cron field dropped), here after a one-shot apply recorded it.
describe.each(SQL_TEST_DRIVERS)('$name: status names the BTU generation', (d) => {
  let server: PrivateRedis;
  let db: TestDb;
  beforeAll(async () => {
    server = await startRedis();
    db = await d.createDb();
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '0 0 9 * * * 2027' WHERE name = 'TS-000004'");
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('apply records it; status --no-daemon shows it on the source line', async () => {
    const env = {
      PYRQ_REDIS_URL: server.url,
      PYRQ_FRAPPE_SITE: 'erp.example.com',
      PYRQ_CONFIG: undefined,
      PYRQ_DIR: undefined,
      PYRQ_MYSQL_URL: undefined,
      PYRQ_POSTGRES_URL: undefined,
    };
    const applied = await pyrq(['apply', `--${d.name}-url`, db.url], { env });
    // Exit 1: the fixture's malformed cron (TS-000007) is an error; the other rows are applied.
    expect(applied.stdout).toMatch(/7 created/);
    const status = await pyrq(['status', '--no-daemon'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.replace(/\s+/g, ' ')).toMatch(
      /Source \w+ .*BTU 2025-26 \(detected: tabBTU Task Schedule has a cron_timezone column\); 1 row\(s\) with a cron seconds or year field, dropped as BTU drops it: TS-000004/,
    );
  });
});
