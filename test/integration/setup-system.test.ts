/**
 * The set-up script (`scripts/setup-system.mjs`, run by `npm run demo`, `npm test` and
 * `.ci/run`): its dry run lists nothing missing on a prepared machine and names each
 * package removed from the list of installed ones, with the command that installs it.
 * The faked machines are lists of packages (`--installed FILE`); the last test asks this
 * machine's dpkg and services, which `.ci/run` has set up.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript (it runs before the build), no type declarations.
import { fixCommands, installCommand, NEEDS, PACKAGES, plan } from '../../scripts/setup-system.mjs';
import { ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const SCRIPT = join(ROOT, 'scripts', 'setup-system.mjs');
const ALL = Object.keys(PACKAGES);
// A prepared machine has the packages pyrq needs among many others.
const PREPARED = ['bash', 'coreutils', 'libc6', ...ALL, 'socat', 'nodejs'];
const tmp = tmpDir('pyrq-setup-');
afterAll(() => tmp.cleanup());

function setup(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: { ...process.env, PYRQ_SETUP: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function machine(name: string, packages: readonly string[]): string {
  const file = join(tmp.path, name);
  writeFileSync(file, `${packages.join('\n')}\n`);
  return file;
}

describe('the set-up script', () => {
  it('needs the packages the demo and the tests use', () => {
    expect(ALL).toEqual([
      'python3-rq',
      'redis-server',
      'mariadb-server',
      'postgresql',
      'openssl',
      'chromium',
      'faketime',
    ]);
    expect(NEEDS.demo.packages).toEqual(['python3-rq', 'redis-server']);
    expect(NEEDS.test.packages).toEqual(ALL);
    expect(NEEDS.ci.services).toEqual(['redis', 'mariadb', 'postgres']);
  });

  it('plan: nothing missing on a prepared list; each package removed from it is named, with its install command', async () => {
    for (const purpose of ['demo', 'test', 'ci'])
      expect(await plan(purpose, PREPARED, { probe: false })).toEqual({ packages: [], services: [] });
    for (const p of ALL) {
      const missing = await plan(
        'test',
        PREPARED.filter((x) => x !== p),
        { probe: false },
      );
      expect(missing, p).toEqual({ packages: [p], services: [] });
      expect(fixCommands(missing)).toEqual([installCommand([p])]);
      expect(installCommand([p])).toBe(`apt-get install -y --no-install-recommends ${p}`);
    }
    // The demo does not need the databases.
    expect(
      (
        await plan(
          'demo',
          PREPARED.filter((x) => x !== 'mariadb-server'),
          { probe: false },
        )
      ).packages,
    ).toEqual([]);
  });

  it('the dry run, as npm runs it: exit 0 on a prepared list; each removed package named, exit 1, nothing changed', async () => {
    const ok = await setup(['--for', 'test', '--dry-run', '--installed', machine('prepared', PREPARED)]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('pyrq set-up (test): nothing missing\n');
    for (const p of ALL) {
      const r = await setup([
        '--for',
        'test',
        '--dry-run',
        '--installed',
        machine(
          `without-${p}`,
          PREPARED.filter((x) => x !== p),
        ),
      ]);
      expect(r.code, p).toBe(1);
      expect(r.stdout, p).toContain(`  package ${p}: ${PACKAGES[p]}`);
      expect(r.stdout.match(/^ {2}package /gm), p).toHaveLength(1);
      expect(r.stdout, p).toContain(`Would run (as root):\n  ${installCommand([p])}\n`);
    }
    const two = await setup([
      '--dry-run',
      '--installed',
      machine(
        'two',
        PREPARED.filter((x) => x !== 'faketime' && x !== 'python3-rq'),
      ),
    ]);
    expect(two.stdout).toContain(`  ${installCommand(['python3-rq', 'faketime'])}`);
  });

  it('PYRQ_SETUP=check is a dry run; PYRQ_SETUP=skip skips; an unknown purpose is refused', async () => {
    const check = await setup(['--installed', machine('check', ['openssl'])], { PYRQ_SETUP: 'check' });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('Would run (as root):');
    const skip = await setup(['--installed', machine('skip', [])], { PYRQ_SETUP: 'skip' });
    expect(skip).toMatchObject({ code: 0, stdout: '' });
    const bad = await setup(['--for', 'prod', '--installed', machine('bad', PREPARED)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--for prod: expected one of demo, test, ci/);
  });

  it('this machine (set up by .ci/run) has everything: packages from dpkg, services probed', async () => {
    const r = await setup(['--for', 'ci', '--dry-run']);
    expect(r.stdout).toBe('pyrq set-up (ci): nothing missing\n');
    expect(r.code).toBe(0);
  });
});
