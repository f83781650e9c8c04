/**
 * The control socket under hostile local users (issue 22, points 5 and 7), against real
 * daemons: a socket path squatted by another user is refused with a clear message, before
 * a byte is sent to the squatter; a directory anyone can rewrite is refused; a client that
 * trickles one byte every 2 s is cut at the documented `daemon.clientTimeout` (10 s).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { startDaemonWorld, stopDaemonWorld } from '../helpers/daemon-world.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import type { tmpDir } from '../helpers/tmp-dir.js';

/** The documented default of `daemon.clientTimeout` (docs/configuration.md). */
const CLIENT_TIMEOUT_MS = 10_000;
/** Slack past the deadline for a loaded machine. */
const SLACK_MS = 4_000;
/** Another user: `nobody`. */
const OTHER_UID = 65534;

let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
const daemons: DaemonProcess[] = [];
const closers: (() => void)[] = [];

beforeEach(async () => {
  ({ server, dir } = await startDaemonWorld());
});
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await stopDaemonWorld({ server, dir }, daemons);
});

function config(name: string, socket: string): string {
  const cfg = join(dir.path, `${name}.toml`);
  writeFileSync(cfg, `[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${socket}"\n`);
  return cfg;
}

/** A squatter: listens on `path`, owned by another user, answers anything like a pyrq daemon would. */
async function squat(path: string): Promise<{ received: () => string }> {
  let received = '';
  const srv = net.createServer((s) => {
    s.on('data', (d) => {
      received += String(d);
      s.write('{"ok":true,"result":{"pong":true}}\n');
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(path, r));
  chownSync(path, OTHER_UID, OTHER_UID);
  chmodSync(path, 0o666);
  closers.push(() => srv.close());
  return { received: () => received };
}

describe('the socket is ours', () => {
  it('refuses a socket path squatted by another user, without talking to it', async () => {
    expect(process.getuid?.(), 'the test needs root to create a socket owned by another user').toBe(0);
    const sock = join(dir.path, 'btu_scheduler.sock');
    const squatter = await squat(sock);
    const r = await pyrq(['daemon', '--config', config('sq', sock)], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.replace(/\s+/g, ' ')).toContain(
      `socket path ${sock} exists and belongs to uid ${OTHER_UID}, not to this daemon's user (uid 0) or root: another user may have created it to receive the daemon's clients, so pyrq neither talks to it nor removes it`,
    );
    expect(r.stderr).toContain('/run/pyrq/pyrq.sock');
    expect(squatter.received()).toBe('');
    expect(existsSync(sock)).toBe(true); // not removed either
  });

  it("refuses a world-writable directory without the sticky bit and another user's directory; a sticky one is fine", async () => {
    const open = join(dir.path, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await pyrq(['daemon', '--config', config('ww', join(open, 'pyrq.sock'))], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.replace(/\s+/g, ' ')).toContain(
      `its directory ${open} is writable by every user and not sticky (mode 777), so anyone could replace the socket`,
    );
    // A directory another user made first (e.g. /tmp/pyrq-<uid>): its owner could replace the socket.
    const theirs = join(dir.path, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, OTHER_UID, OTHER_UID);
    const t = await pyrq(['daemon', '--config', config('th', join(theirs, 'pyrq.sock'))], { timeoutMs: 20_000 });
    expect(t.code).toBe(1);
    expect(t.stderr.replace(/\s+/g, ' ')).toContain(`its directory ${theirs} belongs to uid ${OTHER_UID}`);
    const sticky = join(dir.path, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const sock = join(sticky, 'pyrq.sock');
    daemons.push(await startDaemon(['--config', config('st', sock)], { socket: sock }));
  });

  it("refuses a path holding another user's file, and leaves it alone", async () => {
    const path = join(dir.path, 'not-a-socket');
    writeFileSync(path, 'precious');
    chownSync(path, OTHER_UID, OTHER_UID);
    const r = await pyrq(['daemon', '--config', config('nf', path)], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.replace(/\s+/g, ' ')).toContain(
      `socket path ${path} exists (a regular file) and belongs to uid ${OTHER_UID}`,
    );
    expect(existsSync(path)).toBe(true);
  });
});

describe('BTU messages over the socket', () => {
  it('refuses a request_content over 1,024 characters without echoing it', async () => {
    const sock = join(dir.path, 'pyrq.sock');
    const d = await startDaemon(['--config', config('btu', sock)], { socket: sock });
    daemons.push(d);
    const name = 'N'.repeat(50_000);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.createConnection(sock);
      let data = '';
      c.setEncoding('utf8');
      c.on('data', (x: string) => (data += x));
      c.on('error', reject);
      c.on('close', () => resolve(data));
      c.on('connect', () => c.write(JSON.stringify({ request_type: 'create_task_schedule', request_content: name })));
    });
    expect(reply).toBe(
      'Error: request_content is 50000 characters; at most 1024 are accepted (BTU names are at most 140)',
    );
    expect(d.logs.some((l) => JSON.stringify(l).includes('N'.repeat(1025)))).toBe(false);
  });
});

describe('the socket enforces its per-message deadline', () => {
  it(`cuts a client sending 1 byte every 2 s at daemon.clientTimeout (${CLIENT_TIMEOUT_MS} ms)`, async () => {
    const sock = join(dir.path, 'pyrq.sock');
    daemons.push(await startDaemon(['--config', config('slow', sock)], { socket: sock }));
    const c = net.createConnection(sock);
    await new Promise<void>((r) => c.once('connect', () => r()));
    let reply = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (reply += d));
    c.on('error', () => undefined);
    const closed = new Promise<number>((r) => c.on('close', () => r(Date.now())));
    const message = '{"op":"ping","reqId":"' + 'x'.repeat(100) + '"}\n';
    const t0 = Date.now();
    let i = 0;
    const timer = setInterval(() => {
      if (!c.destroyed && i < message.length - 1) c.write(message[i++]!); // never the final newline
    }, 2_000);
    c.write(message[i++]!);
    closers.push(() => clearInterval(timer));
    const limit = CLIENT_TIMEOUT_MS + SLACK_MS;
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), limit + 10_000))]);
    clearInterval(timer);
    expect(at, 'the server closed the connection').toBeGreaterThan(0);
    expect(at - t0).toBeGreaterThanOrEqual(CLIENT_TIMEOUT_MS - 500);
    expect(at - t0).toBeLessThan(limit);
    expect(JSON.parse(reply.trim())).toMatchObject({
      ok: false,
      error: { code: 'TIMEOUT', message: `message not completed within ${CLIENT_TIMEOUT_MS} ms` },
    });
  }, 40_000);
});
