import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let daemon: DaemonProcess;
let socket: string;
let configFile: string;

/** Sends raw bytes, half-closes never, collects everything until the server closes or `waitMs` passes. */
function raw(data: string | Buffer, waitMs = 1500): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    let text = '';
    let closed = false;
    s.on('connect', () => s.write(data));
    s.on('data', (d) => (text += String(d)));
    s.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve({ text, closedByServer: true });
    });
    s.on('error', () => {});
    const t = setTimeout(() => {
      if (!closed) {
        s.destroy();
        resolve({ text, closedByServer: false });
      }
    }, waitMs);
  });
}

/** Like BTU's client: send without a newline, wait 0.5 s, read up to 2048 bytes once. */
function btu(requestType: string, content: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    s.on('connect', () => s.write(JSON.stringify({ request_type: requestType, request_content: content })));
    s.once('data', (d) => {
      s.destroy();
      resolve(String(d).slice(0, 2048));
    });
    s.on('error', reject);
  });
}

const ping = async () => {
  const t = performance.now();
  const r = await daemon.ask({ op: 'ping' }, 2000);
  return { ok: r.ok, ms: performance.now() - t };
};

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  socket = join(dir.path, 'pyrq.sock');
  const schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
  writeFileSync(
    join(schedules, 'owned.json'),
    JSON.stringify({ id: 'file-owned', function: 'app.tasks.run', every: 60 }),
  );
  configFile = join(dir.path, 'pyrq.toml');
  writeFileSync(
    configFile,
    `[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${socket}"\nclientTimeout = "1s"\n`,
  );
  writeFileSync(socket, 'stale'); // a leftover file from a crash: must be replaced
  daemon = await startDaemon(['--config', configFile], { socket });
  await eventually(async () => (await redis.hexists('pyrq:index', 'file-owned')) === 1, 'initial reconcile');
});

afterAll(async () => {
  await daemon?.stop();
  await server.close();
  dir.cleanup();
});

