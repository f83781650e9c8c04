import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port.js';

/**
 * Private redis-servers with what `startRedis()` leaves out: passwords, ACL users, TLS and
 * Sentinel. Each is a throwaway process on a free loopback port, stopped by `close()`. If
 * one cannot start, this throws with its output: a test that needs it fails, never skips.
 */
export interface SecureServer {
  port: number;
  /** An admin client (authenticated, over TLS when the server speaks only TLS). */
  client(): Redis;
  close(): Promise<void>;
}

const REDIS_SERVER = process.env.PYRQ_TEST_REDIS_SERVER ?? 'redis-server';

/**
 * Starts `redis-server` with `args` (port and bind are added) and waits until a client
 * built with `clientOptions` answers `ready` (default: PING).
 */
export async function spawnRedis(
  args: string[],
  clientOptions: RedisOptions,
  opts: { port?: number; ready?: (c: Redis) => Promise<boolean> } = {},
): Promise<SecureServer> {
  const port = opts.port ?? (await freePort());
  const proc: ChildProcess = spawn(REDIS_SERVER, [...args, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => (out += String(d)));
  proc.stderr?.on('data', (d) => (out += String(d)));
  proc.on('error', (e) => (out += `spawn error: ${e.message}`));
  const clients: Redis[] = [];
  const make = () => {
    const c = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...clientOptions,
    });
    c.on('error', () => {});
    return c;
  };
  const ready = opts.ready ?? (async (c: Redis) => (await c.ping()) === 'PONG');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited with ${proc.exitCode}: ${out}`);
    const c = make();
    try {
      await c.connect();
      if (await ready(c)) {
        c.disconnect();
        break;
      }
    } catch {
      // not up yet
    }
    c.disconnect();
    if (Date.now() > deadline)
      throw new Error(`redis-server ${args.join(' ')} did not become ready within 10 s: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    client() {
      const c = new Redis({ host: '127.0.0.1', port, ...clientOptions });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
  };
}

/** A redis-server that requires `password` for the default user. */
export async function startPasswordRedis(password: string): Promise<SecureServer> {
  const port = await freePort();
  return spawnRedis(['--port', String(port), '--requirepass', password], { password }, { port });
}

export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate,
 * all signed by that CA, written into `dir` with openssl.
 */
export function makeTlsFiles(dir: string): TlsFiles {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=pyrq test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  writeFileSync(f('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  for (const who of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=pyrq test ${who}`,
      '-keyout',
      f(`${who}.key`),
      '-out',
      f(`${who}.csr`),
    );
    const ext = who === 'server' ? ['-extfile', f('server.ext')] : [];
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${who}.crt`),
      ...ext,
    );
  }
  return {
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  };
}

/**
 * A redis-server that speaks only TLS (no plain port). `authClients`: whether it demands
 * a client certificate (redis-server's default is yes).
 */
export async function startTlsRedis(files: TlsFiles, authClients: boolean): Promise<SecureServer> {
  const port = await freePort();
  const tls = { ca: readFileSync(files.ca), cert: readFileSync(files.clientCert), key: readFileSync(files.clientKey) };
  return spawnRedis(
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      files.serverCert,
      '--tls-key-file',
      files.serverKey,
      '--tls-ca-cert-file',
      files.ca,
      '--tls-auth-clients',
      authClients ? 'yes' : 'no',
    ],
    { tls },
    { port },
  );
}

/**
 * One redis-sentinel (the redis-server binary in sentinel mode) monitoring the master on
 * `masterPort` as `name`. Its config file goes into `dir` (Sentinel rewrites it).
 */
export async function startSentinel(
  dir: string,
  name: string,
  masterPort: number,
  masterPassword?: string,
): Promise<SecureServer> {
  const port = await freePort();
  const conf = join(dir, `sentinel-${port}.conf`);
  const lines = [
    `port ${port}`,
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
    `sentinel down-after-milliseconds ${name} 60000`,
  ];
  if (masterPassword) lines.push(`sentinel auth-pass ${name} ${masterPassword}`);
  writeFileSync(conf, `${lines.join('\n')}\n`);
  return spawnRedis(
    [conf, '--sentinel'],
    {},
    {
      port,
      ready: async (c) => {
        const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null;
        return Array.isArray(addr) && addr[1] === String(masterPort);
      },
    },
  );
}
