/**
 * The two builds operators install besides the package itself (issue 25): the bundle
 * (`npm run build:bundle`, bundle/pyrq.cjs) and the single executable (`npm run
 * build:sea`), each run as a user would, against a real Redis. Both are built here, once,
 * from the compiled code (`npm run build` first, as for every test); a failed build fails
 * the file with the builder's own message.
 *
 * The executable runs from a directory of its own, with an environment that names no
 * Node (no PATH): everything it reads (Lua scripts, package.json, the oclif manifest, the
 * parse worker) must be inside it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
/** Inside the package (the bundle finds the package root above it), apart from bundle/. */
let bundleDir: string;
let sea: string;

/** Runs a build script of dist/scripts; throws with its output when it fails. */
function buildStep(script: string, args: string[]): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'dist', 'scripts', script), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 240_000,
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${script} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`, {
      cause: e,
    });
  }
}

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir('pyrq-dist-');
  bundleDir = join(ROOT, 'test-artifacts', `bundle-${process.pid}`);
  buildStep('build-bundle.js', ['--out', bundleDir]);
  // The executable alone in a directory with the schedules and nothing of the repository.
  const home = join(dir.path, 'sea');
  mkdirSync(home);
  sea = join(home, 'pyrq');
  buildStep('build-sea.js', ['--bundle', join(bundleDir, 'pyrq.cjs'), '--out', sea]);
  mkdirSync(join(dir.path, 'few'));
  for (const f of ['billing.toml', 'maintenance.json', 'reports.yaml'])
    copyFileSync(join(ROOT, 'fixtures', 'schedules', f), join(dir.path, 'few', f));
  // Enough files for the parse workers (src/package-files.ts: the executable starts them from code).
  mkdirSync(join(dir.path, 'many'));
  for (let i = 0; i < 30; i++)
    writeFileSync(
      join(dir.path, 'many', `f${i}.json`),
      JSON.stringify({ schedules: [{ id: `many-${i}`, function: 'tasks.f', every: '1h' }] }),
    );
}, 300_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.close();
  dir?.cleanup();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` with no PATH and no PYRQ_* settings, in `cwd`. */
function run(cmd: string[], cwd: string, timeoutMs = 60_000, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd,
      env: { HOME: dir.path, PYRQ_CONFIG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const builds: [string, () => string[]][] = [
  ['the bundle (node bundle/pyrq.cjs)', () => [process.execPath, join(bundleDir, 'pyrq.cjs')]],
  ['the single executable', () => [sea]],
];

describe.each(builds)('%s', (name, pyrq) => {
  const db = name.includes('single') ? 2 : 1;
  const url = () => `${server.url}/${db}`;

  it('--version', async () => {
    const r = await run([...pyrq(), '--version'], dir.path);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^pyrq/${version.replaceAll('.', '\\.')} \\S+ node-v\\d+`));
    expect(r.stderr).toBe('');
  });

  it('a usage error under NODE_ENV=development prints the error and the usage, no oclif TypeScript warning', async () => {
    const r = await run([...pyrq(), 'stauts'], dir.path, 60_000, { NODE_ENV: 'development' });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr.split('\n')[0]).toBe('Error: unknown command "stauts" (did you mean pyrq status?)');
    expect(r.stderr).not.toMatch(/typescript/i);
  });

  it('validate, apply (with parse workers) and status against Redis', async () => {
    await redis.select(db);
    await redis.flushdb();
    const v = await run([...pyrq(), 'validate', '--dir', 'few'], dir.path);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^ok: \d+ schedules in 3 files/m);
    expect(v.stderr).toBe(''); // no warning (the executable's require() of a module it lacks)
    const a = await run([...pyrq(), 'apply', '--dir', 'few', '--redis-url', url(), '--quiet'], dir.path);
    expect(a.code, a.stderr).toBe(0);
    expect(await redis.hkeys('pyrq:index')).toContain('nightly-invoices'); // the Lua script ran
    const m = await run([...pyrq(), 'apply', '--dir', 'many', '--redis-url', url(), '--json'], dir.path);
    expect(m.code, m.stderr).toBe(0);
    const s = await run([...pyrq(), 'status', '--no-daemon', '--redis-url', url(), '--json'], dir.path);
    expect(s.code, s.stderr).toBe(0);
    const ids = (JSON.parse(s.stdout) as { schedules: { id: string }[] }).schedules.map((x) => x.id);
    expect(ids).toContain('many-29');
    expect(ids).not.toContain('nightly-invoices'); // the second apply owns the registry now
  });
});

describe('the single executable runs the daemon', () => {
  let daemon: ChildProcess | undefined;
  afterAll(() => {
    daemon?.kill('SIGKILL');
  });

  it('leads, reconciles and fires (an every-second schedule lands in its RQ queue), and stops on SIGTERM', async () => {
    await redis.select(3);
    await redis.flushdb();
    const schedules = join(dir.path, 'daemon-schedules');
    mkdirSync(schedules);
    writeFileSync(
      join(schedules, 'tick.json'),
      JSON.stringify({ schedules: [{ id: 'tick', function: 'tasks.tick', every: '1s', queue: 'sea' }] }),
    );
    const d = spawn(
      sea,
      ['daemon', '--dir', schedules, '--redis-url', `${server.url}/3`, '--socket', join(dir.path, 'd.sock')],
      {
        cwd: dir.path,
        // Its state file in the test's directory: as root the default is /var/lib/pyrq,
        // where a test must not write.
        env: { HOME: dir.path, PYRQ_CONFIG: '', PYRQ_STATE_DIR: join(dir.path, 'state') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    daemon = d;
    let log = '';
    d.stdout.on('data', (b) => (log += String(b)));
    d.stderr.on('data', (b) => (log += String(b)));
    const exited = new Promise<number | null>((resolve) => d.on('exit', (code) => resolve(code)));
    await eventually(async () => (await redis.llen('rq:queue:sea')) > 0, {
      message: 'a job of the every-second schedule in rq:queue:sea',
      timeout: 45_000,
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${log.slice(-2000)}`);
    });
    d.kill('SIGTERM');
    expect(await exited, log.slice(-2000)).toBe(0);
    expect(log).toContain('"msg":"pyrq daemon stopped"');
  });
});