describe('control socket: native protocol', () => {
  it('ping and status', async () => {
    const p = await daemon.ask({ op: 'ping', reqId: 7 });
    expect(p).toMatchObject({ ok: true, reqId: 7, result: { pong: true, leader: true } });
    const s = await daemon.ask({ op: 'status' });
    const r = s.result as {
      daemon: { leader: boolean };
      sources: { source: string }[];
      schedules: { id: string }[];
      lastReconcile: unknown;
    };
    expect(r.daemon.leader).toBe(true);
    expect(r.sources.map((x) => x.source).sort()).toEqual(['files', 'socket']);
    expect(r.schedules.map((x) => x.id)).toContain('file-owned');
    expect(r.lastReconcile).not.toBeNull();
  });

  it('upsert creates a socket-owned schedule, persisted in Redis; a second identical upsert changes nothing', async () => {
    const sched = {
      id: 'pushed',
      function: 'app.tasks.run',
      cron: '*/5 * * * *',
      kwargs: { big: 12345678901234567890n },
    };
    const r = await daemon.ask({ op: 'upsert', schedule: sched });
    expect(r).toMatchObject({ ok: true, result: { id: 'pushed', action: 'create' } });
    expect(await redis.hget('pyrq:index', 'pushed')).toMatch(/\tsocket\tsocket$/);
    expect(await redis.hexists('pyrq:source:socket', 'pushed')).toBe(1);
    expect(await redis.hget('pyrq:schedule:pushed', 'spec')).toContain('"big":12345678901234567890');
    const again = await daemon.ask({ op: 'upsert', schedule: sched });
    expect(again.result).toMatchObject({ action: 'unchanged' });
    const changed = await daemon.ask({ op: 'upsert', schedule: { ...sched, cron: '*/10 * * * *' } });
    expect(changed.result).toMatchObject({ action: 'update' });
  });

  it('refuses an invalid schedule, naming the field; nothing is stored', async () => {
    const r = await daemon.ask({
      op: 'upsert',
      schedule: { id: 'bad', function: 'app.tasks.run', cron: '61 * * * *' },
    });
    expect(r.ok).toBe(false);
    expect(r.error!.message).toBe('(id "bad") cron: "61 * * * *": minute out of range');
    expect(await redis.hexists('pyrq:source:socket', 'bad')).toBe(0);
  });

  it('refuses to take or delete an id owned by another source', async () => {
    const up = await daemon.ask({ op: 'upsert', schedule: { id: 'file-owned', function: 'app.tasks.run', every: 5 } });
    expect(up.ok).toBe(false);
    expect(up.error!.message).toMatch(/owned by source "files" \(owned\.json\)/);
    const del = await daemon.ask({ op: 'delete', id: 'file-owned' });
    expect(del.ok).toBe(false);
    expect(del.error!.message).toMatch(/owned by source "files" .*, not pushed: remove it from/);
    expect(await redis.hexists('pyrq:index', 'file-owned')).toBe(1);
    const missing = await daemon.ask({ op: 'delete', id: 'never-was' });
    expect(missing).toMatchObject({ ok: true, result: { deleted: false } });
  });

  it('reconcile, reload and trigger', async () => {
    // Its own socket schedule: the test runs alone, or after any other.
    const up = await daemon.ask({
      op: 'upsert',
      schedule: { id: 'trig-me', function: 'app.tasks.run', cron: '*/5 * * * *' },
    });
    expect(up.ok).toBe(true);
    const rec = await daemon.ask({ op: 'reconcile' });
    expect(rec.ok).toBe(true);
    expect((rec.result as { summary: { unchanged: number } }).summary.unchanged).toBeGreaterThanOrEqual(2);
    const rel = await daemon.ask({ op: 'reload', source: 'files' });
    expect(rel.ok).toBe(true);
    const bad = await daemon.ask({ op: 'reload', source: 'mysql' });
    expect(bad.error!.message).toMatch(/no source "mysql"/);
    const trig = await daemon.ask({ op: 'trigger', id: 'trig-me' });
    expect(trig.ok).toBe(true);
    const jobId = (trig.result as { jobId: string }).jobId;
    expect(await redis.lrange('rq:queue:default', 0, -1)).toContain(jobId);
  });

  it('the CLI pushes files, deletes nothing it does not own, and asks for a re-sync', async () => {
    const f = join(dir.path, 'push.yaml');
    writeFileSync(
      f,
      '- {id: cli-a, function: app.tasks.run, every: 30}\n- {id: cli-b, function: app.tasks.run, every: 40}\n',
    );
    const env = { PYRQ_CONFIG: configFile };
    const p = await pyrq(['push', f, '--json'], { env });
    expect(p.code).toBe(0);
    expect(p.json().pushed).toEqual([
      { id: 'cli-a', action: 'create' },
      { id: 'cli-b', action: 'create' },
    ]);
    const r = await pyrq(['reconcile'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Re-sync done in [\d.]+ ms: 0 created, 0 updated, 0 deleted, \d+ unchanged/);
    const st = await pyrq(['status', '--json'], { env });
    expect(st.json().via).toBe('daemon');
    expect(st.json().schedules.map((s: { id: string }) => s.id)).toEqual(
      expect.arrayContaining(['cli-a', 'cli-b', 'file-owned']),
    );
    const bad = await pyrq(['push', f, '--socket', join(dir.path, 'nobody.sock')], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no daemon answered at .*nobody\.sock.*is "pyrq daemon" running\?/);
  });
});

describe('push is all or nothing (issue 12, point 7)', () => {
  it('one invalid schedule in a file pushes nothing, and every error is reported at its place', async () => {
    const f = join(dir.path, 'half-bad.yaml');
    writeFileSync(
      f,
      '- {id: ok-1, function: app.tasks.run, every: 30}\n- {id: bad-1, function: app.tasks.run, cron: "61 * * * *"}\n- {id: bad-2, function: nodots, every: 5}\n',
    );
    const r = await pyrq(['push', f, '--json'], { env: { PYRQ_CONFIG: configFile } });
    expect(r.code).toBe(1);
    const message: string = r.json().error.message;
    expect(message).toMatch(/^nothing pushed:/);
    expect(message).toContain('(id "bad-1")');
    expect(message).toContain('minute out of range');
    expect(message).toContain('(id "bad-2")');
    for (const id of ['ok-1', 'bad-1', 'bad-2']) {
      expect(await redis.hexists('pyrq:source:socket', id), id).toBe(0);
      expect(await redis.hexists('pyrq:index', id), id).toBe(0);
    }
  });

  it('the daemon refuses a whole request when one id is owned by another source or a one-shot is in the past', async () => {
    const r = await daemon.ask({
      op: 'upsert',
      schedules: [
        { id: 'ok-2', function: 'app.tasks.run', every: 30 },
        { id: 'file-owned', function: 'app.tasks.run', every: 5 },
        { id: 'too-late', function: 'app.tasks.run', at: '2020-01-01T00:00:00Z' },
      ],
    });
    expect(r.ok).toBe(false);
    expect(r.error!.message).toMatch(/^nothing pushed: /);
    expect(r.error!.message).toMatch(/owned by source "files"/);
    expect(r.error!.message).toMatch(/"too-late": at: .* is in the past/);
    expect(await redis.hexists('pyrq:source:socket', 'ok-2')).toBe(0);
    const good = await daemon.ask({
      op: 'upsert',
      schedules: [
        { id: 'ok-2', function: 'app.tasks.run', every: 30 },
        { id: 'ok-3', function: 'app.tasks.run', every: 40 },
      ],
    });
    expect(good).toMatchObject({
      ok: true,
      result: {
        pushed: [
          { id: 'ok-2', action: 'create' },
          { id: 'ok-3', action: 'create' },
        ],
      },
    });
    expect(await redis.hget('pyrq:index', 'ok-3')).toMatch(/\tsocket\tsocket$/);
  });
});

describe('control socket: BTU compatibility (no trailing newline, plain-text replies)', () => {
  it('ping -> pong', async () => {
    expect(await btu('ping', null)).toBe('pong');
  });

  it('create/cancel without a MySQL source: a plain-text error, the daemon keeps serving', async () => {
    expect(await btu('create_task_schedule', 'TS-000001')).toMatch(/^Error: pyrq has no MySQL source configured/);
    expect(await btu('cancel_task_schedule', 'TS-000001')).toMatch(/^Error: pyrq has no MySQL source configured/);
    expect(await btu('create_task_schedule', null)).toBe(
      "Request 'create_task_schedule' missing required argument 'request_content'",
    );
    expect(await btu('explode', 'x')).toBe("Client message has an unhandled 'request_type': explode");
    expect((await ping()).ok).toBe(true);
  });
});

describe('control socket: hostile clients', () => {
  it('garbage, invalid JSON and unknown ops get an error reply and a closed connection', async () => {
    for (const [input, code] of [
      ['not json at all\n', 'BAD_JSON'],
      ['{"op": "explode"}\n', 'UNKNOWN_OP'],
      ['[1,2,3]\n', 'BAD_REQUEST'],
      ['{"op": "upsert"}\n', 'BAD_REQUEST'],
      ['{"op": "ping", "evil": true}\n', 'BAD_REQUEST'],
      ['\u0000\u0001\u0002\n', 'BAD_JSON'],
    ] as const) {
      const r = await raw(input);
      expect(r.closedByServer, input).toBe(true);
      expect(JSON.parse(r.text.trim()).error.code, input).toBe(code);
    }
    expect((await ping()).ok).toBe(true);
  });

  it('a message over 1 MiB is refused without waiting for its end', async () => {
    const r = await raw(`{"op":"upsert","schedule":{"id":"x","description":"${'x'.repeat(1_100_000)}`, 5000);
    expect(r.closedByServer).toBe(true);
    expect(JSON.parse(r.text.trim()).error.code).toBe('TOO_LARGE');
    expect((await ping()).ok).toBe(true);
  });

  it('a half-sent message is timed out (clientTimeout) while other clients are served', async () => {
    const slow = raw('{"op": "pi', 3000);
    const meanwhile = await ping();
    expect(meanwhile.ok).toBe(true);
    const r = await slow;
    expect(r.closedByServer).toBe(true);
    expect(JSON.parse(r.text.trim()).error.code).toBe('TIMEOUT');
  });

  it('serves many concurrent clients', async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => daemon.ask({ op: 'ping', reqId: i }, 10_000)),
    );
    expect(replies.every((r, i) => r.ok && r.reqId === i)).toBe(true);
  });

  it('answers several requests on one connection, in order', async () => {
    const r = await raw('{"op":"ping","reqId":1}\n{"op":"ping","reqId":2}\n{"op":"ping","reqId":3}\n', 800);
    expect(
      r.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).reqId),
    ).toEqual([1, 2, 3]);
  });
});

