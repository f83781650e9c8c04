/**
 * BTU's Redis RPC channel, driven by a Python client that does exactly what the BTU app's
 * `SchedulerAPI` does (redis-py: LPUSH the JSON command on btu:scheduler:commands, then
 * BLPOP the response key for 5 s and json.loads the reply), against real daemons, a
 * private Redis and a throwaway MariaDB database holding BTU's tables.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { python } from '../helpers/python.js';
import { addressesNamed, isBlocked, monitor } from '../helpers/redis-monitor.js';
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

// Every test runs alone and in any order: the throwaway MariaDB database (BTU's tables;
// each test edits rows of its own) and the directory are the file's; Redis and the
// daemons belong to a `describe` that says so, or to the test itself.
let db: TestDb;
let dir: ReturnType<typeof tmpDir>;
const figures: string[] = [];
let sockets = 0;

beforeAll(async () => {
  db = await mysql.createDb();
  dir = tmpDir();
});
afterAll(async () => {
  await db?.drop();
  dir?.cleanup();
  if (figures.length) console.log(`BTU RPC figures:\n  ${figures.join('\n  ')}`);
});

async function daemon(server: PrivateRedis, env: Record<string, string> = {}): Promise<DaemonProcess> {
  return startDaemon(['--log-level', 'debug', '--frappe-site', 'erp.example.com'], {
    socket: join(dir.path, `d${++sockets}.sock`),
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
}

const spec = async (redis: Redis, id: string): Promise<Record<string, unknown> | null> => {
  const s = await redis.hget(`pyrq:schedule:${id}`, 'spec');
  return s ? (JSON.parse(s) as Record<string, unknown>) : null;
};
const isLeader = async (d: DaemonProcess): Promise<boolean> =>
  ((await d.ask({ op: 'ping' })) as { result?: { leader?: boolean } }).result?.leader === true;

/** A private Redis and one daemon leading on it with BTU's rows applied, stopped when the test ends. */
async function leaderWorld(
  env: Record<string, string> = {},
): Promise<{ server: PrivateRedis; redis: Redis; d: DaemonProcess }> {
  const server = await startRedis();
  onTestFinished(() => server.close());
  const d = await daemon(server, env);
  onTestFinished(async () => void (await d.stop('SIGKILL')));
  const redis = server.client();
  await eventually(() => isLeader(d), { message: 'the daemon leads', timeout: 15_000 });
  await eventually(() => spec(redis, 'TS-000001'), { message: 'the BTU rows are applied', timeout: 15_000 });
  return { server, redis, d };
}

