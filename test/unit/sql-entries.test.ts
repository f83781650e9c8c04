/** Issue 27 point 7: several SQL sources (`[[sql]]`, one per site of a bench) in the config file. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSecrets } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { SqlSource } from '../../sources/sql/sql-source.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let dir: ReturnType<typeof tmpDir>;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => dir.cleanup());

const config = (text: string, env: NodeJS.ProcessEnv = {}) => {
  const p = join(dir.path, 'pyrq.toml');
  writeFileSync(p, text);
  return loadConfig({ config: p }, env);
};

const TWO_SITES = `
[[sql]]
name = "site1"
url = "mariadb://root@127.0.0.1:3306/site1_db"
pollInterval = "2s"
frappe.site = "site1.example.com"
frappe.benchId = "bench-a"

[[sql]]
name = "site2"
url = "postgresql://postgres@127.0.0.1:5432/site2_db"
passwordFile = "pw.txt"
frappe = { site = "site2.example.com", benchId = "bench-b" }
`;

describe('[[sql]]: several SQL sources', () => {
  it('reads each entry with its own name, driver, site, bench id, poll and password; ids namespaced by name', () => {
    writeFileSync(join(dir.path, 'pw.txt'), 's3cret\n');
    const c = config(TWO_SITES, { PYRQ_SQL_SITE1_PASSWORD: 'from-env' });
    expect(c.sql).toEqual([
      expect.objectContaining({
        name: 'site1',
        driver: 'mysql',
        mode: 'btu',
        pollIntervalMs: 2000,
        site: 'site1.example.com',
        benchId: 'bench-a',
        password: 'from-env',
        idPrefix: 'site1.',
      }),
      expect.objectContaining({
        name: 'site2',
        driver: 'postgres',
        pollIntervalMs: 5000,
        site: 'site2.example.com',
        benchId: 'bench-b',
        password: 's3cret', // the file, relative to the config file
        idPrefix: 'site2.',
      }),
    ]);
    expect(configSecrets(c)).toEqual(expect.arrayContaining(['from-env', 's3cret']));
    expect(c.mysql).toBeUndefined();
  });

  it('builds one source per entry, under its name, with its id prefix', async () => {
    writeFileSync(join(dir.path, 'pw.txt'), 'x');
    const sources = sourcesFromConfig(config(TWO_SITES));
    try {
      expect(sources.map((s) => s.name)).toEqual(['site1', 'site2']);
      const [a, b] = sources as SqlSource[];
      expect(a).toBeInstanceOf(SqlSource);
      expect([a!.scheduleIdOf('TS-000001'), b!.scheduleIdOf('TS-000001')]).toEqual([
        'site1.TS-000001',
        'site2.TS-000001',
      ]);
      expect(b!.target).toBe('postgres://postgres@127.0.0.1:5432/site2_db');
    } finally {
      for (const s of sources) await s.close();
    }
  });

  it('one SQL source keeps its rows own ids; beside [mysql], an entry is namespaced and [mysql] is not', () => {
    const one = config('[[sql]]\nname = "site1"\nurl = "mysql://u@h/db"\nfrappe.site = "s1"\n');
    expect(one.sql![0]!.idPrefix).toBe('');
    const mixed = config(
      '[mysql]\nurl = "mysql://u@h/a"\nsite = "s0"\n[[sql]]\nname = "site1"\nurl = "mysql://u@h/b"\n',
    );
    expect(mixed.sql![0]!.idPrefix).toBe('site1.');
    const sources = sourcesFromConfig({ ...mixed, frappe: { ...mixed.frappe, site: 's0' } });
    expect(sources.map((s) => [s.name, (s as SqlSource).idPrefix])).toEqual([
      ['mysql', ''],
      ['site1', 'site1.'],
    ]);
    return Promise.all(sources.map((s) => s.close()));
  });

  it('refuses bad entries with the entry and the field named', () => {
    const bad = (text: string) => () => config(text);
    expect(bad('[[sql]]\nname = "site.1"\nurl = "mysql://u@h/db"\n')).toThrow(
      /sql\[0\]: name: "site\.1" is not a source name/,
    );
    expect(bad('[[sql]]\nname = "a"\nurl = "mysql://u@h/db"\n[[sql]]\nname = "a"\nurl = "mysql://u@h/db2"\n')).toThrow(
      /sql\[1\] \("a"\): name: another source is already called "a"/,
    );
    expect(bad('[mysql]\nurl = "mysql://u@h/a"\n[[sql]]\nname = "mysql"\nurl = "mysql://u@h/b"\n')).toThrow(
      /sql\[0\] \("mysql"\): name: another source is already called "mysql"/,
    );
    expect(bad('[[sql]]\nname = "files"\nurl = "mysql://u@h/b"\n')).toThrow(/another source is already called "files"/);
    expect(bad('[[sql]]\nname = "a"\nhost = "h"\ndatabase = "d"\n')).toThrow(
      /sql\[0\] \("a"\): driver: required without a url/,
    );
    expect(bad('[[sql]]\nname = "a"\nurl = "redis://h/0"\n')).toThrow(/url: the scheme is none of mysql:\/\//);
    expect(bad('[[sql]]\nname = "a"\n')).toThrow(/sql\[0\] \("a"\): url: required/);
    expect(bad('[[sql]]\nname = "a"\nurl = "mysql://u@h/d"\nmode = "query"\n')).toThrow(
      /query: required when mode is "query"/,
    );
    expect(bad('[[sql]]\nname = "a"\nurl = "mysql://u@h/d"\nsite = "x"\n')).toThrow(/site/); // frappe.site, not site
  });

  it('a BTU entry without a site, here or at the top, is refused when its source is built', () => {
    const c = config('[[sql]]\nname = "site1"\nurl = "mysql://u@h/db"\n');
    expect(() => sourcesFromConfig(c)).toThrow(/sql\[0\] \("site1"\): BTU mode needs the Frappe site/);
  });
});
