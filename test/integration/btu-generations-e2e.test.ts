/**
 * Issue 27 points 1, 2, 4, 5 against real MariaDB and PostgreSQL: BTU rows as BTU's own
 * scheduler fires them, for each app generation, with an injectable clock (the dispatcher
 * ticks at the instants that matter instead of waiting hours).
 *
 * - 2025-26 (the fixture: Task Schedule has cron_timezone): a Daily 08:00 row in
 *   America/New_York (BTU Configuration) fires at 08:00 New York time (12:00Z in June);
 * - 2024 (cron_timezone dropped from the table): the app stored Daily rows in UTC, so the
 *   same 08:00 entered in New York is `0 12 * * *` and fires at 12:00Z as well;
 * - `*\/15 * * * * * *` fires once a minute; a row with a year is scheduled;
 * - `*\/30 * * * *` in the repeated autumn hour fires once per local time.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../reconcilers/dispatcher.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { ManualClock } from '../../src/clock.js';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { Keys } from '../../src/redis/keys.js';
import { Registry } from '../../src/registry/registry.js';
import { SqlSource } from '../../sources/sql/sql-source.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { dispatchConfig } from '../helpers/schedules.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';

const SITE = 'erp.example.com';

describe.each(SQL_TEST_DRIVERS)('$name: BTU rows fire as BTU fires them', (d) => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Applies the database's rows at `at` and returns a dispatcher on the same clock. */
  async function applyAt(
    db: TestDb,
    at: string,
  ): Promise<{ clock: ManualClock; dispatcher: Dispatcher; source: SqlSource }> {
    await redis.flushall();
    const clock = new ManualClock(Date.parse(at));
    const source = new SqlSource({
      driver: d.driver,
      config: { url: db.url, mode: 'btu', pollIntervalMs: 600_000 },
      ctx: DEFAULT_CONTEXT,
      site: SITE,
      btu: { runner: 'auto', overlap: 'allow' },
    });
    await reconcileOnce({ sources: [source], registry: new Registry(redis), clock });
    const dispatcher = new Dispatcher({ redis, keys: new Keys(), clock, config: dispatchConfig({ site: SITE }) });
    return { clock, dispatcher, source };
  }
  const next = async (id: string) => {
    const [e] = await new Registry(redis).readEntries([id]);
    return e?.next === undefined || e.next === null ? null : new Date(e.next).toISOString();
  };
  /** Ticks at each instant; returns the instants at which `id` was enqueued. */
  async function firesOf(
    clock: ManualClock,
    dispatcher: Dispatcher,
    id: string,
    instants: string[],
  ): Promise<string[]> {
    const out: string[] = [];
    for (const at of instants) {
      clock.set(Date.parse(at) + 20);
      const tick = await dispatcher.tickOnce();
      if (tick.schedules.some((s) => s.id === id && s.enqueued > 0)) out.push(at);
    }
    return out;
  }

  it('2025-26: a Daily 08:00 row in America/New_York fires at 08:00 New York time', async () => {
    const db = await d.createDb();
    const { clock, dispatcher, source } = await applyAt(db, '2026-06-01T11:00:00Z');
    try {
      expect(source.detail).toMatch(/BTU 2025-26 \(detected: tabBTU Task Schedule has a cron_timezone column\)/);
      expect(await next('TS-000003')).toBe('2026-06-01T12:00:00.000Z'); // 08:00 EDT
      expect(await firesOf(clock, dispatcher, 'TS-000003', ['2026-06-01T12:00:00Z'])).toEqual(['2026-06-01T12:00:00Z']);
    } finally {
      await source.close();
      await db.drop();
    }
  });

  it('2024: the same 08:00 stored by that app in UTC fires at 08:00 New York time too; Cron Style stays local', async () => {
    const db = await d.createDb();
    await db.exec('ALTER TABLE `tabBTU Task Schedule` DROP COLUMN cron_timezone');
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '0 12 * * *' WHERE name = 'TS-000003'");
    const { source } = await applyAt(db, '2026-06-01T11:00:00Z');
    try {
      expect(source.detail).toMatch(
        /BTU 2024 \(version-15 app\) \(detected: tabBTU Task Schedule has no cron_timezone/,
      );
      expect(await next('TS-000003')).toBe('2026-06-01T12:00:00.000Z');
      // TS-000001 is Cron Style "0 2 * * *" in the configuration's America/New_York: 06:00Z.
      expect(await next('TS-000001')).toBe('2026-06-02T06:00:00.000Z');
    } finally {
      await source.close();
      await db.drop();
    }
  });

  it('"*/15 * * * * * *" fires once a minute and a row with a year is scheduled', async () => {
    const db = await d.createDb();
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '*/15 * * * * * *' WHERE name = 'TS-000004'");
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '0 0 9 * * * 2027' WHERE name = 'TS-000005'");
    const { clock, dispatcher, source } = await applyAt(db, '2026-06-01T11:00:05Z');
    try {
      const every15s = ['11:00:15', '11:00:30', '11:00:45', '11:01:00', '11:01:15', '11:01:30', '11:01:45', '11:02:00'];
      expect(
        await firesOf(
          clock,
          dispatcher,
          'TS-000004',
          every15s.map((t) => `2026-06-01T${t}Z`),
        ),
      ).toEqual(['2026-06-01T11:01:00Z', '2026-06-01T11:02:00Z']);
      expect(await next('TS-000005')).toBe('2026-06-01T13:00:00.000Z'); // 09:00 EDT, every day as BTU fires it
      expect(source.detail).toMatch(
        /2 row\(s\) with a cron seconds or year field, dropped as BTU drops it: TS-000004, TS-000005/,
      );
    } finally {
      await source.close();
      await db.drop();
    }
  });

  it('the repeated autumn hour fires once per local time', async () => {
    const db = await d.createDb();
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '*/30 * * * *' WHERE name = 'TS-000004'");
    const { clock, dispatcher, source } = await applyAt(db, '2026-11-01T04:45:00Z');
    try {
      // 2026-11-01 in New York: 01:00-01:59 EDT (05:00Z-05:59Z), then again as EST (06:00Z-06:59Z).
      const halfHours = ['05:00', '05:30', '06:00', '06:30', '07:00'].map((t) => `2026-11-01T${t}:00Z`);
      expect(await firesOf(clock, dispatcher, 'TS-000004', halfHours)).toEqual([
        '2026-11-01T05:00:00Z',
        '2026-11-01T05:30:00Z',
        '2026-11-01T07:00:00Z',
      ]);
    } finally {
      await source.close();
      await db.drop();
    }
  });
});
