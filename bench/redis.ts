/**
 * The bench's own private redis-server on a free loopback port (the same recipe as
 * test/helpers/redis-server.ts, which is not compiled into dist): no persistence, so
 * nothing is written to disk and the machine's Redis is never touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';

export interface BenchRedis {
  url: string;
  pid: number;
  client(): Redis;
  /** Total calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
  commandCalls(c: Redis): Promise<Map<string, number>>;
  close(): Promise<void>;
}

const REDIS_SERVER = process.env.PYRQ_BENCH_REDIS_SERVER ?? 'redis-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

async function waitReady(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${log()}`);
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return;
    } catch {
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s: ${log()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  let out = '';
  const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d) => (out += String(d)));
  proc.stderr?.on('data', (d) => (out += String(d)));
  proc.on('error', (e) => (out += `spawn error: ${e.message}`));
  await waitReady(port, proc, () => out);
  const clients: Redis[] = [];
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid!,
    client() {
      const c = new Redis({ port, host: '127.0.0.1' });
      clients.push(c);
      return c;
    },
    async commandCalls(c) {
      const text = await c.info('commandstats');
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
      return out;
    },
    async close() {
      for (const c of clients) c.disconnect();
      if (proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
  };
}
