import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlSourceConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { formatSourceError, type SourceSnapshot } from '../../src/source.js';
import { SqlSource, type SqlSourceOptions } from '../../sources/sql/sql-source.js';
import { resolveSqlTarget } from '../../sources/sql/sql-target.js';
import { freePort } from '../helpers/free-port.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The SQL source against the machine's MariaDB and PostgreSQL: one suite, run once per
// driver, one throwaway database per test.
const BTU_TABLES = ['tabBTU Task Schedule', 'tabBTU Task', 'tabSingles'];
const VALID = ['TS-000001', 'TS-000002', 'TS-000003', 'TS-000004', 'TS-000005', 'TS-000008'];

describe.each(SQL_TEST_DRIVERS)('$name', (d) => {
  let db: TestDb;
  const sources: SqlSource[] = [];

  beforeEach(async () => {
    db = await d.createDb();
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.close();
    await db.drop();
  });

  function source(config: Partial<SqlSourceConfig> = {}, extra: Partial<SqlSourceOptions> = {}): SqlSource {
    const s = new SqlSource({
      driver: d.driver,
      config: { url: db.url, mode: 'btu', pollIntervalMs: 5000, ...config },
      ctx: DEFAULT_CONTEXT,
      site: 'erp.example.com',
      ...extra,
    });
    sources.push(s);
    return s;
  }

  /** Collects onChange calls; `next()` resolves at the next one (the test timeout bounds every wait). */
  function changes() {
    const waiters: (() => void)[] = [];
    let count = 0;
    return {
      get count() {
        return count;
      },
      onChange: () => {
        count++;
        for (const w of waiters.splice(0)) w();
      },
      next: () => new Promise<void>((r) => waiters.push(r)),
    };
  }

  /** Waits for change notifications until `pred` holds for a snapshot. */
  async function until(
    s: SqlSource,
    c: ReturnType<typeof changes>,
    pred: (snap: SourceSnapshot) => boolean,
  ): Promise<SourceSnapshot> {
    for (;;) {
      const next = c.next();
      const snap = await s.snapshot();
      if (pred(snap)) return snap;
      await next;
    }
  }

  const ids = (snap: SourceSnapshot) => snap.schedules.map((d) => d.spec.id);
  const spec = (snap: SourceSnapshot, id: string) => snap.schedules.find((d) => d.spec.id === id)?.spec;
  const bump = 'modified = NOW(6)';

  describe('reading BTU tables', () => {
    it('reads the fixture: valid rows become schedules, malformed enabled rows are held and reported by id', async () => {
      const snap = await source().snapshot();
      expect(snap.stale).toBe(false);
      expect(ids(snap)).toEqual(VALID);
      expect(snap.heldIds).toEqual(['TS-000006', 'TS-000007']);
      expect(snap.errors.map(formatSourceError)).toEqual([
        expect.stringMatching(
          /^tabBTU Task Schedule: \(id "TS-000006"\): argument_overrides: not a Python dict literal \(line 1, column 60: /,
        ),
        'tabBTU Task Schedule: (id "TS-000007"): cron_string: "61 25 * * *": minute out of range',
      ]);
      expect(spec(snap, 'TS-000002')).toMatchObject({
        timezone: 'Europe/Berlin',
        queue: 'default',
        timeout: 900,
        kwargs: { company: 'ACME', warehouse: 'Finished Goods - AC', days: 1, dry_run: false },
      });
      expect(spec(snap, 'TS-000008')?.enabled).toBe(false);
    });

    it('supports older BTU schemas without cron_timezone and the task queue_name', async () => {
      await db.exec(
        'ALTER TABLE `tabBTU Task Schedule` DROP COLUMN `cron_timezone`; ALTER TABLE `tabBTU Task` DROP COLUMN `queue_name`',
      );
      const snap = await source().snapshot();
      expect(ids(snap)).toEqual(VALID);
      expect(spec(snap, 'TS-000002')?.timezone).toBe('America/New_York');
    });

    it('is stale (not empty) when the database has no BTU tables', async () => {
      await db.exec('DROP TABLE `tabBTU Task`');
      const snap = await source().snapshot();
      expect(snap.stale).toBe(true);
      expect(snap.schedules).toEqual([]);
      expect(snap.errors.map(formatSourceError)).toEqual([
        expect.stringContaining(
          `table ${d.driver.quote('tabBTU Task')} does not exist in this database; is the BTU app installed`,
        ),
      ]);
    });

    it('sets every pooled session to autocommit READ COMMITTED, and a reused connection sees later commits', async () => {
      const reader = d.driver.connect(resolveSqlTarget(d.driver, { url: db.url, mode: 'btu', pollIntervalMs: 1000 }), {
        connectionLimit: 1,
      });
      try {
        const { rows } = await reader.read(d.sessionProbe.sql);
        expect(rows[0]).toEqual(d.sessionProbe.expected); // MySQL: BIGINT comes back as text (bigNumberStrings)
        const q = d.driver.quote;
        const cron = async () =>
          (
            await reader.read<{ c: string }>(
              `SELECT cron_string AS c FROM ${q('tabBTU Task Schedule')} WHERE name = ${d.driver.placeholder(1)}`,
              ['TS-000001'],
            )
          ).rows[0]?.c;
        expect(await cron()).toBe('0 2 * * *');
        await db.exec('UPDATE `tabBTU Task Schedule` SET cron_string = ? WHERE name = ?', ['5 2 * * *', 'TS-000001']);
        expect(await cron()).toBe('5 2 * * *');
      } finally {
        await reader.close();
      }
    });
  });

  describe('change detection', () => {
    it('picks up an edit of cron_string and modified through the poll', async () => {
      const s = source({ pollIntervalMs: 50 });
      const c = changes();
      await s.snapshot();
      await s.watch(c.onChange);
      await db.exec(`UPDATE \`tabBTU Task Schedule\` SET cron_string = '45 2 * * *', ${bump} WHERE name = 'TS-000001'`);
      const snap = await until(s, c, (x) => spec(x, 'TS-000001')?.cron === '45 2 * * *');
      expect(snap.stale).toBe(false);
    });

    it('picks up a deleted row, a task edit and a timezone change', async () => {
      const s = source({ pollIntervalMs: 50 });
      const c = changes();
      await s.snapshot();
      await s.watch(c.onChange);
      await db.exec("DELETE FROM `tabBTU Task Schedule` WHERE name = 'TS-000003'");
      await until(s, c, (x) => !ids(x).includes('TS-000003'));
      await db.exec(`UPDATE \`tabBTU Task\` SET max_task_duration = 60, ${bump} WHERE name = 'BTU-000000001'`);
      await until(s, c, (x) => spec(x, 'TS-000001')?.timeout === 60 && spec(x, 'TS-000002')?.timeout === 60);
      await db.exec(
        "UPDATE `tabSingles` SET value = 'Asia/Tokyo' WHERE doctype = 'BTU Configuration' AND field = 'cron_time_zone'",
      );
      const snap = await until(s, c, (x) => spec(x, 'TS-000001')?.timezone === 'Asia/Tokyo');
      expect(spec(snap, 'TS-000002')?.timezone).toBe('Europe/Berlin'); // its own cron_timezone wins
    });

    it('while watching, reuses its read until the token moves; a fresh snapshot always reads', async () => {
      const s = source({ pollIntervalMs: 60_000 });
      await s.snapshot();
      await s.watch(() => {});
      // An edit that bypasses Frappe (no `modified` bump, same row count) is invisible to the poll...
      await db.exec("UPDATE `tabBTU Task Schedule` SET enabled = 0 WHERE name = 'TS-000001'");
      expect(spec(await s.snapshot(), 'TS-000001')?.enabled).toBe(true);
      // ...until the full re-sync.
      expect(spec(await s.snapshot({ fresh: true }), 'TS-000001')?.enabled).toBe(false);
    });

    it('reloadIds refreshes just those rows: disabled, deleted, fixed', async () => {
      const s = source({ pollIntervalMs: 60_000 });
      await s.snapshot();
      await s.watch(() => {});
      await db.exec("UPDATE `tabBTU Task Schedule` SET enabled = 0 WHERE name = 'TS-000001'");
      await db.exec("DELETE FROM `tabBTU Task Schedule` WHERE name = 'TS-000002'");
      await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '1 2 * * *' WHERE name = 'TS-000007'");
      await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '2 2 * * *' WHERE name = 'TS-000004'");
      await s.reloadIds(['TS-000001', 'TS-000002', 'TS-000007']);
      const snap = await s.snapshot();
      expect(spec(snap, 'TS-000001')?.enabled).toBe(false);
      expect(ids(snap)).not.toContain('TS-000002');
      expect(spec(snap, 'TS-000007')?.cron).toBe('1 2 * * *');
      expect(snap.heldIds).toEqual(['TS-000006']);
      expect(spec(snap, 'TS-000004')?.cron).toBe('15 3 * * 0'); // not reloaded
    });
  });

  describe('failure is stale, not empty', () => {
    it('with nothing listening: stale, no schedules, the target and the reason in the error', async () => {
      const port = await freePort();
      const s = source({ url: `${d.scheme}//root:not-the-password@127.0.0.1:${port}/${db.name}` });
      const snap = await s.snapshot();
      expect(snap.stale).toBe(true);
      expect(snap.schedules).toEqual([]);
      expect(snap.errors).toHaveLength(1);
      expect(formatSourceError(snap.errors[0]!)).toMatch(
        new RegExp(
          `^${d.scheme}//root@127\\.0\\.0\\.1:${port}/${db.name}: cannot read the database .*ECONNREFUSED.*no schedules have been read yet`,
        ),
      );
      expect(JSON.stringify(snap)).not.toContain('not-the-password');
    });

    it('losing access keeps the last good schedules, logs once, and recovery applies edits made meanwhile', async () => {
      const user = await db.createUser(BTU_TABLES);
      const logDir = tmpDir();
      const logFile = join(logDir.path, 'pyrq.log');
      try {
        const logger = createLogger({ level: 'debug', file: logFile, sync: true });
        const s = source({ url: user.url, pollIntervalMs: 30 }, { logger, maxBackoffMs: 120 });
        const c = changes();
        expect(ids(await s.snapshot())).toEqual(VALID);
        await s.watch(c.onChange);

        await user.revoke();
        const stale = await until(s, c, (x) => x.stale);
        expect(ids(stale)).toEqual(VALID);
        expect(stale.heldIds).toEqual(['TS-000006', 'TS-000007']);
        const failure = stale.errors.map(formatSourceError).find((m) => m.includes('cannot read'));
        expect(failure).toMatch(
          new RegExp(
            `${d.denied.source} .*the last good schedules \\(6\\) are kept and nothing is deleted until it recovers`,
          ),
        );

        // Edit as the admin while the source cannot read, then give access back.
        await db.exec(
          `UPDATE \`tabBTU Task Schedule\` SET cron_string = '0 4 * * *', ${bump} WHERE name = 'TS-000001'`,
        );
        await user.grant();
        const back = await until(s, c, (x) => !x.stale);
        expect(spec(back, 'TS-000001')?.cron).toBe('0 4 * * *');

        const log = readFileSync(logFile, 'utf8');
        const lines = log
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { level: number; msg: string; kind?: string });
        // Once per kind of failure, not per attempt (dozens were made): a second line only
        // for a different kind, as when a pooled connection's "table access denied" becomes
        // a new connection's "database access denied" (seen under load).
        const staleLines = lines.filter((l) => l.level === 40 && l.msg.startsWith(`${d.name} source is stale`));
        expect(staleLines.length).toBeGreaterThanOrEqual(1);
        for (let i = 1; i < staleLines.length; i++)
          expect(staleLines[i]!.kind, `stale line ${i + 1} repeats its kind`).not.toBe(staleLines[i - 1]!.kind);
        expect(new Set(staleLines.map((l) => l.kind)).size).toBe(staleLines.length);
        expect(lines.filter((l) => l.level === 30 && l.msg.startsWith(`${d.name} source recovered`)).length).toBe(1);
        expect(log).not.toContain(user.password);
      } finally {
        logDir.cleanup();
      }
    });
  });

  describe('connections that die', () => {
    it('a pooled connection killed by the server (restart, wait_timeout) costs a reconnect, not a stale read', async () => {
      const user = await db.createUser(BTU_TABLES);
      const s = source({ url: user.url });
      expect((await s.snapshot()).stale).toBe(false);
      expect(await db.killSessions(user.name)).toBeGreaterThan(0);
      const snap = await s.snapshot();
      expect(snap.stale).toBe(false);
      expect(ids(snap)).toEqual(VALID);
    });

    it('a statement whose connection is killed while it runs is retried once on a fresh connection', async () => {
      const user = await db.createUser(BTU_TABLES);
      const pool = d.driver.connect(resolveSqlTarget(d.driver, { url: user.url, mode: 'btu', pollIntervalMs: 1000 }), {
        connectionLimit: 1,
      });
      try {
        const slow = pool.read(d.sleepSql);
        while ((await db.runningStatements(user.name)) === 0) await new Promise((r) => setTimeout(r, 20));
        expect(await db.killSessions(user.name)).toBe(1);
        const { rows } = await slow; // the second attempt, on a new connection, runs to the end
        expect(rows).toHaveLength(1);
      } finally {
        await pool.close();
      }
    });
  });

  describe('mode: query', () => {
    const fn = d.driver.quote('function');
    const QUERY = `SELECT job_key AS id, handler AS ${fn}, cron_expr AS cron, tz AS timezone, active AS enabled, params AS kwargs FROM jobs ORDER BY job_key`;

    beforeEach(async () => {
      await db.exec(d.jobsTable);
    });

    it('maps the rows, names bad JSON by id and column, and notices edits through the poll', async () => {
      const s = source({ mode: 'query', query: QUERY, pollIntervalMs: 50 });
      const c = changes();
      const snap = await s.snapshot();
      expect(ids(snap)).toEqual(['cleanup', 'report']);
      expect(spec(snap, 'report')).toMatchObject({
        function: 'app.tasks.report',
        timezone: 'Europe/Berlin',
        kwargs: { format: 'pdf' },
        enabled: true,
        target: 'rq',
      });
      expect(spec(snap, 'cleanup')).toMatchObject({ enabled: false, timezone: 'UTC' });
      expect(snap.heldIds).toEqual(['broken']);
      expect(snap.errors.map(formatSourceError)).toEqual([
        'query: row 1 (id "broken"): kwargs: is not valid JSON text: line 1, column 7: unexpected end of input',
      ]);
      await s.watch(c.onChange);
      await db.exec("UPDATE jobs SET cron_expr = '30 7 * * *' WHERE job_key = 'report'");
      await until(s, c, (x) => spec(x, 'report')?.cron === '30 7 * * *');
    });

    it("maps this database's native column types (bit/boolean, json/jsonb, datetime/timestamptz, bigint) the same way", async () => {
      await db.exec(d.nativeJobsTable);
      const snap = await source({
        mode: 'query',
        query: `SELECT id, fn AS ${fn}, run_at AS at, tz AS timezone, on_off AS enabled, params AS kwargs, ttl FROM native_jobs`,
      }).snapshot();
      expect(snap.errors).toEqual([]);
      expect(snap.schedules.map((x) => x.spec)).toMatchObject([
        {
          id: '9007199254740993',
          at: '2099-01-02T03:04:05Z',
          timezone: 'Europe/Berlin',
          enabled: true,
          kwargs: { n: 1 },
          ttl: 600,
        },
      ]);
    });

    it('a query whose columns are not schedule fields makes the source stale', async () => {
      const snap = await source({
        mode: 'query',
        query: `SELECT job_key AS id, handler AS ${fn}, cron_expr AS cronn FROM jobs`,
      }).snapshot();
      expect(snap.stale).toBe(true);
      expect(snap.errors.map(formatSourceError)).toEqual([expect.stringMatching(/"cronn" \(did you mean "cron"\?\)/)]);
    });
  });
});
