import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 17: the daemon's log tells what happened, captured from real daemons.
type Line = Record<string, unknown>;
const msg = (l: Line) => String(l.msg ?? '');

/**
 * Writes the config and the two schedule files every daemon here starts from into `path`
 * and starts a leading daemon on them (at debug, its socket `a.sock` in `path`), resolved
 * once it has created both.
 */
async function startLeader(server: PrivateRedis, path: string): Promise<DaemonProcess> {
  const schedules = join(path, 'schedules');
  mkdirSync(schedules);
  writeFileSync(
    join(schedules, 'billing.json'),
    JSON.stringify({ id: 'nightly', function: 'app.tasks.run', every: 60 }),
  );
  writeFileSync(
    join(schedules, 'reports.json'),
    JSON.stringify({ id: 'weekly', function: 'app.tasks.report', cron: '0 9 * * 1' }),
  );
  writeFileSync(join(path, 'pyrq.toml'), '[daemon]\nleaseTtl = "2s"\n');
  const d = await startDaemon(
    ['--config', join(path, 'pyrq.toml'), '--dir', schedules, '--redis-url', server.url, '--log-level', 'debug'],
    { socket: join(path, 'a.sock') },
  );
  try {
    await d.waitForLog((l) => l.msg === 'reconcile' && (l.created as number) === 2);
  } catch (e) {
    await d.stop('SIGKILL');
    throw e;
  }
  return d;
}

/**
 * A leader of the calling test's own (its private Redis, directory and socket), stopped when
 * the test ends: a test that edits the files, adds a daemon or stops Redis changes nothing
 * another test sees, so each runs alone and in any order.
 */
async function ownLeader(): Promise<{ server: PrivateRedis; dir: string; schedules: string; leader: DaemonProcess }> {
  const server = await startRedis();
  onTestFinished(() => server.close());
  const dir = tmpDir();
  onTestFinished(() => dir.cleanup());
  const leader = await startLeader(server, dir.path);
  onTestFinished(async () => void (await leader.stop('SIGKILL')));
  return { server, dir: dir.path, schedules: join(dir.path, 'schedules'), leader };
}

/** No error a daemon logged carries an empty stack. */
function expectNoEmptyStacks(d: DaemonProcess): void {
  for (const l of d.logs) {
    const err = l.err as { stack?: unknown } | undefined;
    if (err && 'stack' in err) expect(String(err.stack).trim()).not.toBe('');
  }
}

// One leader shared by the tests that only read its start-up log or ask its socket: none
// of them changes its files, its Redis or its leadership.
let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
let leader: DaemonProcess;

beforeAll(async () => {
  server = await startRedis();
  dir = tmpDir();
  schedules = join(dir.path, 'schedules');
  leader = await startLeader(server, dir.path);
});

afterAll(async () => {
  await leader?.stop('SIGKILL');
  await server?.close();
  dir?.cleanup();
});

