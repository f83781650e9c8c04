import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { Registry } from '../../src/registry/registry.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { firedSince } from '../helpers/faults.js';
import { useDaemonWorld } from '../helpers/daemon-world.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import { ListSource, makeSpec } from '../helpers/schedules.js';
import type { tmpDir } from '../helpers/tmp-dir.js';

// Orphans, prune and delete (issue 12, points 3 and 4), with a real daemon.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
let env: Record<string, string | undefined>;
let daemon: DaemonProcess | undefined;

// Each test has its own Redis and directory (useDaemonWorld; it also kills the daemon).
const w = useDaemonWorld();

beforeEach(() => {
  ({ server, redis, dir, schedules } = w.world);
  writeFileSync(join(schedules, 'a.json'), JSON.stringify({ id: 'file-owned', function: 'app.tasks.run', every: 60 }));
  env = {
    PYRQ_CONFIG: undefined,
    PYRQ_REDIS_URL: server.url,
    PYRQ_DIR: schedules,
    PYRQ_SOCKET: join(dir.path, 'pyrq.sock'),
  };
});

const start = async () => {
  daemon = await startDaemon(['--dir', schedules, '--redis-url', server.url], { socket: join(dir.path, 'pyrq.sock') });
  w.daemons.push(daemon);
  await daemon.waitForLog((l) => l.msg === 'first reconcile finished: dispatching');
  return daemon;
};

describe('orphans and prune', () => {
  it('a source dropped from the config: one warning at start, listed by status and diff, still firing; prune shows the plan, needs --yes, removes it', async () => {
    // What a run configured with --mysql-url left in the registry (the source named "mysql").
    await reconcileOnce({
      sources: [new ListSource('mysql', [makeSpec({ id: 'btu-row', function: 'app.tasks.run', every: 1 })])],
      registry: new Registry(redis),
      clock: systemClock,
    });
    const d = await start();
    const warning = await d
      .waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('not configured here keep firing'))
      .catch((e: Error) => {
        throw new Error(`${e.message}; warnings: ${JSON.stringify(d.logs.filter((l) => Number(l.level) >= 40))}`);
      });
    expect(warning.msg).toMatch(/mysql \(1\).*"pyrq prune --source NAME" removes them/);
    expect(d.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('not configured here'))).toHaveLength(1);
    await firedSince(redis, 'default', 'btu-row', 0, 2); // kept firing
    const st = await pyrq(['status', '--json'], { env });
    expect(st.json()).toMatchObject({ via: 'daemon', orphans: [{ source: 'mysql', schedules: 1 }] });
    const fromRedis = await pyrq(['status', '--no-daemon'], { env });
    expect(fromRedis.stdout).toMatch(
      /^Orphans \(sources not configured in the daemon.*\n {2}source "mysql" is not configured in this run but owns 1 schedule\(s\)/m,
    );
    expect((await pyrq(['diff'], { env })).stdout).toMatch(
      /^Note: source "mysql" is not configured in this run but owns 1 schedule\(s\): they keep firing; "pyrq prune --source mysql" removes them\.$/m,
    );

    const dry = await pyrq(['prune', '--source', 'mysql', '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}- delete btu-row {2}\(mysql: test\)/m);
    const unconfirmed = await pyrq(['prune', '--source', 'mysql'], { env });
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/pass --yes to confirm/);
    expect(await redis.hexists('pyrq:index', 'btu-row')).toBe(1);
    const pruned = await pyrq(['prune', '--source', 'mysql', '--yes', '--json'], { env });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.json().applied.deleted).toEqual(['btu-row']);
    expect(await redis.exists('pyrq:schedule:btu-row', 'pyrq:runs:btu-row')).toBe(0);
    expect(await redis.zscore('pyrq:next', 'btu-row')).toBeNull();
    expect(await redis.hexists('pyrq:index', 'file-owned')).toBe(1);
    expect((await pyrq(['status', '--json'], { env })).json().orphans).toEqual([]);
  }, 90_000);
});

describe('delete', () => {
  it('deletes pushed ids (through the daemon, and in Redis without one); refuses a file-owned id naming its owner and where to remove it', async () => {
    const d = await start();
    expect(
      (
        await d.ask({
          op: 'upsert',
          schedules: [
            { id: 'p1', function: 'app.tasks.run', every: 30 },
            { id: 'p2', function: 'app.tasks.run', every: 30 },
          ],
        })
      ).ok,
    ).toBe(true);
    expect((await pyrq(['pause', 'p2'], { env })).code).toBe(0);
    const viaDaemon = await pyrq(['delete', 'p1', '--json'], { env });
    expect(viaDaemon.code, viaDaemon.stderr).toBe(0);
    expect(viaDaemon.json()).toEqual({ deleted: ['p1'], refused: [], via: 'daemon' });
    expect(await redis.hexists('pyrq:index', 'p1')).toBe(0);
    const refused = await pyrq(['delete', 'file-owned'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/file-owned: .*source "files" \(a\.json\)/);
    expect(await redis.hexists('pyrq:index', 'file-owned')).toBe(1);

    expect(await d.stop()).toBe(0);
    daemon = undefined;
    const direct = await pyrq(['delete', 'p2', 'file-owned', 'never', '--json'], { env });
    expect(direct.code).toBe(1);
    expect(direct.json()).toMatchObject({ deleted: ['p2'], via: 'redis' });
    expect(direct.json().refused).toEqual([
      {
        id: 'file-owned',
        reason: 'owned by source "files" (a.json), not pushed: remove it from a.json in the schedules directory',
      },
      { id: 'never', reason: 'no such pushed schedule' },
    ]);
    expect(await redis.hexists('pyrq:index', 'p2')).toBe(0);
    expect(await redis.hexists('pyrq:source:socket', 'p2')).toBe(0);
    expect(await redis.exists('pyrq:paused')).toBe(0); // its pause went with it
  }, 90_000);
});