describe('BTU RPC over Redis, one daemon (owned by this describe: a private Redis and a leading daemon)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let d: DaemonProcess;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    d = await daemon(server);
    await eventually(() => isLeader(d), { message: 'the daemon leads', timeout: 15_000 });
    await eventually(() => spec(redis, 'TS-000001'), { message: 'the BTU rows are applied', timeout: 15_000 });
  });
  afterAll(async () => {
    await d?.stop();
    await server?.close();
  });

  it('ping, create and cancel are acknowledged as BTU acknowledges, and each before it is acted on', async () => {
    expect(d.logs.some((l) => l.msg === 'listening for BTU commands in Redis')).toBe(true); // the default is on
    // A change BTU's poll cannot see: `modified` is left alone, so only the command applies it.
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '17 4 * * *' WHERE name = 'TS-000001'");
    await db.exec("UPDATE `tabBTU Task Schedule` SET enabled = 0 WHERE name = 'TS-000002'");
    const mon = await monitor(server);
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

    await eventually(async () => (await spec(redis, 'TS-000001'))?.cron === '17 4 * * *', {
      message: 'TS-000001 re-read after create_task_schedule',
      every: 5,
    });
    figures.push(`acks received -> TS-000001 updated in the registry: ${Date.now() - t0} ms`);
    await eventually(async () => (await spec(redis, 'TS-000002'))?.enabled === false, {
      message: 'TS-000002 disabled after cancel_task_schedule',
      every: 5,
    });
    await d.waitForLog(
      (l) =>
        l.msg === 'BTU command' &&
        l.requestType === 'cancel_task_schedule' &&
        l.reply === 'Successfully cancelled BTU Task Schedule TS-000002 in Python RQ.',
    );
    // The order Redis ran them in: each acknowledgement (LPUSH on the app's reply key)
    // before the registry write that acts on its command.
    const lines = await mon.stop();
    const acks = lines.flatMap((l, i) =>
      l.args[0]?.toLowerCase() === 'lpush' && l.args[1]?.startsWith('btu:scheduler:rpc:') ? [i] : [],
    );
    expect(acks, 'three acknowledgements').toHaveLength(3);
    const write = (id: string) =>
      lines.findIndex((l) => l.source === 'lua' && l.args[1] === `pyrq:schedule:${id}` && /^h?set$/i.test(l.args[0]!));
    expect(write('TS-000001'), 'TS-000001 written').toBeGreaterThan(-1);
    expect(write('TS-000002'), 'TS-000002 written').toBeGreaterThan(-1);
    expect(acks[1]!, 'create acknowledged before TS-000001 is written').toBeLessThan(write('TS-000001'));
    expect(acks[2]!, 'cancel acknowledged before TS-000002 is written').toBeLessThan(write('TS-000002'));
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

  it('acts on a command with response_key null and writes no reply anywhere (every key checked)', async () => {
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = '23 5 * * *' WHERE name = 'TS-000003'");
    const before = new Set(await redis.keys('*'));
    expect(await app(server.url, [['create_task_schedule', 'TS-000003', false]])).toEqual([{ reply: null }]);
    await eventually(async () => (await spec(redis, 'TS-000003'))?.cron === '23 5 * * *', 'TS-000003 re-read');
    await d.waitForLog((l) => l.msg === 'BTU command' && l.content === 'TS-000003');
    // Not only btu:scheduler:rpc:*: a reply to the key "null" (or "None") would be a new key anywhere.
    const added = (await redis.keys('*')).filter((k) => !before.has(k));
    expect(added.filter((k) => !k.startsWith('pyrq:'))).toEqual([]);
    expect(await redis.exists('null', 'None', '')).toBe(0);
    expect(await redis.llen('btu:scheduler:commands')).toBe(0);
  });

  it('logs and skips junk on the list, and keeps answering', async () => {
    const junk = ['not json', '[1, 2]', '{"request_type": 5}', '{"request_type": "ping", "response_key": 7}'];
    const dropped = () => d.logs.filter((l) => l.msg === 'dropped a malformed BTU command');
    const already = dropped().length;
    for (const j of junk) await redis.lpush('btu:scheduler:commands', j);
    const [r] = await app(server.url, [['ping', null, true]]);
    expect(r!.reply).toEqual(ack('ping'));
    await eventually(() => dropped().length === already + junk.length, 'every junk element logged');
    expect(
      dropped()
        .slice(already)
        .map((l) => l.reason),
    ).toEqual([
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
});

describe('BTU RPC over Redis, each test with its own Redis and daemons', () => {
  it('keeps listening across a Redis restart (the listener never stops)', async () => {
    const { server, d } = await leaderWorld();
    expect(d.logs.filter((l) => l.msg === 'cannot read BTU commands from Redis; retrying')).toEqual([]); // none in normal operation
    await server.stop(true);
    await server.restart(); // an empty Redis: the registry comes back with the leader's re-sync
    await d.waitForLog((l) => l.msg === 'no longer leader' || l.msg === 'redis connection restored');
    const [r] = await eventually(
      async () => {
        const replies = await app(server.url, [['ping', null, true]]);
        return replies[0]!.reply ? replies : null;
      },
      { message: 'a ping acknowledged after the restart', timeout: 20_000, every: 100 },
    );
    expect(r!.reply).toEqual(ack('ping'));
    expect(d.proc.exitCode).toBeNull();
  });

  it('two daemons: a standby acknowledges a command at once and forwards it; the leader acts on it', async () => {
    const { server, redis, d: leader } = await leaderWorld();
    // The leader's listening connection: the only one so far.
    const [leaderBtu] = await eventually(async () => {
      const a = await addressesNamed(redis, 'pyrq-btu-rpc');
      return a.size === 1 ? [...a] : null;
    }, "the leader's BTU connection");
    const standby = await daemon(server);
    onTestFinished(async () => void (await standby.stop('SIGKILL')));
    await standby.waitForLog((l) => l.msg === 'listening for BTU commands in Redis');
    expect(await isLeader(standby)).toBe(false);
    // The standby alone waits on the list: the leader is frozen (well inside its 10 s lease)
    // once Redis has timed out the BRPOP it was blocked in (1 s), so Redis can hand the
    // command to no one else. No race, no retry loop.
    leader.proc.kill('SIGSTOP');
    onTestFinished(() => void leader.proc.kill('SIGCONT'));
    await eventually(async () => !(await isBlocked(redis, leaderBtu!)), {
      message: "the frozen leader's BRPOP timed out",
      timeout: 5_000,
    });
    const cron = '41 6 * * *';
    await db.exec("UPDATE `tabBTU Task Schedule` SET cron_string = ? WHERE name = 'TS-000004'", [cron]);
    const before = await spec(redis, 'TS-000004');
    const [r] = await app(server.url, [['create_task_schedule', 'TS-000004', true]]);
    // Acknowledged while the leader cannot run: by the standby, which did not act on it ...
    expect(r!.reply).toEqual(ack('create_task_schedule'));
    const forwarded = await redis.lrange('pyrq:btu:forward', 0, -1);
    expect(forwarded.map((raw) => (JSON.parse(raw) as Record<string, unknown>).request_content)).toEqual(['TS-000004']);
    expect(await spec(redis, 'TS-000004')).toEqual(before);
    expect(standby.logs.filter((l) => l.msg === 'BTU command')).toEqual([]);
    // ... and the leader, woken, takes it from the forward list and acts on it.
    leader.proc.kill('SIGCONT');
    await eventually(async () => (await spec(redis, 'TS-000004'))?.cron === cron, {
      message: 'TS-000004 applied by the leader',
      timeout: 10_000,
    });
    await leader.waitForLog((l) => l.msg === 'BTU command' && l.via === 'forwarded' && l.content === 'TS-000004');
    expect(await redis.llen('pyrq:btu:forward')).toBe(0);
    expect(await isLeader(leader)).toBe(true);
    expect(await isLeader(standby)).toBe(false);
    expect(standby.logs.filter((l) => l.msg === 'BTU command')).toEqual([]);
  });

  it('btu.rpc = false: the daemon leaves the list alone (the socket still answers older apps)', async () => {
    const server = await startRedis();
    onTestFinished(() => server.close());
    const redis = server.client();
    await redis.lpush(
      'btu:scheduler:commands',
      JSON.stringify({ request_type: 'ping', request_content: null, response_key: 'btu:scheduler:rpc:off' }),
    );
    const c = await daemon(server, { PYRQ_BTU_RPC: 'false' });
    onTestFinished(async () => void (await c.stop('SIGKILL')));
    // The listener would have logged before the lease campaign's first result.
    await c.waitForLog((l) => l.msg === 'became leader');
    expect(c.logs.some((l) => l.msg === 'listening for BTU commands in Redis')).toBe(false);
    expect(await redis.llen('btu:scheduler:commands')).toBe(1);
  });
});
