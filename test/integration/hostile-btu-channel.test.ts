/**
 * The BTU Redis command channel under hostile input (issue 22, points 1 and 2), against a
 * real daemon, a private Redis and a throwaway MariaDB database holding BTU's tables:
 *
 * - a `response_key` naming someone else's key (the registry index, the pauses, an RQ
 *   queue, a hash, a list, a string, a key of another type under BTU's own prefix) leaves
 *   every key byte for byte as it was, TTLs included, and is logged;
 * - a command that is too long, or whose `request_content` is, is refused with a log line
 *   that carries only a bounded prefix of it;
 * - 100,000 queued commands: the daemon takes only a few at a time (its memory stays
 *   bounded, the backlog stays in Redis), and after SIGTERM every command was either acted
 *   on or is still in Redis.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { SQL_TEST_DRIVERS, type TestDb } from '../helpers/sql-drivers.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const mysql = SQL_TEST_DRIVERS.find((d) => d.name === 'mysql')!;
const COMMANDS = 'btu:scheduler:commands';
const FORWARD = 'pyrq:btu:forward';

/** Queued commands in the backlog test (the figure). */
const BACKLOG = 100_000;
// The documented bounds (docs/btu.md), written out so that the test states the contract.
const BTU_MAX_CONTENT_CHARS = 1024;
const BTU_MAX_IN_FLIGHT = 16;
const LOG_EXCERPT_CHARS = 200;
/**
 * Growth of the daemon's RSS while the backlog waits that the test tolerates. The count of
 * taken commands is the exact bound; RSS is only a coarse backstop against a gross leak
 * elsewhere (a reader holding the whole backlog: 100,000 commands of ~560 characters).
 * It cannot tell a bounded intake from an unbounded one: acting on the commands of those
 * 8 s leaves garbage, and how many are acted on, and when V8 collects, move with the
 * machine. Measured: +60-106 MB on a slower host (~1,000 acted on); on a faster one,
 * 1,350-2,000 acted on, +75 to +161 MB, on this build and on the one before it (a CI run
 * failed at the old 130 MB limit). An intake without the bound grew it by ~155 MB on the
 * slower host, and took 33,000-52,000 commands, which the count check refuses.
 */
const RSS_GROWTH_LIMIT_MB = 250;

const cmd = (requestType: string, content: string | null, responseKey: string | null) =>
  JSON.stringify({ request_type: requestType, request_content: content, response_key: responseKey });

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

