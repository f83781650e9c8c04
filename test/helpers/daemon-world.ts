import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { type DaemonProcess, startDaemon } from './daemon.js';
import { type PrivateRedis, startRedis } from './redis-server.js';
import { tmpDir } from './tmp-dir.js';

/** What a test of real daemons starts from: a private Redis, a temporary directory and its empty `schedules/`. */
export interface DaemonWorld {
  server: PrivateRedis;
  redis: Redis;
  dir: ReturnType<typeof tmpDir>;
  schedules: string;
}

export async function startDaemonWorld(): Promise<DaemonWorld> {
  const server = await startRedis();
  const dir = tmpDir();
  const schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
  return { server, redis: server.client(), dir, schedules };
}

/** Kills the test's daemons (SIGKILL: nothing of theirs is checked after the test), then stops its Redis and removes its directory. */
export async function stopDaemonWorld(w: Pick<DaemonWorld, 'server' | 'dir'>, daemons: DaemonProcess[]): Promise<void> {
  for (const d of daemons.splice(0)) {
    try {
      d.proc.kill('SIGCONT'); // a test may have frozen it
    } catch {
      // already gone
    }
    await d.stop('SIGKILL');
  }
  await w.server.close();
  w.dir.cleanup();
}

/** A daemon's configuration file in a world; everything not given is the tests' usual. */
export interface WorldDaemonOptions {
  /** TOML before the first table: top-level keys, or tables of its own. */
  top?: string;
  /** The schedules directory, relative to the world's directory. Default `schedules`. */
  schedulesDir?: string;
  /** Default '2s': a dead leader is replaced within seconds. */
  leaseTtl?: string;
  /** More `[daemon]` keys, one per line (`resyncInterval = "1s"`). */
  daemon?: string;
  /** More arguments for `pyrq daemon`. */
  args?: string[];
  /** More environment for the process (a shifted clock: faketime.ts). */
  env?: Record<string, string>;
  waitReady?: boolean;
}

/** Writes `<dir>/<name>.toml` (Redis of the world, a file source, the socket `<dir>/<name>.sock`) and returns its path. */
export function worldDaemonConfig(
  w: Pick<DaemonWorld, 'server' | 'dir'>,
  name: string,
  o: WorldDaemonOptions = {},
): string {
  const path = join(w.dir.path, `${name}.toml`);
  const schedules = o.schedulesDir ?? 'schedules';
  mkdirSync(join(w.dir.path, schedules), { recursive: true });
  writeFileSync(
    path,
    `${o.top ?? ''}\n[redis]\nurl = "${w.server.url}"\n[files]\ndir = "${schedules}"\n[daemon]\nsocket = "${join(w.dir.path, `${name}.sock`)}"\nleaseTtl = "${o.leaseTtl ?? '2s'}"\n${o.daemon ?? ''}\n`,
  );
  return path;
}

/** Starts `pyrq daemon --config <name>.toml` in the world (see worldDaemonConfig) and adds it to `track` (stopped by stopDaemonWorld). */
export async function startWorldDaemon(
  w: Pick<DaemonWorld, 'server' | 'dir'>,
  name: string,
  o: WorldDaemonOptions = {},
  track?: DaemonProcess[],
): Promise<DaemonProcess> {
  const cfg = worldDaemonConfig(w, name, o);
  const d = await startDaemon(['--config', cfg, ...(o.args ?? [])], {
    socket: join(w.dir.path, `${name}.sock`),
    ...(o.env ? { env: o.env } : {}),
    ...(o.waitReady === false ? { waitReady: false } : {}),
  });
  track?.push(d);
  return d;
}

/**
 * A fresh world for every test of the file (beforeEach/afterEach registered here), with
 * the daemons it starts killed after each test: nothing is shared between tests.
 * Read `world` inside a test or hook, not at the file's top level.
 */
export function useDaemonWorld(): {
  readonly world: DaemonWorld;
  readonly daemons: DaemonProcess[];
  daemon(name: string, o?: WorldDaemonOptions): Promise<DaemonProcess>;
  config(name: string, o?: WorldDaemonOptions): string;
} {
  let current: DaemonWorld | undefined;
  const daemons: DaemonProcess[] = [];
  beforeEach(async () => {
    current = await startDaemonWorld();
  });
  afterEach(async () => {
    if (current) await stopDaemonWorld(current, daemons);
    current = undefined;
  });
  const world = (): DaemonWorld => {
    if (!current) throw new Error('useDaemonWorld: the world exists only inside a test');
    return current;
  };
  return {
    get world() {
      return world();
    },
    daemons,
    daemon: (name, o) => startWorldDaemon(world(), name, o, daemons),
    config: (name, o) => worldDaemonConfig(world(), name, o),
  };
}
