import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 26, point 1: one writer per source. A running daemon on directory A owns the
// "files" source; one-shot commands reading it from elsewhere are refused, and a foreign
// write the daemon sees is undone.

/** How long the daemon may take to notice and repair a foreign write (the bound is 1 s; generous under load). */
const REPAIR_WITHIN_MS = 5000;

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let a: string;
let b: string;
let env: Record<string, string | undefined>;
let daemon: DaemonProcess | undefined;

const write = (d: string, id: string) =>
  writeFileSync(join(d, `${id}.json`), JSON.stringify({ id, function: 'app.tasks.run', every: 3600 }));
const ids = async () => (await redis.hkeys('pyrq:index')).sort();

beforeEach(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  a = join(dir.path, 'a');
  b = join(dir.path, 'b');
  mkdirSync(a);
  mkdirSync(b);
  write(a, 'one');
  write(a, 'two');
  write(b, 'three');
  env = { PYRQ_CONFIG: undefined, PYRQ_DIR: undefined, PYRQ_REDIS_URL: server.url, PYRQ_SOCKET: join(dir.path, 's') };
  daemon = await startDaemon(['--dir', a, '--redis-url', server.url], {
    socket: join(dir.path, 's'),
    env: { PYRQ_STATE_DIR: join(dir.path, 'state') },
  });
  await daemon.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
  await eventually(async () => (await redis.hget('pyrq:daemon', 'owner')) !== null, 'the daemon records its sources');
});

afterEach(async () => {
  await daemon?.stop('SIGKILL');
  daemon = undefined;
  await server.close();
  dir.cleanup();
});

describe('one writer per source', () => {
  it('apply --dir B beside a daemon on A: refused with exit 3, naming the daemon and both places; A intact', async () => {
    const r = await pyrq(['apply', '--dir', b], { env });
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.stderr).toContain(`source "files" is owned by the pyrq daemon on`);
    expect(r.stderr).toContain(`(pid ${daemon!.proc.pid})`);
    expect(r.stderr).toContain(`which reads ${a}`);
    expect(r.stderr).toContain(`this apply reads ${b}`);
    expect(r.stderr).toContain('it would delete one, create three, delete two: refused, nothing written');
    expect(await ids()).toEqual(['one', 'two']);
    const json = await pyrq(['apply', '--dir', b, '--json'], { env });
    expect(json.code).toBe(3);
    expect(json.json()).toMatchObject({ error: { code: 'OWNED_BY_DAEMON' } });
    // tick takes the same path, before firing anything.
    const tick = await pyrq(['tick', '--dir', b], { env });
    expect(tick.code, tick.stderr).toBe(3);
    expect(tick.stderr).toContain('this tick reads');
    expect(await ids()).toEqual(['one', 'two']);
  });

  it('apply with the same configuration as the daemon proceeds (exit 0)', async () => {
    const r = await pyrq(['apply', '--dir', a], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(await ids()).toEqual(['one', 'two']);
  });

  it('apply --force writes, and the daemon notices the foreign write and restores its own, with a warning', async () => {
    const r = await pyrq(['apply', '--dir', b, '--force'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+ create three');
    const t0 = Date.now();
    // The forced write stood for a moment at most: the daemon put A back.
    const restored = await eventually(
      async () => {
        const now = await ids();
        return now.join() === 'one,two' ? now : undefined;
      },
      'the daemon restores its own entries',
      REPAIR_WITHIN_MS,
    );
    expect(restored).toEqual(['one', 'two']);
    console.log(`foreign write undone ${Date.now() - t0} ms after the forced apply exited`);
    const warning = await daemon!.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.includes('that this daemon owns'),
    );
    expect(warning.msg).toMatch(/^pyrq apply \(.+:\d+\) wrote 3 entries of source\(s\) files that this daemon owns/);
    expect(warning.restored).toEqual({ created: ['one', 'two'], updated: [], deleted: ['three'] });
    expect(warning.level).toBe(40);
  });

  it('prune of the source the daemon owns is refused (exit 3); with --force it goes and the daemon restores it', async () => {
    const r = await pyrq(['prune', '--source', 'files', '--yes'], { env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`source "files" is owned by the pyrq daemon on`);
    expect(r.stderr).toContain(`which reads ${a}`);
    expect(await ids()).toEqual(['one', 'two']);
    // --dry-run still shows the plan.
    const dry = await pyrq(['prune', '--source', 'files', '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('- delete one');
    const forced = await pyrq(['prune', '--source', 'files', '--yes', '--force'], { env });
    expect(forced.code, forced.stderr).toBe(0);
    await eventually(
      async () => (await ids()).join() === 'one,two',
      'the daemon restores what it reads',
      REPAIR_WITHIN_MS,
    );
  });

  it('prune of an unknown source name is an error with the closest known name; a known one without entries is fine', async () => {
    const r = await pyrq(['prune', '--source', 'mysq', '--dry-run'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no source "mysq" (did you mean "mysql"?): the registry holds schedules of "files"');
    const typo = await pyrq(['prune', '--source', 'fils', '--yes', '--json'], { env });
    expect(typo.code).toBe(1);
    expect(typo.json()).toMatchObject({ error: { code: 'UNKNOWN_SOURCE' } });
    expect(typo.json().error.message).toContain('(did you mean "files"?)');
    const none = await pyrq(['prune', '--source', 'mysql', '--yes'], { env });
    expect(none.code, none.stderr).toBe(0);
    expect(await ids()).toEqual(['one', 'two']);
  });

  it('a raw write to the index (redis-cli) is repaired too when the server publishes keyspace notifications', async () => {
    // pyrq never turns them on; an operator may (notify-keyspace-events with K and h).
    await redis.config('SET', 'notify-keyspace-events', 'Kh');
    await daemon!.stop('SIGTERM');
    daemon = await startDaemon(['--dir', a, '--redis-url', server.url, '--log-level', 'debug'], {
      socket: join(dir.path, 's'),
      env: { PYRQ_STATE_DIR: join(dir.path, 'state') },
    });
    await daemon.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
    await daemon.waitForLog((l) => l.msg === 'watching the index for writes outside pyrq');
    await redis.hdel('pyrq:index', 'one');
    const t0 = Date.now();
    await eventually(async () => (await ids()).join() === 'one,two', 'the daemon restores the entry', REPAIR_WITHIN_MS);
    console.log(`raw index write undone ${Date.now() - t0} ms after it`);
    const warning = await daemon.waitForLog((l) => String(l.msg).startsWith('a client outside pyrq'));
    expect(warning.msg).toBe(
      "a client outside pyrq changed the registry index (hdel) of source(s) files, socket that this daemon owns: restored this daemon's own (1 created, 0 updated, 0 deleted)",
    );
    // Its own repair (a write with a notice) is not taken for another raw write: one warning.
    await new Promise((r) => setTimeout(r, 1500));
    expect(daemon.logs.filter((l) => String(l.msg).startsWith('a client outside pyrq'))).toHaveLength(1);
  });

  it('after the daemon stops, its ownership lapses with its lease: apply --dir B proceeds', async () => {
    await daemon!.stop('SIGTERM');
    daemon = undefined;
    const r = await pyrq(['apply', '--dir', b], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(await ids()).toEqual(['three']);
  });
});
