/**
 * `pyrq validate` takes the source flags too (--dir, --mysql-url), reads the configured
 * sources when given no path, and runs the plan's rules (duplicate ids, one-shots in the
 * past) against an empty registry: no Redis involved.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq, ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const GOOD = join(ROOT, 'fixtures', 'schedules');
// No Redis at all: validate must not need one.
const env = { PYRQ_REDIS_URL: 'redis://127.0.0.1:1/0', PYRQ_CONFIG: undefined, PYRQ_DIR: undefined, PYRQ_MYSQL_URL: undefined };
let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('pyrq-validate-');
  cpSync(GOOD, join(tmp.path, 'schedules'), { recursive: true });
  // Redefines "heartbeat" from maintenance.json, and a one-shot in the past.
  writeFileSync(join(tmp.path, 'new.json'), JSON.stringify([{ id: 'heartbeat', function: 'app.tasks.run', every: 60 }, { id: 'late', function: 'app.tasks.run', at: '2020-01-01T00:00:00Z' }]));
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
    const r = await pyrq(['validate', join(tmp.path, 'new.json'), '--dir', join(tmp.path, 'schedules'), '--json'], { env });
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
    const r = await pyrq(['validate', '--mysql-url', 'mysql://pyrq@127.0.0.1:1/nowhere'], { env: { ...env, PYRQ_FRAPPE_SITE: 'site1' }, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: mysql:\/\/pyrq@127\.0\.0\.1:1\/nowhere: cannot read the database .*ECONNREFUSED/m);
    expect(r.stdout).toMatch(/^1 error\(s\) in the mysql source$/m);
  });
});
