import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { compileAllowlist } from '../../src/config/normalize-context.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let dir: ReturnType<typeof tmpDir>;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => dir.cleanup());

const file = (name: string, text: string) => {
  const p = join(dir.path, name);
  writeFileSync(p, text);
  return p;
};

describe('settings precedence: flags > env > file > defaults', () => {
  it('uses defaults with nothing set', () => {
    const c = loadConfig({}, {});
    expect(c.redis).toMatchObject({ url: 'redis://127.0.0.1:6379/0', prefix: 'pyrq:' });
    expect(c.timezone).toBe('UTC');
    expect(c.files).toBeUndefined();
    expect(c.dispatch).toMatchObject({ catchup: 'latest', overlap: 'allow', historyLength: 50 });
    expect(c.daemon).toMatchObject({ resyncIntervalMs: 900_000, leaseTtlMs: 2_500, socketMode: 0o660 });
  });

  it('file < env < flag, each level overriding the one below', () => {
    const cfg = file(
      'pyrq.toml',
      'timezone = "Europe/Berlin"\n[redis]\nurl = "redis://file:1/0"\nprefix = "f:"\n[files]\ndir = "sched"\n',
    );
    const fromFile = loadConfig({ config: cfg }, {});
    expect(fromFile.redis.url).toBe('redis://file:1/0');
    expect(fromFile.timezone).toBe('Europe/Berlin');
    expect(fromFile.files!.dir).toBe(join(dir.path, 'sched')); // relative to the config file
    const fromEnv = loadConfig({ config: cfg }, { PYRQ_REDIS_URL: 'redis://env:2/0', PYRQ_DIR: '/env/dir' });
    expect(fromEnv.redis.url).toBe('redis://env:2/0');
    expect(fromEnv.files!.dir).toBe('/env/dir');
    expect(fromEnv.redis.prefix).toBe('f:');
    const fromFlag = loadConfig(
      { config: cfg, redisUrl: 'redis://flag:3/0', prefix: 'x:' },
      { PYRQ_REDIS_URL: 'redis://env:2/0' },
    );
    expect(fromFlag.redis.url).toBe('redis://flag:3/0');
    expect(fromFlag.redis.prefix).toBe('x:');
  });

  it('finds the file through PYRQ_CONFIG, and reads YAML too', () => {
    const cfg = file(
      'pyrq.yaml',
      'redis:\n  url: redis://yaml:1/0\ndispatch:\n  catchup: all\n  startingDeadline: 10m\n',
    );
    const c = loadConfig({}, { PYRQ_CONFIG: cfg });
    expect(c.redis.url).toBe('redis://yaml:1/0');
    expect(c.dispatch).toMatchObject({ catchup: 'all', startingDeadline: 600, graceMs: 5000 });
    const g = file('g.yaml', 'dispatch:\n  grace: 30s\n');
    expect(loadConfig({ config: g }, {}).dispatch.graceMs).toBe(30_000);
  });

  it('names the file and the setting in errors', () => {
    expect(() => loadConfig({ config: join(dir.path, 'missing.toml') }, {})).toThrow(
      /missing\.toml: config file not found/,
    );
    const typo = file('typo.toml', '[redis]\nurll = "x"\n');
    expect(() => loadConfig({ config: typo }, {})).toThrow(
      /typo\.toml: redis\.urll: unknown field \(did you mean "url"\?\)/,
    );
    const badTz = file('tz.toml', 'timezone = "Mars/Base"\n');
    expect(() => loadConfig({ config: badTz }, {})).toThrow(/tz\.toml: timezone: unknown timezone "Mars\/Base"/);
    const world = file('mode.toml', '[daemon]\nsocketMode = "0666"\n');
    expect(() => loadConfig({ config: world }, {})).toThrow(/world-writable/);
    const dur = file('dur.toml', '[daemon]\nresyncInterval = "soon"\n');
    expect(() => loadConfig({ config: dur }, {})).toThrow(/daemon\.resyncInterval: "soon" is not a duration/);
    const syntax = file('syntax.toml', '[redis\n');
    expect(() => loadConfig({ config: syntax }, {})).toThrow(/syntax\.toml: cannot parse/);
  });

  it('reads the MySQL password from the named env var or a file, never from the config text', () => {
    const cfg = file('m.toml', '[mysql]\nurl = "mysql://pyrq@db/erp"\npasswordEnv = "MY_PW"\n');
    expect(loadConfig({ config: cfg }, { MY_PW: 'hunter22' }).mysql!.password).toBe('hunter22');
    const pw = file('pw', 'from-file\n');
    const cfg2 = file('m2.toml', `[mysql]\nurl = "mysql://pyrq@db/erp"\npasswordFile = "${pw}"\n`);
    expect(loadConfig({ config: cfg2 }, {}).mysql!.password).toBe('from-file');
    expect(loadConfig({ mysqlUrl: 'mysql://x@y/z' }, { PYRQ_MYSQL_PASSWORD: 'envpw' }).mysql).toMatchObject({
      url: 'mysql://x@y/z',
      password: 'envpw',
      mode: 'btu',
      pollIntervalMs: 5000,
    });
  });

  it('reads a postgres section like the mysql one (flag > PYRQ_POSTGRES_URL > file), and both may be configured at once', () => {
    const pw = file('pg.pw', 'pg-from-file\n');
    const cfg = file(
      'pg.toml',
      `[mysql]\nurl = "mysql://pyrq@db/erp"\n[postgres]\nurl = "postgres://pyrq@pg/erp"\npasswordFile = "${pw}"\npollInterval = "2s"\nsite = "pg.example.com"\n`,
    );
    const both = loadConfig(
      { config: cfg },
      { PYRQ_MYSQL_PASSWORD: 'my-pw', PYRQ_POSTGRES_PASSWORD: 'ignored: the file wins' },
    );
    expect(both.mysql).toMatchObject({ url: 'mysql://pyrq@db/erp', password: 'my-pw' });
    expect(both.postgres).toMatchObject({
      url: 'postgres://pyrq@pg/erp',
      password: 'pg-from-file',
      mode: 'btu',
      pollIntervalMs: 2000,
      site: 'pg.example.com',
    });
    expect(both.frappe.site).toBe('pg.example.com');
    expect(loadConfig({ config: cfg }, { PYRQ_POSTGRES_URL: 'postgres://env@pg/erp' }).postgres!.url).toBe(
      'postgres://env@pg/erp',
    );
    expect(
      loadConfig({ config: cfg, postgresUrl: 'postgres://flag@pg/erp' }, { PYRQ_POSTGRES_URL: 'postgres://env@pg/erp' })
        .postgres!.url,
    ).toBe('postgres://flag@pg/erp');
    expect(
      loadConfig({}, { PYRQ_POSTGRES_URL: 'postgres://x@y/z', PYRQ_POSTGRES_PASSWORD: 'envpw' }).postgres,
    ).toMatchObject({ password: 'envpw', pollIntervalMs: 5000 });
    expect(loadConfig({}, {}).postgres).toBeUndefined();
    const q = file('pgq.toml', '[postgres]\nurl = "postgres://pyrq@pg/erp"\nmode = "query"\n');
    expect(() => loadConfig({ config: q }, {})).toThrow(/postgres\.query: required when postgres\.mode is "query"/);
    const typo = file('pgt.toml', '[postgres]\nurl = "postgres://pyrq@pg/erp"\npollIntervall = "2s"\n');
    expect(() => loadConfig({ config: typo }, {})).toThrow(
      /postgres\.pollIntervall: unknown field \(did you mean "pollInterval"\?\)/,
    );
  });
});

describe('function allowlist globs', () => {
  it('* spans identifier characters and dots; nothing else is special', () => {
    const allow = compileAllowlist(['btu.*', 'myapp.tasks.*', 'exact.fn']);
    expect(allow('btu.tasks.run')).toBe(true);
    expect(allow('myapp.tasks.sub.send')).toBe(true);
    expect(allow('exact.fn')).toBe(true);
    expect(allow('exact.fnx')).toBe(false);
    expect(allow('myapp.other.send')).toBe(false);
    expect(allow('os.system')).toBe(false);
    expect(compileAllowlist([])('a.b')).toBe(false);
  });
});
