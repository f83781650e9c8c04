import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { DaemonProcess } from './daemon.js';
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
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  await w.server.close();
  w.dir.cleanup();
}
