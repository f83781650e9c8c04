/**
 * BTU's Redis RPC channel, driven by a Python client that does exactly what the BTU app's
 * `SchedulerAPI` does (redis-py: LPUSH the JSON command on btu:scheduler:commands, then
 * BLPOP the response key for 5 s and json.loads the reply), against real daemons, a
 * private Redis and a throwaway MariaDB database holding BTU's tables.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { python } from '../helpers/python.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const mysql = SQL_TEST_DRIVERS.find((d) => d.name === 'mysql')!;

/**
 * The app's side, as btu/btu_api/scheduler.py sends it. Each call: [request_type,
 * request_content, wait]; wait false is the "webserver" mode (response_key null, no wait).
 * Prints one JSON line per call: the reply as json.loads read it, and the milliseconds
 * from LPUSH to the reply.
 */
const APP_CLIENT = `
import json, os, sys, time, uuid
import redis
conn = redis.Redis.from_url(os.environ["BTU_REDIS_URL"])
for request_type, request_content, wait in json.loads(os.environ["BTU_CALLS"]):
    response_key = "btu:scheduler:rpc:" + uuid.uuid4().hex if wait else None
    message = {"request_type": request_type, "request_content": request_content, "response_key": response_key}
    t0 = time.monotonic()
    conn.lpush("btu:scheduler:commands", json.dumps(message))
    if not wait:
        print(json.dumps({"reply": None}))
        continue
    popped = conn.blpop(response_key, timeout=5)
    ms = (time.monotonic() - t0) * 1000
    print(json.dumps({"reply": json.loads(popped[1]) if popped else None, "raw": popped[1].decode() if popped else None, "ms": ms, "ttl": conn.ttl(response_key)}))
`;

interface AppReply {
  reply: Record<string, unknown> | null;
  raw?: string;
  ms?: number;
  ttl?: number;
}

async function app(url: string, calls: [string, string | null, boolean][]): Promise<AppReply[]> {
  const out = await python(APP_CLIENT, { env: { BTU_REDIS_URL: url, BTU_CALLS: JSON.stringify(calls) } });
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AppReply);
}

const ack = (requestType: string) => ({
  status: 'ok',
  request_type: requestType,
  message: 'Command received by BTU Scheduler.',
});

