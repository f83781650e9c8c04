import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port.js';
import { tmpDir } from './tmp-dir.js';

/**
 * A private MariaDB server (its own data directory and port) that a test may stop and
 * start at will. The machine's shared MariaDB is never stopped by tests.
 */
export interface PrivateMariaDb {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startMariaDb(): Promise<PrivateMariaDb> {
  const dir = tmpDir('pyrq-mariadb-');
  const data = join(dir.path, 'data');
  mkdirSync(data);
  const init = spawnSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    proc = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir.path, 'sock')}`,
        `--pid-file=${join(dir.path, 'pid')}`,
        '--user=root',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stderr!.on('data', (d) => (log += String(d)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const c = await createConnection({ host: '127.0.0.1', port, user: 'root' });
        await c.end();
        return;
      } catch {
        if (proc.exitCode !== null || Date.now() > deadline)
          throw new Error(`private mariadbd did not start: ${log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    port,
    url: `mysql://root@127.0.0.1:${port}`,
    stop,
    start,
    async close() {
      await stop();
      dir.cleanup();
    },
  };
}