describe('socket lifecycle', () => {
  it('the socket is mode 0660', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o660);
  });

  it('a second daemon on the same socket refuses to start, and the first keeps serving', async () => {
    const r = await pyrq(['daemon', '--config', configFile], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(/another pyrq daemon is already listening on \S*pyrq\.sock/);
    expect((await ping()).ok).toBe(true);
  });

  it('pushed schedules survive a restart', async () => {
    // Pushed here, by the socket and by the CLI: the test needs no id from another.
    expect(
      (await daemon.ask({ op: 'upsert', schedule: { id: 'kept-a', function: 'app.tasks.run', every: 30 } })).ok,
    ).toBe(true);
    const f = join(dir.path, 'kept.yaml');
    writeFileSync(f, '- {id: kept-b, function: app.tasks.run, every: 40}\n');
    expect((await pyrq(['push', f], { env: { PYRQ_CONFIG: configFile } })).code).toBe(0);
    expect(await daemon.stop()).toBe(0);
    expect(existsSync(socket)).toBe(false);
    daemon = await startDaemon(['--config', configFile], { socket });
    await eventually(async () => daemon.logs.some((l) => l.msg === 'reconcile'), 'first reconcile after restart');
    for (const id of ['kept-a', 'kept-b', 'file-owned']) expect(await redis.hexists('pyrq:index', id), id).toBe(1);
    const del = await daemon.ask({ op: 'delete', id: 'kept-a' });
    expect(del.result).toMatchObject({ deleted: true });
    expect(await redis.hexists('pyrq:index', 'kept-a')).toBe(0);
    expect(await redis.hexists('pyrq:source:socket', 'kept-a')).toBe(0);
  });
});
