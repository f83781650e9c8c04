/**
 * CLI start-up (issue 14): `pyrq --help` imports no command, and `pyrq status` none of the
 * heavy modules other commands need (mysql2, pg, chokidar, the parse pool, yaml, TOML,
 * pino); answered by a daemon it does not even load ioredis. Checked by what the process
 * actually loads (a module loader hook that writes every URL it loads to a file, and
 * require's cache at exit), so it fails when an import chain brings one of them back,
 * whatever the timing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pyrq } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let preload: string;

beforeAll(async () => {
  server = await startRedis();
  dir = tmpDir();
  // The manifest is part of `npm run build`; a bare `tsc` build has none (or a stale one,
  // which bin/run.js removes): write it, as the build does. Only then: writing it removes
  // the bundle's stamp, and the other tests of the run use the bundle (npm test builds it).
  if (!existsSync(join(ROOT, 'oclif.manifest.json')))
    execFileSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'write-oclif-manifest.js')], { stdio: 'ignore' });
  const hooks = join(dir.path, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.PYRQ_TEST_LOADED, url + '\\n'); return next(url, context); }\n`,
  );
  preload = join(dir.path, 'register.mjs');
  // The load hook sees what is imported; CommonJS packages that pyrq require()s (ioredis,
  // cronstrue, the config parsers) never reach it, so require's cache is listed at exit too.
  writeFileSync(
    preload,
    `import { createRequire, register } from 'node:module';\nimport { appendFileSync } from 'node:fs';\nimport { pathToFileURL } from 'node:url';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
      `const cache = createRequire(import.meta.url).cache;\nprocess.on('exit', () => appendFileSync(process.env.PYRQ_TEST_LOADED, Object.keys(cache).map((f) => pathToFileURL(f).href + '\\n').join('')));\n`,
  );
});
afterAll(async () => {
  await server.close();
  dir.cleanup();
});

/** The packages and pyrq modules a `pyrq <args>` process loaded. */
async function loaded(
  args: string[],
  name: string,
): Promise<{ packages: Set<string>; modules: string[]; code: number | null; stdout: string; stderr: string }> {
  const file = join(dir.path, `${name}.loaded`);
  writeFileSync(file, '');
  const r = await pyrq(args, {
    // The compiled files, where each module is its own file (the bundle is one).
    env: {
      PYRQ_CONFIG: '',
      PYRQ_NO_BUNDLE: '1',
      PYRQ_TEST_LOADED: file,
      NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`,
    },
  });
  const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(
    urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter((p): p is string => p !== undefined),
  );
  const modules = urls.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 6));
  return { packages, modules, code: r.code, stdout: r.stdout, stderr: r.stderr };
}

const HEAVY = ['mysql2', 'pg', 'chokidar', 'yaml', '@iarna/toml', 'pino'];

describe('CLI start-up', () => {
  it('pyrq --help imports no command (the oclif manifest lists them)', async () => {
    const r = await loaded(['--help'], 'help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.modules.filter((m) => m.startsWith('cli/commands/'))).toEqual([]);
    for (const p of [...HEAVY, 'ioredis', 'zod']) expect(r.packages.has(p), p).toBe(false);
  });

  it("pyrq status (from Redis) loads ioredis but none of the other commands' modules", async () => {
    const r = await loaded(['status', '--no-daemon', '--redis-url', server.url], 'status');
    expect(r.code, r.stderr).toBe(0);
    expect(r.packages.has('ioredis')).toBe(true); // the control: the hook sees packages
    for (const p of HEAVY) expect(r.packages.has(p), p).toBe(false);
    expect(r.modules.filter((m) => /parse-pool|file-source|sql-source|dispatcher/.test(m))).toEqual([]);
  });

  it('pyrq apply from files loads no SQL driver; one with a MySQL source loads mysql2 alone', async () => {
    mkdirSync(join(dir.path, 'apply-schedules'));
    writeFileSync(
      join(dir.path, 'apply-schedules', 'a.json'),
      JSON.stringify({ id: 'a', function: 'm.f', every: '1h' }),
    );
    const files = await loaded(
      ['apply', '--dir', join(dir.path, 'apply-schedules'), '--redis-url', `${server.url}/3`],
      'apply-files',
    );
    expect(files.code, files.stderr).toBe(0);
    expect(files.packages.has('ioredis')).toBe(true);
    for (const p of ['mysql2', 'pg']) expect(files.packages.has(p), p).toBe(false);
    // The control: a MySQL source does require its driver (its pool opens for the read,
    // which fails here: nothing listens on port 1; `diff` exits 1, as with a stale source).
    const sql = await loaded(
      [
        'diff',
        '--mysql-url',
        'mysql://root@127.0.0.1:1/nodb',
        '--frappe-site',
        's.example',
        '--redis-url',
        `${server.url}/3`,
      ],
      'diff-mysql',
    );
    expect(sql.stdout + sql.stderr).toMatch(/ECONNREFUSED/);
    expect(sql.packages.has('mysql2')).toBe(true);
    expect(sql.packages.has('pg')).toBe(false);
  });

  it('pyrq status answered by a daemon loads no ioredis at all', async () => {
    mkdirSync(join(dir.path, 'schedules'));
    const socket = join(dir.path, 'd.sock');
    const d = await startDaemon(['--dir', join(dir.path, 'schedules'), '--redis-url', server.url], { socket });
    try {
      const r = await loaded(['status', '--socket', socket, '--redis-url', server.url], 'daemon');
      expect(r.code, r.stderr).toBe(0);
      expect(r.modules).toContain('src/control/client.js'); // it asked the daemon...
      expect(r.modules).not.toContain('src/redis/connect.js'); // ...and never opened Redis
      for (const p of [...HEAVY, 'ioredis']) expect(r.packages.has(p), p).toBe(false);
    } finally {
      await d.stop();
    }
  });
});
