import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalStringify } from '../../src/canonical-json.js';
import { MAX_MESSAGE_BYTES } from '../../src/control/protocol.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { makeSpec } from '../helpers/schedules.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { rng } from '../../scripts/rng.js';

// Thousands of hostile messages from many concurrent connections; afterwards the daemon
// must still answer ping promptly and the registry must be exactly as before.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let daemon: DaemonProcess;
let socket: string;

const SEED = Number(process.env.PYRQ_FUZZ_SEED ?? 20261127);
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (n: number) => Math.floor(rand() * n);

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

/** One hostile message (never a valid upsert or delete: the registry must not change). */
function hostile(): Buffer | string {
  switch (int(10)) {
    case 0:
      return randomBytes(1 + int(4000));
    case 1: {
      const valid = JSON.stringify({ op: 'upsert', schedule: { id: 'fz', function: 'a.b', every: 5 } });
      return valid.slice(0, int(valid.length - 1)); // truncated: never completed
    }
    case 2:
      return `${'['.repeat(1000 + int(200_000))}\n`; // deep nesting
    case 3:
      return `{"op":"upsert","schedule":{"id":"deep","function":"a.b","every":5,"kwargs":{"x":${'['.repeat(500)}1${']'.repeat(500)}}}}\n`;
    case 4:
      return `${JSON.stringify({ op: pick(['nuke', 'PING', '', 'upsert ', '__proto__']), id: 'x' })}\n`;
    case 5:
      return `${JSON.stringify({ op: 'upsert', schedule: { id: pick(['bad id', 'a:b', 'x'.repeat(300)]), function: pick(['os.system', 'nodots', '']), cron: pick(['61 * * * *', '0 0 31 2 *', 'x']) } })}\n`;
    case 6:
      return `${JSON.stringify({ request_type: pick(['nope', 'create_task_schedule', 'cancel_task_schedule']), request_content: pick([null, 'TS-1', 'x'.repeat(5000)]) })}`;
    case 7:
      return `{"op":"ping","reqId":${'9'.repeat(1 + int(50))}}\n{"op":"status"}\n{"op": "delete"}\n`;
    case 8:
      return `${JSON.stringify({ op: 'upsert', schedule: { id: 'fz', function: 'a.b', every: 5, unknown: true } })}\n`;
    default:
      // Would change what the daemon answers later if any of it reached Object.prototype
      // there (see the checks at the end): a reqId on every reply, a queue or a disabled
      // flag on every schedule that does not set one.
      return pick([
        `{"__proto__": {"polluted": true, "reqId": "polluted", "queue": "polluted", "enabled": false}, "op": "ping"}\n\u0000\u00ff\uffff\n`,
        `{"constructor": {"prototype": {"reqId": "polluted", "queue": "polluted"}}, "op": "ping"}\n`,
        `{"op": "upsert", "schedule": {"id": "bad id", "function": "a.b", "cron": "x", "__proto__": {"queue": "polluted", "reqId": "polluted"}, "kwargs": {"__proto__": {"reqId": "polluted"}}}}\n`,
      ]);
  }
}

/**
 * Sends `data` on a new connection and collects what the daemon answers until it closes
 * the connection (or `timeoutMs` passes): the reply lines and whether the daemon closed.
 */
function exchange(
  data: Buffer | string,
  timeoutMs = 5000,
): Promise<{ replies: Record<string, unknown>[]; closedByDaemon: boolean }> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    let text = '';
    let closedByDaemon = false;
    const finish = () => {
      clearTimeout(guard);
      s.destroy();
      const replies = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ replies, closedByDaemon });
    };
    const guard = setTimeout(finish, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => {
      closedByDaemon = true;
      finish();
    });
    s.on('error', () => undefined); // EPIPE/ECONNRESET while still writing after the daemon closed: expected
    s.on('connect', () => s.write(data));
  });
}

function send(data: Buffer | string, dripMs = 0): Promise<void> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    const done = () => {
      clearTimeout(guard);
      s.destroy();
      resolve();
    };
    const guard = setTimeout(done, 4000);
    s.on('error', done);
    s.on('close', done);
    s.on('data', () => {});
    s.on('connect', () => {
      if (dripMs === 0) {
        s.write(data);
        setTimeout(done, 50 + int(200));
        return;
      }
      // One byte every dripMs, until the server closes the socket or 40 bytes are out.
      const buf = Buffer.from(data);
      let i = 0;
      const drip = () => {
        if (i >= Math.min(buf.length, 40) || s.destroyed) return;
        s.write(buf.subarray(i, i + 1));
        i++;
        setTimeout(drip, dripMs);
      };
      drip();
    });
  });
}

