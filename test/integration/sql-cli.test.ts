import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { pyrq } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { SQL_TEST_DRIVERS, type TestDb, type TestUser } from '../helpers/sql-drivers.js';

// The issue's acceptance for one-off syncs: `pyrq apply --mysql-url ...` (and
// `--postgres-url`) through the built CLI, on the machine's MariaDB and PostgreSQL (a
// throwaway database each) and a private redis-server. Passwords are checked on a server
// that checks them: MariaDB itself, a private PostgreSQL (the machine's trusts 127.0.0.1).
// Each test stands alone: Redis is emptied before each, a test that needs applied schedules
// applies them itself, and the one that edits BTU rows does so in a database of its own.
describe.each(SQL_TEST_DRIVERS)('$name', (d) => {
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let secure: { db: TestDb; close(): Promise<void> };
  let user: TestUser;
  const SITE = 'erp.example.com';
  const PASSWORD_ENV = `PYRQ_${d.name.toUpperCase()}_PASSWORD`;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await d.createDb();
    secure = await d.createPasswordDb();
    user = await secure.db.createUser(['tabBTU Task Schedule', 'tabBTU Task', 'tabSingles']);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    await secure?.close();
  });
  beforeEach(async () => void (await redis.flushall()));

  // The direct runner: these tests check how BTU's own columns map (arguments, overrides).
  const env = () => ({
    PYRQ_BTU_RUNNER: 'direct',
    PYRQ_REDIS_URL: server.url,
    PYRQ_FRAPPE_SITE: SITE,
    PYRQ_CONFIG: undefined,
    PYRQ_DIR: undefined,
    PYRQ_MYSQL_URL: undefined,
    PYRQ_MYSQL_PASSWORD: undefined,
    PYRQ_POSTGRES_URL: undefined,
    PYRQ_POSTGRES_PASSWORD: undefined,
  });
  const apply = (url: string, extra: string[] = [], more: Record<string, string | undefined> = {}) =>
    pyrq(['apply', `--${d.name}-url`, url, ...extra], { env: { ...env(), ...more } });
  const ids = async () => (await redis.hkeys('pyrq:index')).sort();
  const VALID = ['TS-000001', 'TS-000002', 'TS-000003', 'TS-000004', 'TS-000005', 'TS-000008'];
  /** The fixture's valid rows applied, as the first test checks in detail: what the others start from. */
  const applyFixture = async (url = db.url) => {
    const r = await apply(url);
    expect(r.code, r.stderr).toBe(1); // TS-000006 and TS-000007 are malformed
    expect(await ids()).toEqual(VALID);
  };
  const spec = async (id: string): Promise<Schedule> => JSON.parse((await redis.hget(`pyrq:schedule:${id}`, 'spec'))!);
  const userUrl = (password?: string) =>
    `${d.scheme}//${user.name}${password === undefined ? '' : `:${password}`}@127.0.0.1:${new URL(secure.db.url).port}/${secure.db.name}`;

  describe(`pyrq apply --${d.name}-url on the BTU fixture`, () => {
    it('creates exactly the valid schedules with their kwargs, timezone, queue and timeout, and reports the malformed rows by id', async () => {
      const r = await apply(db.url, ['--json']);
      expect(r.code).toBe(1); // some rows have errors; the rest was applied
      const out = r.json();
      expect(out.summary).toEqual({ create: 6, update: 0, delete: 0, unchanged: 0, held: 0, errors: 2 });
      expect(out.plan.errors.map((e: { id: string; path: string }) => [e.id, e.path])).toEqual([
        ['TS-000006', 'argument_overrides'],
        ['TS-000007', 'cron_string'],
      ]);
      expect(await ids()).toEqual(VALID);

      expect(await spec('TS-000001')).toMatchObject({
        target: 'frappe',
        site: SITE,
        function: 'pyrq_fixtures.btu_tasks.sync_stock',
        kwargs: { company: 'ACME', warehouse: 'Stores - AC', days: 7, dry_run: false },
        cron: '0 2 * * *',
        timezone: 'America/New_York',
        queue: 'long',
        timeout: 900,
        enabled: true,
        description: 'Sync stock levels',
      });
      expect(await spec('TS-000002')).toMatchObject({
        kwargs: { company: 'ACME', warehouse: 'Finished Goods - AC', days: 1, dry_run: false },
        timezone: 'Europe/Berlin',
        queue: 'default',
      });
      expect(await spec('TS-000003')).toMatchObject({
        kwargs: { recipients: ['ops@example.com'], include_charts: true },
        // BTU 2025-26 (the fixture has cron_timezone): a Daily row is local time, like every row.
        cron: '0 8 * * *',
        timezone: 'America/New_York',
        queue: 'short',
        timeout: 300,
      });
      expect(await spec('TS-000004')).toMatchObject({ kwargs: {}, timeout: 3600 });
      expect(await spec('TS-000005')).toMatchObject({
        cron: '0 6 1 * *',
        kwargs: { price_list: 'Standard Selling', round_to: 0.1, items: ['ITEM-0001', 'ITEM-0002'] },
      });
      expect(await spec('TS-000008')).toMatchObject({ enabled: false });
      expect(await redis.hget('pyrq:schedule:TS-000001', 'source')).toBe(d.name);
      expect(await redis.hget('pyrq:schedule:TS-000001', 'origin')).toBe('tabBTU Task Schedule');
    });

    it('a second apply changes nothing and prints the errors by id', async () => {
      await applyFixture();
      const r = await apply(db.url);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        // The source named (issue 26): MySQL and PostgreSQL rows share the table name.
        `! ${d.name}: tabBTU Task Schedule: (id "TS-000006"): argument_overrides: not a Python dict literal`,
      );
      expect(r.stdout).toContain(
        `! ${d.name}: tabBTU Task Schedule: (id "TS-000007"): cron_string: "61 25 * * *": minute out of range`,
      );
      expect(r.stdout).toMatch(/0 created, 0 updated, 0 deleted, 6 unchanged/);
    });

    it('an unreachable database changes nothing, says the source is stale, and never prints the password', async () => {
      await applyFixture();
      const before = await ids();
      const port = await freePort();
      const r = await apply(`${d.scheme}//root:Zq9-secret-pw@127.0.0.1:${port}/${db.name}`, ['--json']);
      expect(r.code).toBe(1);
      const out = r.json();
      expect(out.plan.sources).toEqual([expect.objectContaining({ source: d.name, stale: true, schedules: 0 })]);
      expect(out.summary.delete).toBe(0);
      expect(out.plan.errors[0].message).toMatch(/cannot read the database .*ECONNREFUSED/);
      expect(r.stdout + r.stderr).not.toContain('Zq9-secret-pw');
      expect(await ids()).toEqual(before);
    });

    it('wrong credentials are stale too, with the password redacted from text and logs', async () => {
      await applyFixture();
      const before = await ids();
      const wrong = `${user.password}-wrong`;
      const r = await apply(userUrl(wrong), ['--log-level', 'debug']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(d.wrongPassword);
      expect(r.stdout + r.stderr).not.toContain(wrong);
      expect(await ids()).toEqual(before);
    });

    it(`reads the password from ${PASSWORD_ENV} when the URL has none`, async () => {
      const r = await apply(userUrl(), ['--json', '--dry-run'], { [PASSWORD_ENV]: user.password });
      expect(r.json().plan.sources[0]).toMatchObject({ source: d.name, stale: false, schedules: 6 });
      // ...and the server really wanted it: without it, the same URL is refused.
      const refused = await apply(userUrl(), ['--json', '--dry-run']);
      expect(refused.code).toBe(1);
      expect(refused.json().plan.sources[0]).toMatchObject({ source: d.name, stale: true });
      expect(refused.json().plan.errors[0].message).toMatch(d.noPassword);
    });

    it('after the outage, edits made meanwhile are applied: update, disable, delete, fix', async () => {
      // The edits go to a database of this test's own: the others read the fixture as it is.
      const own = await d.createDb();
      try {
        await applyFixture(own.url);
        // The outage: the source is unreachable, so stale, and nothing changes.
        const down = await apply(`${d.scheme}//root@127.0.0.1:${await freePort()}/${own.name}`, ['--json']);
        expect(down.json().plan.sources).toEqual([expect.objectContaining({ source: d.name, stale: true })]);
        expect(await ids()).toEqual(VALID);
        await own.exec(`UPDATE \`tabBTU Task Schedule\` SET cron_string = '0 3 * * *', modified = NOW(6) WHERE name = 'TS-000001';
          UPDATE \`tabBTU Task Schedule\` SET enabled = 0, modified = NOW(6) WHERE name = 'TS-000002';
          DELETE FROM \`tabBTU Task Schedule\` WHERE name = 'TS-000003';
          UPDATE \`tabBTU Task Schedule\` SET cron_string = '0 4 * * *', modified = NOW(6) WHERE name = 'TS-000007'`);
        const plan = await pyrq(['diff', `--${d.name}-url`, own.url], { env: env() });
        expect(plan.stdout).toContain('~ update TS-000001');
        expect(plan.stdout).toContain('- delete TS-000003');
        const r = await apply(own.url, ['--json']);
        expect(r.json().applied).toMatchObject({
          created: ['TS-000007'],
          updated: ['TS-000001', 'TS-000002'],
          deleted: ['TS-000003'],
        });
        expect((await spec('TS-000001')).cron).toBe('0 3 * * *');
        expect((await spec('TS-000002')).enabled).toBe(false);
        expect(await ids()).toEqual(['TS-000001', 'TS-000002', 'TS-000004', 'TS-000005', 'TS-000007', 'TS-000008']);
      } finally {
        await own.drop();
      }
    });

    it('BTU mode without a site is a clear configuration error', async () => {
      const r = await pyrq(['apply', `--${d.name}-url`, db.url], { env: { ...env(), PYRQ_FRAPPE_SITE: undefined } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`BTU mode needs the Frappe site .*${d.name}\\.site`));
    });
  });
});
