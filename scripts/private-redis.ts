/**
 * A throwaway redis-server on a free loopback port, for the demo, the benchmark and the
 * tests (test/helpers/redis-server.ts adds restarts and persistence on top). RQ's keys
 * have no prefix, so keeping away from the machine's Redis takes a separate server.
 * Compiled into dist (the demo and the bench run from there); the tests import the source.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';

/** Asks the kernel for a free TCP port on loopback (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no free port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

export interface LaunchedRedis {
  proc: ChildProcess;
  /** What the server printed (and a spawn error), for error messages. */
  output(): string;
}

/**
 * Starts `bin` on `port` (loopback, no RDB snapshots; `args` add to that) and resolves
 * once it answers PING. Rejects, with what the server said, if it exits, cannot be
 * started (`bin` not installed) or does not answer within 10 s.
 */
export async function launchRedisServer(
  bin: string,
  port: number,
  args: readonly string[] = ['--appendonly', 'no'],
): Promise<LaunchedRedis> {
  let out = '';
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d) => (out += String(d)));
  proc.stderr?.on('data', (d) => (out += String(d)));
  let spawnError: NodeJS.ErrnoException | undefined;
  proc.on('error', (e: NodeJS.ErrnoException) => (spawnError = e));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError)
      throw new Error(
        spawnError.code === 'ENOENT'
          ? `"${bin}" not found: install Redis (e.g. apt-get install redis-server)`
          : `cannot start ${bin}: ${spawnError.message}`,
      );
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${out}`);
    const c = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return { proc, output: () => out };
    } catch {
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s: ${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Stops a launched server (SIGKILL when `hard`) and waits until it has exited. */
export async function stopRedisServer(proc: ChildProcess, hard = false): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
  });
}