describe('BTU RPC over Redis', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let dir: ReturnType<typeof tmpDir>;
  const daemons: DaemonProcess[] = [];
  const figures: string[] = [];

  async function daemon(name: string, env: Record<string, string> = {}): Promise<DaemonProcess> {
    const d = await startDaemon(['--log-level', 'debug', '--frappe-site', 'erp.example.com'], {
      socket: join(dir.path, `${name}.sock`),
      env: {
        PYRQ_REDIS_URL: server.url,
        PYRQ_MYSQL_URL: db.url,
        PYRQ_DIR: '',
        PYRQ_POSTGRES_URL: '',
        PYRQ_FRAPPE_SITE: '',
        PYRQ_BTU_RPC: '',
        ...env,
      },
    });
    daemons.push(d);
    return d;
  }

  const spec = async (id: string): Promise<Record<string, unknown> | null> => {
    const s = await redis.hget(`pyrq:schedule:${id}`, 'spec');
    return s ? (JSON.parse(s) as Record<string, unknown>) : null;
  };
  const leaderOf = async (ds: DaemonProcess[]): Promise<DaemonProcess | undefined> => {
    for (const d of ds) {
      const r = (await d.ask({ op: 'ping' })) as { result?: { leader?: boolean } };
      if (r.result?.leader) return d;
    }
    return undefined;
  };

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await mysql.createDb();
    dir = tmpDir();
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await server?.close();
    await db?.drop();
    dir?.cleanup();
    if (figures.length) console.log(`BTU RPC figures:\n  ${figures.join('\n  ')}`);
  });

  it('one daemon: ping, create and cancel are acknowledged as BTU acknowledges, then acted on', async () => {
    const d = await daemon('a');
    await eventually(() => leaderOf([d]), 'the daemon leads');
    await eventually(() => spec('TS-000001'), 'the BTU rows are applied');

    // A change BTU's poll cannot see: `modified` is left alone, so only the command applies it.
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '17 4 * * *' WHERE name = 'TS-000001'");
    await db.exec("UPDATE `tabBTU Task Schedule` SET enabled = 0 WHERE name = 'TS-000002'");
    const replies = await app(server.url, [
      ['ping', null, true],
      ['create_task_schedule', 'TS-000001', true],
      ['cancel_task_schedule', 'TS-000002', true],
    ]);
    expect(replies.map((r) => r.reply)).toEqual([
      ack('ping'),
      ack('create_task_schedule'),
      ack('cancel_task_schedule'),
    ]);
    // Byte for byte what Python's json.dumps writes, and the key expires as BTU's daemons make it.
    expect(replies[1]!.raw).toBe(
      '{"status": "ok", "request_type": "create_task_schedule", "message": "Command received by BTU Scheduler."}',
    );
    for (const r of replies) expect(r.ttl).toBe(-2); // BLPOP took the only element: the key is gone
    figures.push(`ack latency (LPUSH -> reply, ms): ${replies.map((r) => r.ms!.toFixed(1)).join(', ')}`);
    const t0 = Date.now(); // the client has its acks: the commands were taken at most a few ms ago

    await eventually(
      async () => (await spec('TS-000001'))?.cron === '17 4 * * *',
      'TS-000001 re-read after create_task_schedule',
      5000,
      5,
    );
    figures.push(`acks received -> TS-000001 updated in the registry: ${Date.now() - t0} ms`);
    await eventually(
      async () => (await spec('TS-000002'))?.enabled === false,
      'TS-000002 disabled after cancel_task_schedule',
      5000,
      5,
    );
    await d.waitForLog(
      (l) =>
        l.msg === 'BTU command' &&
        l.requestType === 'cancel_task_schedule' &&
        l.reply === 'Successfully cancelled BTU Task Schedule TS-000002 in Python RQ.',
    );
  });

  it('the acknowledgement key lives 60 s when nobody reads it', async () => {
    await redis.lpush(
      'btu:scheduler:commands',
      JSON.stringify({ request_type: 'ping', request_content: null, response_key: 'btu:scheduler:rpc:unread' }),
    );
    await eventually(() => redis.exists('btu:scheduler:rpc:unread'), 'the ack is pushed');
    const ttl = await redis.ttl('btu:scheduler:rpc:unread');
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(JSON.parse((await redis.lindex('btu:scheduler:rpc:unread', 0))!)).toEqual(ack('ping'));
  });

  it('acts on a command with response_key null and replies nothing', async () => {
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '23 5 * * *' WHERE name = 'TS-000003'");
    const before = new Set(await redis.keys('btu:scheduler:rpc:*'));
    expect(await app(server.url, [['create_task_schedule', 'TS-000003', false]])).toEqual([{ reply: null }]);
    await eventually(async () => (await spec('TS-000003'))?.cron === '23 5 * * *', 'TS-000003 re-read');
    expect((await redis.keys('btu:scheduler:rpc:*')).filter((k) => !before.has(k))).toEqual([]);
    expect(await redis.llen('btu:scheduler:commands')).toBe(0);
  });

  it('logs and skips junk on the list, and keeps answering', async () => {
    const d = daemons[0]!;
    const junk = ['not json', '[1, 2]', '{"request_type": 5}', '{"request_type": "ping", "response_key": 7}'];
    for (const j of junk) await redis.lpush('btu:scheduler:commands', j);
    const [r] = await app(server.url, [['ping', null, true]]);
    expect(r!.reply).toEqual(ack('ping'));
    const dropped = () => d.logs.filter((l) => l.msg === 'dropped a malformed BTU command');
    await eventually(async () => dropped().length === junk.length, 'every junk element logged');
    expect(dropped().map((l) => l.reason)).toEqual([
      'not JSON (Unexpected token \'o\', "not json" is not valid JSON)',
      'not a JSON object',
      'request_type must be a string',
      'response_key must be a string or null',
    ]);
    // An unknown request type is acknowledged (BTU acks on receipt) and answered in the log.
    const [u] = await app(server.url, [['restart', null, true]]);
    expect(u!.reply).toEqual(ack('restart'));
    await d.waitForLog(
      (l) => l.msg === 'BTU command' && l.reply === "Client message has an unhandled 'request_type': restart",
    );
  });

  it('keeps listening across a Redis restart (the listener never stops)', async () => {
    const d = daemons[0]!;
    expect(d.logs.filter((l) => l.msg === 'cannot read BTU commands from Redis; retrying')).toEqual([]); // none in normal operation
    await server.stop(true);
    await server.restart(); // an empty Redis: the registry comes back with the leader's re-sync
    await d.waitForLog((l) => l.msg === 'no longer leader' || l.msg === 'redis connection restored');
    const [r] = await eventually(
      async () => {
        const replies = await app(server.url, [['ping', null, true]]);
        return replies[0]!.reply ? replies : null;
      },
      'a ping acknowledged after the restart',
      20_000,
      100,
    );
    expect(r!.reply).toEqual(ack('ping'));
    expect(d.proc.exitCode).toBeNull();
  });

  it('two daemons: every command reaches the leader, whichever daemon takes it off the list', async () => {
    const bStarted = Date.now();
    const b = await daemon('b');
    const both = [daemons[0]!, b];
    await eventually(() => leaderOf(both), 'one daemon leads');
    // Since b started: the first daemon may have forwarded while it stood by during the
    // Redis restart above (fenced, it steps down until it takes the lease again).
    const forwarder = () =>
      both.find((x) =>
        x.logs.some((l) => l.msg === 'BTU command forwarded to the leader' && Date.parse(String(l.time)) >= bStarted),
      );
    // Until a standby has taken at least one command (both block on the list; Redis hands
    // each element to whichever client waited longest), send edits one at a time.
    let n = 0;
    while (!forwarder()) {
      n++;
      const cron = `${n % 60} 6 * * *`;
      await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = ? WHERE name = 'TS-000004'", [cron]);
      const [r] = await app(server.url, [['create_task_schedule', 'TS-000004', true]]);
      expect(r!.reply).toEqual(ack('create_task_schedule'));
      // Applied whichever daemon popped it: by the leader directly, or forwarded to it.
      await eventually(async () => (await spec('TS-000004'))?.cron === cron, `TS-000004 cron ${cron}`);
      if (n >= 200)
        throw new Error(
          `no standby took a command in 200: ${JSON.stringify(both.map((d) => d.logs.filter((l) => /leader|BTU/.test(String(l.msg))).slice(-6)))}`,
        );
    }
    const standby = forwarder()!;
    const other = both.find((x) => x !== standby)!;
    // The forwarded command was acted on by the other daemon, the leader, not by the standby.
    await other.waitForLog((l) => l.msg === 'BTU command' && l.via === 'forwarded');
    const forwardedAt = Date.parse(
      String(
        standby.logs.find(
          (l) => l.msg === 'BTU command forwarded to the leader' && Date.parse(String(l.time)) >= bStarted,
        )!.time,
      ),
    );
    // ... and the standby, still a standby, acted on nothing since.
    expect(((await standby.ask({ op: 'ping' })) as { result: { leader: boolean } }).result.leader).toBe(false);
    expect(standby.logs.filter((l) => l.msg === 'BTU command' && Date.parse(String(l.time)) >= forwardedAt)).toEqual(
      [],
    );
    figures.push(`two daemons: a standby took command ${n}`);
  });

  it('btu.rpc = false: the daemon leaves the list alone (the socket still answers older apps)', async () => {
    for (const d of daemons) await d.stop();
    await redis.lpush(
      'btu:scheduler:commands',
      JSON.stringify({ request_type: 'ping', request_content: null, response_key: 'btu:scheduler:rpc:off' }),
    );
    const c = await daemon('c', { PYRQ_BTU_RPC: 'false' });
    // The listener would have logged before the lease campaign's first result.
    await c.waitForLog((l) => l.msg === 'became leader');
    expect(c.logs.some((l) => l.msg === 'listening for BTU commands in Redis')).toBe(false);
    expect(await redis.llen('btu:scheduler:commands')).toBe(1);
    expect(daemons[0]!.logs.some((l) => l.msg === 'listening for BTU commands in Redis')).toBe(true); // the default is on
  });
});
