/**
 * The HTTP listener under hostile clients (issue 22, point 3), against a real daemon:
 * connections that send nothing are closed by the server; connections beyond the cap are
 * closed at once; without a token only loopback `Host` names are served (DNS rebinding);
 * parallel views of the status page cost one render.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { startDaemonWorld, stopDaemonWorld } from '../helpers/daemon-world.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import type { tmpDir } from '../helpers/tmp-dir.js';

// The documented limits (docs/security.md), written out so that the test states the contract.
const IDLE_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 128;
const HEADERS_TIMEOUT_MS = 10_000;
/** How long past the idle timeout the test waits for the server to close (generous: a loaded machine). */
const CLOSE_SLACK_MS = 15_000;

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
const daemons: DaemonProcess[] = [];
const sockets: net.Socket[] = [];

beforeEach(async () => {
  ({ server, redis, dir, schedules } = await startDaemonWorld());
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await stopDaemonWorld({ server, dir }, daemons);
});

async function daemon(name: string, extra = ''): Promise<{ d: DaemonProcess; port: number; base: string }> {
  const socket = join(dir.path, `${name}.sock`);
  const cfg = join(dir.path, `${name}.toml`);
  writeFileSync(
    cfg,
    `${extra}[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${socket}"\n`,
  );
  const d = await startDaemon(['--config', cfg, '--http', '127.0.0.1:0', '--log-level', 'debug'], { socket });
  daemons.push(d);
  const line = await d.waitForLog((l) => l.msg === 'http listener started');
  const base = `http://${String(line.http)}`;
  return { d, port: Number(new URL(base).port), base };
}

/** Opens a connection that sends nothing; resolves with it once connected. */
function idle(port: number): Promise<net.Socket & { closedAt?: number }> {
  return new Promise((resolve, reject) => {
    const s: net.Socket & { closedAt?: number } = net.createConnection({ port, host: '127.0.0.1' });
    sockets.push(s);
    s.on('close', () => (s.closedAt = Date.now()));
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** A raw GET with the given Host header: status line and body. */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ port, host: '127.0.0.1' });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

describe('HTTP listener limits', () => {
  it('closes 50 connections that send nothing, and keeps answering', async () => {
    const { port, base } = await daemon('idle');
    const t0 = Date.now();
    const conns = await Promise.all(Array.from({ length: 50 }, () => idle(port)));
    const deadline = t0 + IDLE_TIMEOUT_MS + CLOSE_SLACK_MS;
    while (conns.some((c) => c.closedAt === undefined) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    const open = conns.filter((c) => c.closedAt === undefined).length;
    expect(open, 'connections the server left open').toBe(0);
    // Not before the documented idle timeout (a little slack for timer granularity).
    for (const c of conns) expect(c.closedAt! - t0).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 500);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 60_000);

  it('closes a connection that trickles its request head, one byte every 2 s, at the headers timeout', async () => {
    const { port } = await daemon('trickle');
    const c = await idle(port);
    const head = `GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(100)}`;
    const t0 = Date.now();
    let i = 0;
    c.write(head[i++]!);
    const timer = setInterval(() => {
      if (!c.destroyed && i < head.length) c.write(head[i++]!);
    }, 2_000);
    try {
      const deadline = t0 + HEADERS_TIMEOUT_MS + CLOSE_SLACK_MS;
      while (c.closedAt === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    } finally {
      clearInterval(timer);
    }
    expect(c.closedAt, 'the server closed the connection').toBeDefined();
    expect(c.closedAt! - t0).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 500);
  }, 60_000);

  it(`closes connections beyond ${MAX_CONNECTIONS} at once`, async () => {
    const { port, base } = await daemon('cap');
    const conns = await Promise.all(Array.from({ length: MAX_CONNECTIONS + 40 }, () => idle(port)));
    await new Promise((r) => setTimeout(r, 1_000));
    const closed = conns.filter((c) => c.closedAt !== undefined).length;
    expect(closed).toBeGreaterThanOrEqual(40);
    for (const c of conns) c.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 30_000);

  it('without a token, serves only loopback Host names (DNS rebinding)', async () => {
    const { port } = await daemon('host');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST.']) {
      const r = await get(port, '/', host);
      expect(r.status, host).toBe(200);
      expect((await get(port, '/metrics', host)).status, host).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'attacker.test', `10.0.0.1:${port}`, '127.0.0.1.nip.io', '']) {
      const r = await get(port, '/', host);
      expect(r.status, host).toBe(421);
      expect(r.body).toMatch(/serves only loopback host names \(localhost, 127\.0\.0\.1, \[::1\]\)/);
      expect((await get(port, '/metrics', host)).status, host).toBe(421);
      // The probes reveal nothing and stay open (load balancers send their own Host).
      expect((await get(port, '/healthz', host)).status, host).toBe(200);
    }
  });

  it('with a token, any Host is served to whoever has the token', async () => {
    const { port } = await daemon('token', '[http]\ntoken = "s3cret-token"\n');
    const r = await new Promise<string>((resolve, reject) => {
      const s = net.createConnection({ port, host: '127.0.0.1' });
      let data = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (data += d));
      s.on('error', reject);
      s.on('close', () => resolve(data));
      s.write(
        `GET /metrics HTTP/1.1\r\nHost: pyrq.internal:${port}\r\nAuthorization: Bearer s3cret-token\r\nConnection: close\r\n\r\n`,
      );
    });
    expect(r).toMatch(/^HTTP\/1\.1 200/);
  });

  it('100 parallel views of the status page cost one render', async () => {
    writeFileSync(
      join(schedules, 'many.json'),
      JSON.stringify(
        Array.from({ length: 300 }, (_, i) => ({ id: `s-${i}`, function: 'app.tasks.run', cron: '0 3 * * *' })),
      ),
    );
    const { d, base } = await daemon('page');
    const { eventually } = await import('../helpers/daemon.js');
    await eventually(async () => (await redis.hlen('pyrq:index')) === 300, 'the schedules are applied', 15_000);
    const rendered = () => d.logs.filter((l) => l.msg === 'status page rendered').length;
    const views = await Promise.all(Array.from({ length: 100 }, () => fetch(`${base}/`)));
    expect(views.map((v) => v.status)).toEqual(Array(100).fill(200));
    const bodies = new Set(await Promise.all(views.map((v) => v.text())));
    expect(bodies.size).toBe(1);
    await new Promise((r) => setTimeout(r, 200)); // the log line is on its way
    expect(rendered()).toBe(1);
  });
});
