/**
 * The smaller rough edges of issue 26, point 5, each as the built CLI shows it: a log
 * level that does not exist, a missing directory, a deprecated flag's warning, the BTU
 * site error, MySQL refusing a user without a password, one word for "Error:".
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq, ROOT } from '../helpers/cli.js';
import { createThrowawayDb, MYSQL_HOST, MYSQL_PORT, type ThrowawayDb } from '../helpers/mysql.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { startDaemon } from '../helpers/daemon.js';

const env = { PYRQ_CONFIG: '' };
let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;

beforeAll(async () => {
  server = await startRedis();
  dir = tmpDir('pyrq-rough-');
});
afterAll(async () => {
  await server?.close();
  dir?.cleanup();
});

describe('rough edges', () => {
  it('--log-level verbose: a clear error with the levels, on one-shot commands and the daemon alike', async () => {
    const one = await pyrq(['status', '--no-daemon', '--redis-url', server.url, '--log-level', 'verbose'], { env });
    expect(one.code).toBe(1);
    expect(one.stderr).toContain(
      'log.level (or PYRQ_LOG_LEVEL, --log-level): "verbose" is not one of trace, debug, info, warn, error, fatal, silent',
    );
    expect((await pyrq(['status', '--no-daemon', '--log-level', 'debu'], { env })).stderr).toContain(
      '(did you mean "debug"?)',
    );
    const daemon = await startDaemon(
      ['--dir', join(ROOT, 'fixtures', 'schedules'), '--redis-url', server.url, '--log-level', 'verbose'],
      { socket: join(dir.path, 'd.sock'), waitReady: false },
    );
    expect(await daemon.exited).toBe(1);
    expect(daemon.stderr()).toContain('"verbose" is not one of trace, debug');
  });

  it('validate --dir of a missing directory: a sentence, not a raw ENOENT; counts in words', async () => {
    const r = await pyrq(['validate', '--dir', join(dir.path, 'missing')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Error: ${join(dir.path, 'missing')}: cannot read the schedules directory: no such directory`,
    );
    expect(r.stderr).not.toMatch(/ENOENT/);
    expect(r.stdout.trim()).toBe('1 error in 0 files');
  });

  it('history --limit warns once that it is deprecated', async () => {
    const r = await pyrq(['history', 'x', '--limit', '3', '--redis-url', server.url], { env });
    expect(r.stderr.match(/"--limit" flag has been deprecated/g)).toHaveLength(1);
  });

  it('BTU mode without a site names --frappe-site', async () => {
    const r = await pyrq(['diff', '--mysql-url', 'mysql://root@127.0.0.1:3306/x', '--redis-url', server.url], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('BTU mode needs the Frappe site its schedules run on: pass --frappe-site SITE');
  });

  describe('MySQL refusing a user', () => {
    let db: ThrowawayDb;
    beforeAll(async () => {
      db = await createThrowawayDb({ sqlFile: join(ROOT, 'fixtures', 'btu.sql') });
    });
    afterAll(async () => db?.drop());

    it('without a password: the message names PYRQ_MYSQL_PASSWORD', async () => {
      const user = await db.createUser(['tabBTU Task Schedule']);
      const url = `mysql://${user.name}@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`;
      const r = await pyrq(['diff', '--mysql-url', url, '--frappe-site', 's1', '--redis-url', server.url], {
        env: { ...env, PYRQ_MYSQL_PASSWORD: '' },
      });
      expect(r.stdout).toMatch(/Access denied .*no password was sent: set PYRQ_MYSQL_PASSWORD/);
    });
  });

  it('the http listener says whether it asks for a token, instead of a "token" field that is always "***"', async () => {
    const daemon = await startDaemon(
      ['--dir', join(ROOT, 'fixtures', 'schedules'), '--redis-url', server.url, '--http', '0', '--prefix', 'http:'],
      { socket: join(dir.path, 'h.sock') },
    );
    try {
      const line = await daemon.waitForLog((l) => l.msg === 'http listener started');
      expect(line.auth).toBe('none');
      expect(line).not.toHaveProperty('token');
    } finally {
      await daemon.stop();
    }
  });

  it('a schedules directory that goes away is logged as "the whole directory", not "."', async () => {
    const d = join(dir.path, 'comes-back');
    mkdirSync(d);
    writeFileSync(join(d, 'a.json'), JSON.stringify([{ id: 'a', function: 'app.tasks.run', every: 60 }]));
    const daemon = await startDaemon(
      ['--dir', d, '--redis-url', server.url, '--prefix', 'back:', '--log-level', 'info'],
      {
        socket: join(dir.path, 'b.sock'),
      },
    );
    try {
      await daemon.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
      // The directory goes away (its schedules are kept: the source is stale): the reason names it in words.
      rmSync(d, { recursive: true });
      // The files inside may be reported first (the watcher sees each removal); the
      // directory's own event must come, named in words.
      const gone = await daemon.waitForLog(
        (l) => l.msg === 'reconcile' && /^files changed: .*the whole directory/.test(String(l.reason)),
        15_000,
      );
      expect(String(gone.reason)).toMatch(/^files changed: .*the whole directory/);
      const reasons = daemon.logs.filter((l) => typeof l.reason === 'string').map((l) => String(l.reason));
      expect(
        reasons.some((r) => /(: |, )\.(,|$)/.test(r)),
        reasons.join(' | '),
      ).toBe(false);
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('status after a pyrq apply (no daemon yet) says the sources were applied, not "No reconcile recorded yet"', async () => {
    const d = join(ROOT, 'fixtures', 'schedules');
    expect((await pyrq(['apply', '--dir', d, '--redis-url', server.url, '--prefix', 'st:'], { env })).code).toBe(0);
    const r = await pyrq(['status', '--no-daemon', '--redis-url', server.url, '--prefix', 'st:'], { env });
    expect(r.stdout).not.toContain('No reconcile recorded yet');
    expect(r.stdout).toMatch(/No daemon reconcile recorded yet; the sources were last applied by pyrq apply \S+ ago\./);
  });

  it('"Error:" with a capital E on every command', async () => {
    const pause = await pyrq(['pause', 'no-such', '--redis-url', server.url], { env });
    expect(pause.stderr).toMatch(/^Error: no schedule "no-such"/m);
    const validate = await pyrq(['validate', join(ROOT, 'fixtures', 'bad')], { env });
    expect(validate.stderr).toMatch(/^Error: /m);
    expect(validate.stderr).not.toMatch(/^error: /m);
  });
});
