import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, type CliResult, pyrq } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import { createThrowawayDb, MYSQL_HOST, MYSQL_PORT, type ThrowawayDb, uniqueName } from '../helpers/mysql.js';
import { type SecureServer, startPasswordRedis } from '../helpers/redis-secure.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/**
 * A planted password must never be printed: it is the password of a private redis-server
 * (--requirepass) and of a MariaDB user, given in the Redis URL, the MySQL URL,
 * PYRQ_MYSQL_PASSWORD, a config file and a password file. Every command that can print it
 * runs with and without --json, at debug level, and with wrong passwords (the wrong one
 * contains the planted one), and so does the daemon with a log file; every byte of
 * stdout, stderr, the log files and the Redis registry is searched for it.
 */
// The '@' is written unencoded in the URLs, as ioredis and WHATWG URLs accept it (the
// credentials end at the last '@'); a redaction that stopped at the first one printed
// the rest. Both halves are searched for, so half a password counts as a leak too.
const PW = 's3cret@PLANT-8d1f';
const FRAGMENTS = ['s3cret', 'PLANT-8d1f'];
const WRONG = `${PW}-wrong`;
const SITE = 'erp.example.com';

let redisServer: SecureServer;
let redis: Redis;
let db: ThrowawayDb;
let mysqlUser: string;
let tmp: ReturnType<typeof tmpDir>;
let dir: string;
/** Everything pyrq printed or wrote, by what produced it. */
const outputs: { label: string; text: string }[] = [];

const redisUrl = (pw: string) => `redis://default:${pw}@127.0.0.1:${redisServer.port}/0`;
const mysqlUrl = (pw?: string) => `mysql://${mysqlUser}${pw ? `:${pw}` : ''}@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`;
const baseEnv = () => ({
  PYRQ_CONFIG: undefined,
  PYRQ_REDIS_URL: undefined,
  PYRQ_DIR: undefined,
  PYRQ_MYSQL_URL: undefined,
  PYRQ_MYSQL_PASSWORD: undefined,
  PYRQ_FRAPPE_SITE: SITE,
});

beforeAll(async () => {
  redisServer = await startPasswordRedis(PW);
  redis = redisServer.client();
  db = await createThrowawayDb({ sqlFile: join(ROOT, 'fixtures', 'btu.sql') });
  mysqlUser = uniqueName('pyrq_sec');
  await db.exec(`CREATE USER ?@'%' IDENTIFIED BY ?`, [mysqlUser, PW]);
  for (const t of ['tabBTU Task Schedule', 'tabBTU Task', 'tabSingles'])
    await db.exec(`GRANT SELECT ON \`${db.name}\`.\`${t}\` TO ?@'%'`, [mysqlUser]);
  tmp = tmpDir('pyrq-secrets-');
  dir = join(tmp.path, 'schedules');
  cpSync(join(ROOT, 'fixtures', 'schedules'), dir, { recursive: true });
});
afterAll(async () => {
  await redisServer?.close();
  if (db) {
    await db.exec(`DROP USER IF EXISTS ?@'%'`, [mysqlUser]);
    await db.drop();
  }
  tmp?.cleanup();
});

async function run(label: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const r = await pyrq(args, { env: { ...baseEnv(), ...env }, timeoutMs: 60_000 });
  outputs.push({ label: `${label} (stdout)`, text: r.stdout }, { label: `${label} (stderr)`, text: r.stderr });
  return r;
}

/** Runs in batches, so a loaded machine is not flooded with node processes. */
async function runAll(jobs: (() => Promise<unknown>)[], width = 4): Promise<void> {
  for (let i = 0; i < jobs.length; i += width) await Promise.all(jobs.slice(i, i + width).map((j) => j()));
}

