/**
 * Issue 27 point 3 end to end: a real daemon, a private Redis, a throwaway MariaDB or
 * PostgreSQL database with BTU's tables, and a stand-in for the BTU app that does what its
 * Task Schedule controller does: write the row in the request's transaction, LPUSH the
 * command on btu:scheduler:commands (SchedulerAPI), BLPOP the acknowledgement, and commit
 * 300 ms later, when the request ends.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginAppTransaction } from '../helpers/btu-app-tx.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { sendBtuCommand } from '../helpers/btu-command.js';

const APP_COMMIT_DELAY_MS = 300;
/** "Within a second of the commit": the bound, and the point of these tests. */
const AFTER_COMMIT_BOUND_MS = 1_000;

describe.each(SQL_TEST_DRIVERS)('$name: BTU commands sent before the commit, through a daemon', (d) => {
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let dir: ReturnType<typeof tmpDir>;
  let daemon: DaemonProcess;
  const figures: string[] = [];

  const spec = async (id: string): Promise<Record<string, unknown> | null> => {
    const s = await redis.hget(`pyrq:schedule:${id}`, 'spec');
    return s ? (JSON.parse(s) as Record<string, unknown>) : null;
  };

  const send = (requestType: string, id: string): Promise<unknown> => sendBtuCommand(redis, requestType, id);

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await d.createDb();
    dir = tmpDir();
    // A poll far longer than the test: only the command can bring a change in.
    const config = join(dir.path, 'pyrq.toml');
    writeFileSync(config, `[${d.name}]\nurl = "${db.url}"\npollInterval = "10m"\n`);
    daemon = await startDaemon(['--frappe-site', 'erp.example.com'], {
      socket: join(dir.path, 'd.sock'),
      env: {
        PYRQ_REDIS_URL: server.url,
        PYRQ_DIR: '',
        PYRQ_CONFIG: config,
        PYRQ_MYSQL_URL: '',
        PYRQ_POSTGRES_URL: '',
        PYRQ_FRAPPE_SITE: '',
        PYRQ_BTU_RPC: '',
      },
    });
    await eventually(() => spec('TS-000001'), 'the BTU rows are applied', 15_000);
  });
  afterAll(async () => {
    await daemon?.stop();
    await server?.close();
    await db?.drop();
    dir?.cleanup();
    if (figures.length) console.log(`BTU before-commit figures (${d.name}):\n  ${figures.join('\n  ')}`);
  });

  it('a disable sent before the commit stops the schedule at once and stays stopped after the commit', async () => {
    expect((await spec('TS-000002'))?.enabled).toBe(true);
    const tx = await beginAppTransaction(d.name, db.url);
    await tx.exec("UPDATE `tabBTU Task Schedule` SET enabled = 0, modified = NOW(6) WHERE name = 'TS-000002'");
    const sent = Date.now();
    expect(await send('cancel_task_schedule', 'TS-000002')).toMatchObject({ status: 'ok' });
    // Before the commit: already disabled in the registry (it cannot fire).
    await eventually(async () => (await spec('TS-000002'))?.enabled === false, 'cancel in force before the commit');
    figures.push(`cancel in force ${Date.now() - sent} ms after the command (before the commit)`);
    await new Promise((r) => setTimeout(r, APP_COMMIT_DELAY_MS));
    await tx.commit();
    // And it stays so once the committed row (disabled) decides.
    await new Promise((r) => setTimeout(r, AFTER_COMMIT_BOUND_MS));
    expect((await spec('TS-000002'))?.enabled).toBe(false);
  });

  it('an edit sent before the commit is in the registry within a second of the commit', async () => {
    const tx = await beginAppTransaction(d.name, db.url);
    await tx.exec(
      "UPDATE `tabBTU Task Schedule` SET cron_string = '41 5 * * *', modified = NOW(6) WHERE name = 'TS-000001'",
    );
    expect(await send('create_task_schedule', 'TS-000001')).toMatchObject({ status: 'ok' });
    await new Promise((r) => setTimeout(r, APP_COMMIT_DELAY_MS));
    expect((await spec('TS-000001'))?.cron).toBe('0 2 * * *'); // not committed yet
    await tx.commit();
    const committed = Date.now();
    await eventually(async () => (await spec('TS-000001'))?.cron === '41 5 * * *', 'the edit applied', 5_000, 10);
    const took = Date.now() - committed;
    figures.push(`edit in the registry ${took} ms after the commit`);
    expect(took).toBeLessThan(AFTER_COMMIT_BOUND_MS);
  });
});
