import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, ROOT, pyrq } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 17: `pyrq apply` output sized for people (collapsed, --quiet, --verbose), and
// Ctrl-C that says what was applied and that a re-run converges.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;

/** A directory with one file of `n` schedules. */
function plan(n: number, name: string): string {
  const d = join(dir.path, name);
  mkdirSync(d, { recursive: true });
  const schedules = Array.from({ length: n }, (_, i) => ({
    id: `job-${String(i).padStart(6, '0')}`,
    function: 'app.tasks.run',
    every: 60 + (i % 3600),
    kwargs: { n: i },
  }));
  writeFileSync(join(d, 'many.json'), JSON.stringify({ schedules }));
  return d;
}

const apply = (args: string[]) =>
  pyrq(['apply', '--redis-url', server.url, ...args], { env: { PYRQ_CONFIG: '' }, timeoutMs: 60_000 });

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
});

afterAll(async () => {
  await server.close();
  dir.cleanup();
});

beforeEach(async () => {
  await redis.flushall();
});

describe('pyrq apply output', () => {
  it('a large plan is collapsed by default and says how many lines it hid; --verbose prints every change; --quiet the summary only', async () => {
    const d = plan(120, 'p120');
    const collapsed = await apply(['--dir', d, '--dry-run']);
    expect(collapsed.code).toBe(2);
    expect(collapsed.stdout).toContain('  ... 70 more changes not shown (210 lines); --verbose prints them all');
    expect(collapsed.stdout).toContain('+ create job-000049');
    expect(collapsed.stdout).not.toContain('+ create job-000050');

    const verbose = await apply(['--dir', d, '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toContain('+ create job-000119');
    expect(verbose.stdout).not.toContain('more changes not shown');
    expect(verbose.stdout.trimEnd().split('\n').at(-1)).toBe(
      'Apply complete: 120 created, 0 updated, 0 deleted, 0 unchanged.',
    );

    await redis.flushall();
    const quiet = await apply(['--dir', d, '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.trimEnd()).toBe('Apply complete: 120 created, 0 updated, 0 deleted, 0 unchanged.');

    await redis.flushall();
    const normal = await apply(['--dir', d]);
    expect(normal.stdout).toContain('  ... 70 more changes not shown (140 lines)');
    expect(normal.stdout.split('\n').length).toBeLessThan(120);
    // Both at once is a usage error: EX_USAGE (issue 26).
    expect((await apply(['--dir', d, '--quiet', '--verbose'])).code).toBe(64);
  });

  it('Ctrl-C during a large apply says how many changes were applied and not; a re-run converges', async () => {
    const d = plan(40_000, 'p40k');
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))![1]);
    const child = spawn(process.execPath, [BIN, 'apply', '--dir', d, '--redis-url', server.url], {
      cwd: ROOT,
      env: { ...process.env, PYRQ_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Freeze Redis as soon as the first batch landed, so the interrupt surely comes mid-apply.
    await eventually(async () => (await redis.hlen('pyrq:index')) > 0, 'the first batch applied', 30_000, 2);
    process.kill(redisPid, 'SIGSTOP');
    try {
      child.kill('SIGINT');
      await eventually(
        async () => stderr.includes('Interrupted: finishing the changes in flight'),
        'the interrupt acknowledged',
        10_000,
      );
    } finally {
      process.kill(redisPid, 'SIGCONT');
    }
    expect(await exited).toBe(130);
    const applied = await redis.hlen('pyrq:index');
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(40_000);
    expect(stdout).toContain(
      `Interrupted after ${applied} of 40000 changes (${applied} created, 0 updated, 0 deleted); the other ${40_000 - applied} were not applied.`,
    );
    expect(stdout).toContain('run the same pyrq apply again to converge');

    const again = await apply(['--dir', d, '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(
      `Apply complete: ${40_000 - applied} created, 0 updated, 0 deleted, ${applied} unchanged.`,
    );
    expect((await apply(['--dir', d, '--quiet'])).stdout.trim()).toBe(
      'Apply complete: 0 created, 0 updated, 0 deleted, 40000 unchanged.',
    );
  });
});