describe('the daemon log', () => {
  it('the start line names every source by location, the socket, Redis without secrets, and counts', async () => {
    const start = await leader.waitForLog((l) => l.msg === 'pyrq daemon started');
    expect(start.sources).toEqual({ files: schedules, socket: join(dir.path, 'a.sock') });
    expect(start.socket).toBe(join(dir.path, 'a.sock'));
    expect(start.redis).toBe(server.url);
    expect(start.sourceCount).toBe(2);
    expect(start.registered).toBe(0);
  });

  it('each create is one line with op, id, source, origin', async () => {
    const created = await leader.waitForLog((l) => l.op === 'create' && l.id === 'weekly');
    expect(created).toMatchObject({
      source: 'files',
      origin: 'reports.json',
      msg: 'created weekly (files:reports.json)',
    });
  });

  it('an edit logs the changed id, its file and the fields; debug says why the reconcile ran, naming the file', async () => {
    const { schedules, leader } = await ownLeader();
    writeFileSync(
      join(schedules, 'billing.json'),
      JSON.stringify({ id: 'nightly', function: 'app.tasks.run', every: 120, queue: 'low' }),
    );
    const line = await leader.waitForLog((l) => l.op === 'update' && l.id === 'nightly');
    expect(line).toMatchObject({ source: 'files', origin: 'billing.json', fields: ['every', 'queue'] });
    expect(msg(line)).toBe('updated nightly (files:billing.json): every, queue');
    const why = await leader.waitForLog(
      (l) => l.level === 20 && msg(l).startsWith('reconcile started') && l.run === line.run,
    );
    expect(String(why.reason)).toContain('billing.json');
    const summary = await leader.waitForLog((l) => l.msg === 'reconcile' && l.run === line.run);
    expect(summary).toMatchObject({ updated: 1, schedules: { files: 2 } });
    expect(String(summary.reason)).toContain('billing.json');
    expectNoEmptyStacks(leader);
  });

  it('a delete logs the id and the file it came from', async () => {
    const { schedules, leader } = await ownLeader();
    rmSync(join(schedules, 'reports.json'));
    const line = await leader.waitForLog((l) => l.op === 'delete' && l.id === 'weekly');
    expect(line).toMatchObject({ source: 'files', origin: 'reports.json', msg: 'deleted weekly (files:reports.json)' });
    expectNoEmptyStacks(leader);
  });

  it('many changes: one line each up to the cap, then a count', async () => {
    const { schedules, leader } = await ownLeader();
    for (let i = 0; i < 25; i++)
      writeFileSync(
        join(schedules, `bulk-${i}.json`),
        JSON.stringify({ id: `bulk-${i}`, function: 'app.tasks.run', every: 60 }),
      );
    // The watcher may split the 25 files over several reconciles: wait until all are logged or counted.
    const counted = () =>
      leader.logs.filter((l) => l.op === 'create' && String(l.id).startsWith('bulk-')).length +
      leader.logs.filter((l) => typeof l.more === 'number').reduce((n, l) => n + (l.more as number), 0);
    await leader.waitForLog(() => counted() >= 25, 20_000);
    const perRun = new Map<unknown, number>();
    for (const l of leader.logs)
      if (l.op === 'create' && String(l.id).startsWith('bulk-')) perRun.set(l.run, (perRun.get(l.run) ?? 0) + 1);
    for (const n of perRun.values()) expect(n).toBeLessThanOrEqual(20);
    expectNoEmptyStacks(leader);
  });

  it('a standby says who leads; its errors never carry an empty stack', async () => {
    const { server, dir, schedules, leader } = await ownLeader();
    const became = await leader.waitForLog((l) => l.msg === 'became leader');
    const standby = await startDaemon(
      ['--config', join(dir, 'pyrq.toml'), '--dir', schedules, '--redis-url', server.url],
      { socket: join(dir, 'b.sock') },
    );
    onTestFinished(async () => void (await standby.stop('SIGKILL')));
    const line = await standby.waitForLog((l) => String(l.msg).startsWith('standing by'));
    expect(line.leader).toBe(became.holder);
    expect(msg(line)).toContain(String(became.holder));
    expectNoEmptyStacks(leader);
    expectNoEmptyStacks(standby);
  });

  it('a Redis outage: one warning when lost, one info with the downtime when back, retries at debug only', async () => {
    const { server, leader } = await ownLeader();
    // Redis goes away once the leader is dispatching (its first clock sync done): lost during
    // the dispatcher's start, the clock sync warns on its own (a start-up story, not this one).
    await leader.waitForLog((l) => msg(l) === 'clock offset from Redis');
    const mark = leader.logs.length;
    await server.stop(true);
    await leader.waitForLog((l) => l.level === 40 && msg(l).startsWith('redis connection lost'));
    // Let the daemon retry a while (the retries are logged at debug; wait on them, not on time).
    await leader.waitForLog(
      () => leader.logs.slice(mark).filter((l) => msg(l) === 'redis still unreachable; retrying').length >= 3,
      20_000,
    );
    await server.restart();
    const back = await leader.waitForLog((l) => msg(l) === 'redis connection restored', 20_000);
    expect(back.level).toBe(30);
    expect(back.downtimeMs).toBeGreaterThan(0);
    expect(back.downtime).toMatch(/^\d+(ms|s| ms)|^\d+m \d+s$/);
    const during = leader.logs.slice(mark, leader.logs.indexOf(back));
    const loud = during.filter((l) => (l.level as number) >= 40);
    // Exactly one warning from the connection; a leader may also step down (a transition, named once).
    expect(loud.filter((l) => msg(l).startsWith('redis connection lost'))).toHaveLength(1);
    expect(
      loud.filter((l) => !msg(l).startsWith('redis connection lost') && !msg(l).startsWith('no longer leader')),
    ).toEqual([]);
    expectNoEmptyStacks(leader);
  });
});

describe('the control socket', () => {
  it('answers a client that half-closes its side after writing its request', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.createConnection(join(dir.path, 'a.sock'));
      let text = '';
      s.on('connect', () => s.end('{"op":"status"}\n')); // write, then shut down the write side
      s.on('data', (d) => (text += String(d)));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    const parsed = JSON.parse(reply.trim()) as { ok: boolean; result: { daemon: { pid: number } } };
    expect(parsed.ok).toBe(true);
    expect(parsed.result.daemon.pid).toBe(leader.proc.pid);
  });

  it('a client that half-closes in the middle of a message is told so', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.createConnection(join(dir.path, 'a.sock'));
      let text = '';
      s.on('connect', () => s.end('{"op":"sta'));
      s.on('data', (d) => (text += String(d)));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    expect(JSON.parse(reply.trim())).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('incomplete message') },
    });
  });
});
