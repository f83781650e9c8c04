import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { tmpDir } from './tmp-dir.js';

/**
 * A private PostgreSQL server (its own data directory and port) that checks passwords
 * (scram-sha-256). The machine's server trusts every local connection, so a test that
 * needs a wrong password to be refused, or a right one to be required, runs here.
 *
 * PostgreSQL refuses to run as root, so initdb and postgres run as the `postgres` user.
 */
export interface PrivatePostgres {
  port: number;
  /** Superuser URL with its password, e.g. postgres://postgres:pw@127.0.0.1:54321. */
  url: string;
  close(): Promise<void>;
}

function pgBin(): string {
  const r = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  if (!bin)
    throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  return bin;
}

function postgresUser(): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error('there is no "postgres" user to run a private PostgreSQL server as');
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

export async function startPostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  const owner = postgresUser();
  const dir = tmpDir('pyrq-postgres-');
  const data = join(dir.path, 'data');
  const sock = join(dir.path, 'sock');
  mkdirSync(sock);
  const password = `su-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir.path, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  for (const p of [dir.path, sock, pwfile]) chownSync(p, owner.uid, owner.gid);
  chmodSync(dir.path, 0o700);
  const as = { uid: owner.uid, gid: owner.gid, encoding: 'utf8' as const };
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8'],
    as,
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  let log = '';
  const proc: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${sock}`,
      '-c',
      'fsync=off',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'max_connections=20',
    ],
    { uid: owner.uid, gid: owner.gid, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stderr!.on('data', (d) => (log += String(d)));
  const url = `postgres://postgres:${password}@127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`private postgres did not start: ${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    url,
    async close() {
      if (proc.exitCode === null) {
        await new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill('SIGINT'); // fast shutdown
        });
      }
      dir.cleanup();
    },
  };
}