// A declared sequence (kept in order under --sequence.shuffle): the last test is a sweep
// over every output, log file and Redis value the tests before it produced.
describe('secrets are redacted everywhere', { shuffle: false }, () => {
  it('one-shot commands: apply, diff, status, validate; text and --json; debug; right and wrong passwords', async () => {
    const ok = redisUrl(PW);
    const bad = redisUrl(WRONG);
    const d = ['--dir', dir];
    const codes = new Map<string, number | null>();
    const job =
      (label: string, args: string[], env: Record<string, string | undefined> = {}) =>
      async () =>
        codes.set(label, (await run(label, args, env)).code);
    await runAll([
      job('apply ok, mysql url, debug', [
        'apply',
        ...d,
        '--redis-url',
        ok,
        '--mysql-url',
        mysqlUrl(PW),
        '--log-level',
        'debug',
      ]),
      job(
        'apply ok, mysql env, json debug',
        ['apply', ...d, '--redis-url', ok, '--mysql-url', mysqlUrl(), '--json', '--log-level', 'debug'],
        { PYRQ_MYSQL_PASSWORD: PW },
      ),
      job('apply ok, mysql url wrong', [
        'apply',
        ...d,
        '--redis-url',
        ok,
        '--mysql-url',
        mysqlUrl(WRONG),
        '--log-level',
        'debug',
      ]),
      job('apply ok, mysql env wrong, json', ['apply', ...d, '--redis-url', ok, '--json'], {
        PYRQ_MYSQL_URL: mysqlUrl(),
        PYRQ_MYSQL_PASSWORD: WRONG,
      }),
      job('apply redis wrong, debug', ['apply', ...d, '--redis-url', bad, '--log-level', 'debug']),
      job('apply redis wrong, json', ['apply', ...d, '--json'], { PYRQ_REDIS_URL: bad }),
      job('apply redis url malformed', ['apply', ...d, '--redis-url', `redis://default:${PW}@127.0.0.1:notaport/0`]),
      job('apply unknown flag', ['apply', ...d, '--redis-url', ok, '--no-such-flag']),
      job('diff ok, debug', ['diff', ...d, '--redis-url', ok, '--mysql-url', mysqlUrl(PW), '--log-level', 'debug']),
      job('diff ok, mysql wrong, json debug', [
        'diff',
        ...d,
        '--redis-url',
        ok,
        '--mysql-url',
        mysqlUrl(WRONG),
        '--json',
        '--log-level',
        'debug',
      ]),
      job('diff redis wrong', ['diff', ...d, '--redis-url', bad], {
        PYRQ_MYSQL_URL: mysqlUrl(),
        PYRQ_MYSQL_PASSWORD: PW,
      }),
      job('diff redis wrong, json debug', ['diff', ...d, '--redis-url', bad, '--json', '--log-level', 'debug']),
      job('status ok, debug', ['status', '--no-daemon', '--redis-url', ok, '--log-level', 'debug']),
      job('status ok, json', ['status', '--no-daemon', '--redis-url', ok, '--json']),
      job('status redis wrong', ['status', '--no-daemon', '--redis-url', bad]),
      job('status redis wrong, json debug', ['status', '--no-daemon', '--json', '--log-level', 'debug'], {
        PYRQ_REDIS_URL: bad,
      }),
      job('validate, debug', ['validate', dir, '--redis-url', ok, '--log-level', 'debug'], {
        PYRQ_MYSQL_URL: mysqlUrl(PW),
      }),
      job('validate, json debug', ['validate', dir, '--redis-url', bad, '--json', '--log-level', 'debug'], {
        PYRQ_MYSQL_URL: mysqlUrl(),
        PYRQ_MYSQL_PASSWORD: PW,
      }),
    ]);
    // The secrets were really used: right ones worked, wrong ones failed.
    // One BTU row is malformed (TS-000007's cron). TS-000006's malformed argument_overrides
    // are BTU's TaskRunner's to read now (btu.runner = task-runner), so that row applies.
    expect(codes.get('apply ok, mysql url, debug')).toBe(1);
    expect(await redis.hlen('pyrq:index')).toBe(13 + 7);
    expect(codes.get('diff ok, debug')).toBe(1);
    expect(codes.get('status ok, json')).toBe(0);
    for (const label of [
      'apply redis wrong, debug',
      'apply redis wrong, json',
      'diff redis wrong',
      'status redis wrong',
      'apply redis url malformed',
    ])
      expect(codes.get(label), label).toBe(1);
    // A usage error: EX_USAGE, not 1 (issue 26).
    expect(codes.get('apply unknown flag')).toBe(64);
    expect(codes.get('validate, debug')).toBe(0);
    const mysqlWrong = outputs.find((o) => o.label === 'apply ok, mysql url wrong (stdout)')!.text;
    expect(mysqlWrong).toMatch(/Access denied/);
  }, 300_000);

  it('config file secrets: redis.password, redis.passwordFile, mysql.passwordFile', async () => {
    writeFileSync(join(tmp.path, 'redis.pw'), `${WRONG}\n`);
    writeFileSync(join(tmp.path, 'mysql.pw'), `${WRONG}\n`);
    const port = redisServer.port;
    const inline = join(tmp.path, 'inline.toml');
    writeFileSync(
      inline,
      `[redis]\nurl = "redis://127.0.0.1:${port}/0"\npassword = "${WRONG}"\n[files]\ndir = "schedules"\n`,
    );
    const files = join(tmp.path, 'files.toml');
    writeFileSync(
      files,
      `[redis]\nurl = "redis://127.0.0.1:${port}/0"\npasswordFile = "redis.pw"\n[mysql]\nurl = "${mysqlUrl()}"\npasswordFile = "mysql.pw"\nsite = "${SITE}"\n`,
    );
    const rs = await Promise.all([
      run('config inline redis.password, debug', ['apply', '--config', inline, '--log-level', 'debug']),
      run('config inline redis.password, json', ['diff', '--config', inline, '--json']),
      run('config password files, json debug', ['apply', '--config', files, '--json', '--log-level', 'debug']),
      run('config password files, status', ['status', '--no-daemon', '--config', files]),
    ]);
    for (const r of rs) expect(r.code).toBe(1);
  }, 120_000);

  it('the daemon at debug level with a log file, status over its socket, and with wrong passwords', async () => {
    const daemon = async (
      label: string,
      args: string[],
      env: Record<string, string | undefined>,
      waitFor: RegExp,
      then?: (socket: string) => Promise<void>,
    ) => {
      const socket = join(tmp.path, `${label.replace(/\W+/g, '-')}.sock`);
      const logFile = join(tmp.path, `${label.replace(/\W+/g, '-')}.log`);
      const proc: ChildProcess = spawn(
        process.execPath,
        [BIN, 'daemon', '--socket', socket, '--log-level', 'debug', '--log-file', logFile, ...args],
        {
          cwd: ROOT,
          env: Object.fromEntries(
            Object.entries({ ...process.env, ...baseEnv(), ...env }).filter(
              (e): e is [string, string] => e[1] !== undefined,
            ),
          ),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      proc.stdout!.on('data', (b) => (stdout += String(b)));
      proc.stderr!.on('data', (b) => (stderr += String(b)));
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      try {
        await eventually(
          async () => existsSync(logFile) && waitFor.test(readFileSync(logFile, 'utf8')),
          `${label}: a log line matching ${waitFor}`,
          30_000,
          50,
        );
        if (then) await then(socket);
      } finally {
        proc.kill('SIGTERM');
        await exited;
        outputs.push(
          { label: `daemon ${label} (stdout)`, text: stdout },
          { label: `daemon ${label} (stderr)`, text: stderr },
          { label: `daemon ${label} (log file)`, text: existsSync(logFile) ? readFileSync(logFile, 'utf8') : '' },
        );
      }
    };
    await daemon(
      'healthy',
      ['--dir', dir, '--redis-url', redisUrl(PW), '--mysql-url', mysqlUrl(PW)],
      {},
      /"msg":"reconcile"/,
      async (socket) => {
        const s = await run('status via daemon', ['status', '--socket', socket, '--redis-url', redisUrl(PW)]);
        expect(s.stdout).toMatch(/^Daemon: pid/);
        await run('status via daemon, json debug', ['status', '--socket', socket, '--json', '--log-level', 'debug'], {
          PYRQ_REDIS_URL: redisUrl(PW),
        });
      },
    );
    // MySQL refuses the password: the error reaches the log, the source health in Redis and status.
    await daemon(
      'mysql wrong',
      ['--redis-url', redisUrl(PW)],
      { PYRQ_MYSQL_URL: mysqlUrl(), PYRQ_MYSQL_PASSWORD: WRONG },
      /mysql source is stale/,
      async (socket) => {
        await eventually(
          async () => /Access denied/.test((await redis.hget('pyrq:sources', 'mysql')) ?? ''),
          'the mysql error recorded in pyrq:sources',
          30_000,
          50,
        );
        const s = await run('status via daemon, mysql wrong', [
          'status',
          '--socket',
          socket,
          '--redis-url',
          redisUrl(PW),
        ]);
        expect(s.stdout).toMatch(/Access denied/);
        await run('status via daemon, mysql wrong, json', [
          'status',
          '--socket',
          socket,
          '--json',
          '--redis-url',
          redisUrl(PW),
        ]);
      },
    );
    const fromRedis = await run('status from redis, mysql wrong', [
      'status',
      '--no-daemon',
      '--redis-url',
      redisUrl(PW),
    ]);
    expect(fromRedis.stdout).toMatch(/Source mysql \(mysql:\/\/[^\n]*?\): STALE.*\n.*Access denied/);
    await run('status from redis, mysql wrong, json', ['status', '--no-daemon', '--json', '--redis-url', redisUrl(PW)]);
    await daemon('redis wrong', ['--dir', dir, '--redis-url', redisUrl(WRONG)], {}, /cannot connect to redis/);
  }, 180_000);

  it('no output, log file or registry value holds the planted password', async () => {
    expect(outputs.length).toBeGreaterThan(50);
    // Everything pyrq stored in Redis, value by value (DUMP could hide a string compressed).
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      const values =
        type === 'hash'
          ? Object.entries(await redis.hgetall(key)).flat()
          : type === 'string'
            ? [await redis.get(key)]
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'zset'
                ? await redis.zrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : [];
      outputs.push({ label: `redis ${type} ${key}`, text: values.join('\n') });
    }
    const leaks = outputs.flatMap((o) =>
      FRAGMENTS.filter((f) => o.text.includes(f)).map(
        (f) => `${o.label}: ${o.text.slice(Math.max(0, o.text.indexOf(f) - 120), o.text.indexOf(f) + 40)}`,
      ),
    );
    expect(leaks).toEqual([]);
    // Not vacuous: the URLs were printed, redacted.
    expect(outputs.some((o) => o.text.includes('redis://default:***@127.0.0.1'))).toBe(true);
  });
});