async function registrySnapshot(): Promise<string> {
  const keys = (await redis.keys('pyrq:*'))
    .filter((k) => k !== 'pyrq:leader' && k !== 'pyrq:daemon' && k !== 'pyrq:sources')
    .sort();
  const out: string[] = [];
  for (const k of keys) {
    const type = await redis.type(k);
    const value =
      type === 'hash'
        ? await redis.hgetall(k)
        : type === 'zset'
          ? await redis.zrange(k, 0, -1, 'WITHSCORES')
          : type === 'list'
            ? await redis.lrange(k, 0, -1)
            : await redis.get(k);
    out.push(`${k} ${type} ${JSON.stringify(value)}`);
  }
  return out.join('\n');
}

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  socket = join(dir.path, 'pyrq.sock');
  mkdirSync(join(dir.path, 'schedules'));
  // Schedules that fire once a year, so that no occurrence changes the registry while the
  // test compares it before and after (an hourly one fired mid-test once, at 15:10).
  writeFileSync(
    join(dir.path, 'schedules', 'a.json'),
    JSON.stringify([
      { id: 'a', function: 'app.tasks.run', cron: '0 3 1 1 *' },
      { id: 'b', function: 'app.tasks.run', cron: '0 5 1 1 *' },
    ]),
  );
  const cfg = join(dir.path, 'pyrq.toml');
  writeFileSync(
    cfg,
    `[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${socket}"\nclientTimeout = "1s"\n`,
  );
  daemon = await startDaemon(['--config', cfg], { socket });
  await eventually(async () => (await redis.hlen('pyrq:index')) === 2, 'initial apply');
  await daemon.ask({ op: 'upsert', schedule: { id: 'pushed', function: 'app.tasks.run', cron: '0 4 1 1 *' } });
});

afterAll(async () => {
  await daemon?.stop();
  await server.close();
  dir.cleanup();
});

describe('socket fuzzing', () => {
  it(`survives thousands of hostile messages (seed ${SEED}) and leaves the registry unchanged`, async () => {
    const before = await registrySnapshot();
    const CONNECTIONS = 40;
    const PER_CONNECTION = 60;
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, c) => {
        for (let i = 0; i < PER_CONNECTION; i++) {
          // A few slow-drip clients among them; the rest write everything at once.
          await send(hostile(), c < 3 && i < 3 ? 150 : 0);
          sent++;
        }
      }),
    );
    // Oversized messages, with and without a newline, several at once (their replies are
    // checked in the next test).
    await Promise.all([
      send(`{"op":"ping","x":"${'x'.repeat(1_200_000)}"}\n`),
      send('y'.repeat(2_000_000)),
      send(randomBytes(1_500_000)),
    ]);
    expect(sent).toBe(CONNECTIONS * PER_CONNECTION);

    // Still serving: median ping latency of five, against a bound ~50x a normal ping.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await daemon.ask({ op: 'ping' }, 2000);
      expect(r.ok).toBe(true);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    expect(times[2]).toBeLessThan(100);
    expect(daemon.proc.exitCode).toBeNull();
    expect(await registrySnapshot()).toBe(before);

    // Nothing reached Object.prototype in the daemon: a request without a reqId gets a
    // reply without one (a polluted prototype would lend it "polluted")...
    const ping = await exchange('{"op":"ping"}\n', 2000);
    expect(ping.replies).toHaveLength(1);
    expect(Object.keys(ping.replies[0]!).sort()).toEqual(['ok', 'result']);
    expect(ping.replies[0]!.result).toMatchObject({ pong: true, pid: daemon.proc.pid });
    // ...and a schedule pushed now is stored exactly as a clean process normalises it
    // (a polluted prototype would lend it a queue or disable it).
    const probe = { id: 'probe', function: 'app.tasks.run', every: 600 };
    expect((await daemon.ask({ op: 'upsert', schedule: probe })).ok).toBe(true);
    const stored = JSON.parse((await redis.hget('pyrq:schedule:probe', 'spec'))!);
    expect(stored).toEqual(JSON.parse(canonicalStringify(makeSpec(probe))));
    expect(stored).toMatchObject({ queue: 'default', enabled: true });
    expect((await daemon.ask({ op: 'delete', id: 'probe' })).ok).toBe(true);
  }, 120_000);

  it('the daemon enforces the 1 MiB request limit: a larger message gets TOO_LARGE and a closed connection', async () => {
    const ping = (n: number) => {
      // {"op":"ping","reqId":"xxx…"} of exactly n bytes before its newline
      const head = '{"op":"ping","reqId":"';
      return `${head}${'x'.repeat(n - head.length - 2)}"}`;
    };
    expect(Buffer.byteLength(ping(MAX_MESSAGE_BYTES))).toBe(MAX_MESSAGE_BYTES);
    // At the limit: a valid request, answered (its reqId echoed), connection kept.
    const at = await exchange(`${ping(MAX_MESSAGE_BYTES)}\n`, 1500);
    expect(at.replies).toHaveLength(1);
    expect(at.replies[0]).toMatchObject({ ok: true, result: { pong: true } });
    expect(String(at.replies[0]!.reqId).length).toBe(MAX_MESSAGE_BYTES - 24);
    expect(at.closedByDaemon).toBe(false);
    // One byte over, with and without its newline, and far over without one (the BTU
    // framing): refused as too large, never parsed, and the daemon closes the connection.
    for (const msg of [
      `${ping(MAX_MESSAGE_BYTES + 1)}\n`,
      ping(MAX_MESSAGE_BYTES + 1),
      'y'.repeat(2_000_000),
      `{"op":"ping","x":"${'x'.repeat(1_200_000)}"}\n`,
    ]) {
      const r = await exchange(msg);
      expect(r.replies, `a ${msg.length}-byte message`).toEqual([
        { ok: false, error: { code: 'TOO_LARGE', message: `message over ${MAX_MESSAGE_BYTES} bytes` } },
      ]);
      expect(r.closedByDaemon, `a ${msg.length}-byte message`).toBe(true);
    }
    expect((await daemon.ask({ op: 'ping' })).ok).toBe(true);
  });
});