describe('the BTU command channel refuses what is not BTU', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let db: TestDb;
  let dir: ReturnType<typeof tmpDir>;
  let d: DaemonProcess | undefined;
  const figures: string[] = [];

  async function daemon(name: string, level = 'debug'): Promise<DaemonProcess> {
    d = await startDaemon(['--log-level', level, '--frappe-site', 'erp.example.com'], {
      socket: join(dir.path, `${name}.sock`),
      env: {
        PYRQ_REDIS_URL: server.url,
        PYRQ_MYSQL_URL: db.url,
        PYRQ_DIR: '',
        PYRQ_POSTGRES_URL: '',
        PYRQ_FRAPPE_SITE: '',
        PYRQ_BTU_RPC: '',
      },
    });
    const dd = d;
    await eventually(
      async () => ((await dd.ask({ op: 'ping' })) as { result?: { leader?: boolean } }).result?.leader,
      'the daemon leads',
    );
    await eventually(() => redis.hlen('pyrq:index'), 'the BTU rows are applied');
    return dd;
  }

  /** A ping with a real reply key, answered: every command queued before it was taken and handled. */
  async function sync(tag: string): Promise<void> {
    const key = `btu:scheduler:rpc:sync-${tag}`;
    await redis.lpush(COMMANDS, cmd('ping', null, key));
    const r = await redis.blpop(key, 20);
    expect(r, `the daemon acknowledged the ping ${tag}`).not.toBeNull();
  }

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    db = await mysql.createDb();
    dir = tmpDir();
  });
  afterEach(async () => {
    await d?.stop();
    d = undefined;
    await redis.flushall();
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    dir?.cleanup();
    if (figures.length) console.log(`hostile BTU channel figures:\n  ${figures.join('\n  ')}`);
  });

  it('a hijacking response_key leaves every other key byte for byte unchanged, TTLs untouched', async () => {
    const dd = await daemon('hijack');
    await dd.ask({ op: 'pause', id: 'TS-000001', reason: 'maintenance' });
    await eventually(() => redis.exists('pyrq:paused'), 'a pause is recorded');
    // Other people's keys, some with a TTL of their own.
    await redis.lpush('rq:queue:default', 'job-1', 'job-2');
    await redis.hset('victim:hash', 'a', '1');
    await redis.expire('victim:hash', 3600);
    await redis.lpush('victim:list', 'x');
    await redis.set('victim:string', 'v', 'EX', 7200);
    // Under BTU's own prefix, but not a list: the script refuses it.
    await redis.hset('btu:scheduler:rpc:not-a-list', 'f', 'v');
    await redis.expire('btu:scheduler:rpc:not-a-list', 1800);

    const targets = [
      'pyrq:index',
      'pyrq:paused',
      'rq:queue:default',
      'victim:hash',
      'victim:list',
      'victim:string',
      'btu:scheduler:rpc:not-a-list',
    ];
    const snapshot = async () => {
      const out: Record<string, { dump: string; pttl: number }> = {};
      for (const k of targets) {
        const [dump, pttl] = await Promise.all([redis.dumpBuffer(k), redis.pttl(k)]);
        out[k] = { dump: dump?.toString('base64') ?? 'absent', pttl };
      }
      return out;
    };
    // Every key but the daemon's own bookkeeping (lease, facts, source status), which it rewrites by itself.
    const everyKey = async () => {
      const out: Record<string, string> = {};
      for (const k of (await redis.keys('*')).sort()) {
        if (['pyrq:leader', 'pyrq:daemon', 'pyrq:sources'].includes(k)) continue;
        out[k] = (await redis.dumpBuffer(k))?.toString('base64') ?? 'absent';
      }
      return out;
    };
    const before = await snapshot();
    const beforeAll = await everyKey();
    const t0 = Date.now();

    const hijacks = [
      ...targets.map((k) => cmd('ping', null, k)),
      ...targets.map((k) => cmd('create_task_schedule', 'TS-000002', k)),
      cmd('ping', null, 'btu:scheduler:rpc:'), // the prefix alone names no reply key
      cmd('ping', null, 'btu:scheduler:commands'),
    ];
    for (const h of hijacks) await redis.lpush(COMMANDS, h);
    await sync('hijack');

    const after = await snapshot();
    const elapsed = Date.now() - t0;
    for (const k of targets) {
      expect(after[k]!.dump, `${k} unchanged`).toBe(before[k]!.dump);
      if (before[k]!.pttl < 0) expect(after[k]!.pttl, `${k} still has no TTL`).toBe(before[k]!.pttl);
      else {
        // Counted down, never reset (BTU's EXPIRE 60 would have cut it to 60 s).
        expect(after[k]!.pttl, `${k} TTL not reset`).toBeLessThanOrEqual(before[k]!.pttl);
        expect(after[k]!.pttl, `${k} TTL not shortened`).toBeGreaterThan(before[k]!.pttl - elapsed - 5_000);
      }
    }
    expect(await everyKey()).toEqual(beforeAll);
    // Each refused with a log line; the one under BTU's prefix reached the script, which refused to write.
    await eventually(
      async () => dd.logs.filter((l) => l.msg === 'refused a BTU command').length === hijacks.length - 2,
      'every hijack outside the prefix refused in the log',
    );
    const refused = dd.logs.filter((l) => l.msg === 'refused a BTU command');
    expect(refused.every((l) => /response_key is not one of BTU's reply keys/.test(String(l.reason)))).toBe(true);
    expect(
      dd.logs.filter(
        (l) =>
          l.msg === 'BTU command not acknowledged: its response_key holds another type of value' &&
          l.responseKey === 'btu:scheduler:rpc:not-a-list',
      ),
    ).toHaveLength(2);
    // The paused schedule is still paused (the daemon did not lose its pauses).
    expect(await redis.hexists('pyrq:paused', 'TS-000001')).toBe(1);
  });

  it('refuses oversized commands and content with a log line carrying a bounded prefix', async () => {
    const dd = await daemon('oversized');
    const huge = 'A'.repeat(10 * 1024 * 1024); // the 10 MB create_task_schedule
    const long = 'B'.repeat(BTU_MAX_CONTENT_CHARS + 1);
    await redis.lpush(COMMANDS, cmd('create_task_schedule', huge, 'btu:scheduler:rpc:huge'));
    await redis.lpush(COMMANDS, cmd('create_task_schedule', long, 'btu:scheduler:rpc:long'));
    await redis.lpush(COMMANDS, cmd('create_task_schedule', 'TS-000003', 'btu:scheduler:rpc:ok'));
    await sync('oversized');

    const dropped = await dd.waitForLog((l) => l.msg === 'dropped a malformed BTU command');
    expect(dropped.reason).toMatch(/^\d+ characters long; a command has at most 4096$/);
    const refused = await dd.waitForLog((l) => l.msg === 'refused a BTU command');
    expect(refused.reason).toBe(
      `request_content is ${long.length} characters; at most ${BTU_MAX_CONTENT_CHARS} are accepted (BTU names are at most 140)`,
    );
    // Neither was answered; the good one was.
    expect(await redis.exists('btu:scheduler:rpc:huge', 'btu:scheduler:rpc:long')).toBe(0);
    expect(await redis.llen('btu:scheduler:rpc:ok')).toBe(1);
    await dd.waitForLog((l) => l.msg === 'BTU command' && l.content === 'TS-000003');
    // No log field carries more than a bounded prefix of what the command held.
    const longest = Math.max(...dd.logs.map((l) => JSON.stringify(l).length));
    expect(longest).toBeLessThan(4 * LOG_EXCERPT_CHARS + 2000);
    figures.push(`longest log line after a 10 MB command: ${longest} characters`);
  });

  it(`${BACKLOG} queued commands: memory bounded, and after SIGTERM each one acted on or still in Redis`, async () => {
    // At info: the debug lines of ~2,000 commands are not what this test is about.
    const dd = await daemon('backlog', 'info');
    const pid = dd.proc.pid!;
    // Measured from the end of the first reconcile, which can come after the rows are seen
    // applied (the dispatcher's thread, an isolate of its own, starts right after it).
    await dd.waitForLog((l) => l.msg === 'first reconcile finished: dispatching', 30_000);
    const rssBefore = rssMb(pid);
    // Names of an allowed length (BTU's are <= 140; these are longer, so a held command costs memory).
    const content = (i: number) => `TS-${String(i).padStart(6, '0')}-${'x'.repeat(500)}`;
    for (let i = 0; i < BACKLOG; i += 5_000) {
      const p = redis.pipeline();
      for (let j = i; j < i + 5_000; j++) p.lpush(COMMANDS, cmd('create_task_schedule', content(j), null));
      await p.exec();
    }
    // Give an unbounded intake time to take everything it can.
    let rssPeak = rssMb(pid);
    for (let t = 0; t < 16; t++) {
      await new Promise((r) => setTimeout(r, 500));
      rssPeak = Math.max(rssPeak, rssMb(pid));
    }
    const acted = () => dd.logs.filter((l) => l.msg === 'BTU command' || l.msg === 'BTU command failed').length;
    const waiting = await redis.llen(COMMANDS);
    const taken = BACKLOG - waiting;
    figures.push(
      `backlog: ${taken} of ${BACKLOG} taken after 8 s, ${acted()} acted on; RSS ${rssBefore.toFixed(0)} -> peak ${rssPeak.toFixed(0)} MB`,
    );
    // Taken but not acted on: at most the bound (plus what was acted on but not yet logged).
    expect(taken - acted()).toBeLessThanOrEqual(BTU_MAX_IN_FLIGHT + 20);
    expect(rssPeak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MB);

    expect(await dd.stop('SIGTERM')).toBe(0);
    const left = (await redis.llen(COMMANDS)) + (await redis.llen(FORWARD));
    const putBack = dd.logs.find(
      (l) => l.msg === 'BTU commands taken but not acted on were put back for the next leader',
    );
    figures.push(
      `after SIGTERM: ${acted()} acted on, ${left} still in Redis (${String(putBack?.count ?? 0)} put back)`,
    );
    expect(acted() + left).toBe(BACKLOG);
    // Put back in order, oldest first: the next leader pops the oldest (rightmost) first.
    const forwarded = await redis.lrange(FORWARD, 0, -1);
    const seq = forwarded.map((r) => Number(/TS-(\d+)/.exec(r)![1])).reverse();
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
  }, 180_000);
});
