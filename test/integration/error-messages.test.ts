import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, pyrq } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 17: each bad input gets a message that names it and says what to do, within a
// time limit: a command that hangs is killed and fails the test (its exit code is null).
const LIMIT_MS = 15_000;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;

beforeAll(() => {
  dir = tmpDir();
  schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
  writeFileSync(join(schedules, 'a.json'), JSON.stringify({ id: 'a', function: 'app.tasks.run', every: 60 }));
});

afterAll(() => dir.cleanup());

async function refused(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await pyrq(args, { env: { PYRQ_CONFIG: '', ...env }, timeoutMs: LIMIT_MS });
  expect(r.code, `hung or crashed (killed after ${LIMIT_MS} ms): ${r.stderr}`).toBe(1);
  return r;
}

const daemon = (socket: string) =>
  refused(['daemon', '--dir', schedules, '--redis-url', 'redis://127.0.0.1:1', '--socket', socket]);

describe('URLs with the wrong scheme', () => {
  it('--redis-url http://… says it is not a Redis URL and what one looks like', async () => {
    for (const cmd of [
      ['status', '--no-daemon'],
      ['apply', '--dir', schedules],
      ['daemon', '--dir', schedules, '--socket', join(dir.path, 'r.sock')],
    ]) {
      const r = await refused([...cmd, '--redis-url', 'http://127.0.0.1:6391']);
      expect(r.stderr).toContain(
        'redis.url (--redis-url, PYRQ_REDIS_URL): "http://127.0.0.1:6391" has the scheme "http:"; use redis://host:6379/0',
      );
    }
  });

  it('--mysql-url and --postgres-url with a wrong scheme say which scheme to use', async () => {
    const my = await refused([
      'apply',
      '--mysql-url',
      'http://127.0.0.1/erpnext',
      '--redis-url',
      'redis://127.0.0.1:1',
    ]);
    expect(my.stderr).toContain('mysql.url: scheme "http:" is not supported; use mysql://user@host:3306/database');
    const pg = await refused([
      'apply',
      '--postgres-url',
      'mysql://127.0.0.1/erpnext',
      '--redis-url',
      'redis://127.0.0.1:1',
    ]);
    expect(pg.stderr).toContain(
      'postgres.url: scheme "mysql:" is not supported; use postgres://user@host:5432/database',
    );
  });
});

describe('socket paths the daemon cannot use', () => {
  it('a parent that cannot be created (/proc/nope: this used to spin at 100% CPU)', async () => {
    const r = await daemon('/proc/nope/pyrq.sock');
    expect(r.stderr).toContain(
      'socket path /proc/nope/pyrq.sock: cannot create the directory /proc/nope (ENOENT); create it (mkdir -p /proc/nope)',
    );
    expect(r.stderr).toContain('choose another path with --socket');
  });

  it('a missing parent that can be created is created', async () => {
    const parent = join(dir.path, 'run', 'pyrq');
    const d = await startDaemon(['--dir', schedules, '--redis-url', 'redis://127.0.0.1:1'], {
      socket: join(parent, 'pyrq.sock'),
    });
    await d.stop('SIGKILL');
    expect(readdirSync(join(dir.path, 'run'))).toEqual(['pyrq']);
  });

  it('a parent that is a file', async () => {
    const file = join(dir.path, 'plain-file');
    writeFileSync(file, '');
    const r = await daemon(join(file, 'pyrq.sock'));
    expect(r.stderr).toContain(
      `socket path ${file}/pyrq.sock: ${file} is not a directory; choose another path with --socket (PYRQ_SOCKET, daemon.socket)`,
    );
  });

  it('a parent this user cannot write to (even root cannot create files in /proc/self)', async () => {
    const r = await daemon('/proc/self/pyrq.sock');
    expect(r.stderr).toMatch(
      /socket path \/proc\/self\/pyrq\.sock: this user \(uid \d+\) cannot create files in \/proc\/self \(E\w+\); give it write access or choose another path/,
    );
  });

  it('a path longer than AF_UNIX allows: refused, and no socket appears at a truncated path', async () => {
    const long = join(dir.path, 'long', 'x'.repeat(140 - dir.path.length), 'pyrq.sock');
    const r = await daemon(long);
    expect(r.stderr).toMatch(
      new RegExp(
        `socket path .* is ${Buffer.byteLength(long)} bytes long; a Unix socket path can have at most 107: choose another path with --socket`,
      ),
    );
    expect(readdirSync(dir.path)).not.toContain('long');
    // The client side says the same instead of connecting to a truncated path.
    const c = await refused(['reconcile', '--socket', long]);
    expect(c.stderr).toContain(`no daemon answered at ${long}: the path is ${Buffer.byteLength(long)} bytes long`);
  });
});

describe('no daemon', () => {
  it('says where it asked and why nothing answered', async () => {
    const missing = join(dir.path, 'nobody.sock');
    const r = await refused(['reconcile', '--socket', missing]);
    expect(r.stderr).toContain(
      `no daemon answered at ${missing}: no socket there; is "pyrq daemon" running? (--socket, PYRQ_SOCKET or daemon.socket)`,
    );
    const notSocket = join(dir.path, 'plain.sock');
    writeFileSync(notSocket, '');
    const n = await refused(['reconcile', '--socket', notSocket]);
    expect(n.stderr).toContain(`no daemon answered at ${notSocket}: `);
  });
});
