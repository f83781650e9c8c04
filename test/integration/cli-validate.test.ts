/**
 * `pyrq validate` takes the source flags too (--dir, --mysql-url), reads the configured
 * sources when given no path, and runs the plan's rules (duplicate ids, one-shots in the
 * past) against an empty registry; Redis is read only to tell an applied one-shot whose
 * time has passed from a new one.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq, ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const GOOD = join(ROOT, 'fixtures', 'schedules');
// No Redis at all: validate must not need one.
const env = {
  PYRQ_REDIS_URL: 'redis://127.0.0.1:1/0',
  PYRQ_CONFIG: undefined,
  PYRQ_DIR: undefined,
  PYRQ_MYSQL_URL: undefined,
};
let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('pyrq-validate-');
  cpSync(GOOD, join(tmp.path, 'schedules'), { recursive: true });
  // Redefines "heartbeat" from maintenance.json, and a one-shot in the past.
  writeFileSync(
    join(tmp.path, 'new.json'),
    JSON.stringify([
      { id: 'heartbeat', function: 'app.tasks.run', every: 60 },
      { id: 'late', function: 'app.tasks.run', at: '2020-01-01T00:00:00Z' },
    ]),
  );
});
afterAll(() => tmp.cleanup());

describe('pyrq validate', () => {
  it('--dir reads a directory as diff and apply do', async () => {
    const r = await pyrq(['validate', '--dir', GOOD], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: 13 schedules in 5 files$/m);
  });

  it('with no path, the configured sources: the environment, then the config file', async () => {
    const fromEnv = await pyrq(['validate', '--json'], { env: { ...env, PYRQ_DIR: GOOD } });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.json()).toMatchObject({ ok: true, files: 5, schedules: 13, errors: [] });
    const cfg = join(tmp.path, 'pyrq.toml');
    writeFileSync(cfg, '[files]\ndir = "schedules"\n');
    const fromFile = await pyrq(['validate', '--config', cfg], { env });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/ok: 13 schedules in 5 files/);
    const none = await pyrq(['validate'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no source is configured: pass --dir PATH/);
  });

  it('a path beside --dir: duplicate ids across them and one-shots in the past, as apply would refuse them', async () => {
    const r = await pyrq(['validate', join(tmp.path, 'new.json'), '--dir', join(tmp.path, 'schedules'), '--json'], {
      env,
    });
    expect(r.code).toBe(1);
    expect((r.json().errors as { text: string }[]).map((e) => e.text.replaceAll(tmp.path, 'TMP')).sort()).toEqual([
      'TMP/new.json: (id "late"): at: 2020-01-01T00:00:00Z is in the past; a one-shot schedule must be in the future when it is first applied',
      'maintenance.json: (id "heartbeat"): id is also defined in TMP/new.json',
    ]);
  });

  it('a file named twice (itself and through its directory) is one definition, not a duplicate', async () => {
    const r = await pyrq(['validate', join(GOOD, 'maintenance.json'), GOOD, '--dir', GOOD], { env });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a MySQL source that cannot be read is an error naming it', async () => {
    const r = await pyrq(['validate', '--mysql-url', 'mysql://pyrq@127.0.0.1:1/nowhere'], {
      env: { ...env, PYRQ_FRAPPE_SITE: 'site1' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Error: mysql:\/\/pyrq@127\.0\.0\.1:1\/nowhere: cannot read the database .*ECONNREFUSED/m,
    );
    expect(r.stdout).toMatch(/^1 error in the mysql source$/m);
  });
});

describe('pyrq validate and an applied one-shot whose time has passed (issue 12, point 7)', () => {
  it('is a note, not an error, consistent with diff; a new one in the past is still an error', async () => {
    const { startRedis } = await import('../helpers/redis-server.js');
    const { eventually } = await import('../helpers/eventually.js');
    const { fakeTimeEnv } = await import('../helpers/faketime.js');
    const server = await startRedis();
    const dir = tmpDir('pyrq-validate-past-');
    try {
      // The one-shot is 2 s ahead of us but a minute ahead of the apply, which runs with its
      // clock a minute slow: however long the apply takes to start on a loaded machine, the
      // time is in the future for it (it once took more than 3 s and refused "in the past").
      const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
      writeFileSync(
        join(dir.path, 'once.json'),
        JSON.stringify({ id: 'soon', function: 'app.tasks.run', at: at.toISOString() }),
      );
      const withRedis = { ...env, PYRQ_REDIS_URL: server.url };
      const applied = await pyrq(['apply', '--dir', dir.path], { env: { ...withRedis, ...fakeTimeEnv('-60s') } });
      expect(applied.code, applied.stderr).toBe(0);
      await eventually(() => Date.now() > at.getTime() + 500, {
        message: 'the one-shot time has passed',
        timeout: 10_000,
        every: 100,
      });
      const diffed = await pyrq(['diff', '--dir', dir.path], { env: withRedis });
      expect(diffed.code, diffed.stdout + diffed.stderr).toBe(0);
      const v = await pyrq(['validate', '--dir', dir.path, '--json'], { env: withRedis });
      expect(v.code, v.stdout).toBe(0);
      expect(v.json()).toMatchObject({
        ok: true,
        errors: [],
        notes: [expect.stringMatching(/^soon: its one-shot time has passed; it is applied already/)],
      });
      // Not applied: the same rule as apply.
      writeFileSync(
        join(dir.path, 'late.json'),
        JSON.stringify({ id: 'late', function: 'app.tasks.run', at: '2020-01-01T00:00:00Z' }),
      );
      const late = await pyrq(['validate', '--dir', dir.path, '--json'], { env: withRedis });
      expect(late.code).toBe(1);
      expect(late.json().errors.map((e: { id: string }) => e.id)).toEqual(['late']);
    } finally {
      dir.cleanup();
      await server.close();
    }
  }, 60_000);
});
