import type { Redis } from 'ioredis';
import type { DaemonProcess } from './daemon.js';
import { eventually } from './eventually.js';
import type { PrivateRedis } from './redis-server.js';

/** One command Redis ran, as MONITOR reports it: `source` is the caller's address, or `lua` inside a script. */
export interface MonitorLine {
  source: string;
  args: string[];
}

/**
 * MONITOR on a connection of its own (retried while Redis is still coming up); `stop()`
 * returns every command seen since, in the order Redis ran them. Commands a script runs
 * come right after the EVAL/EVALSHA that called it, with the source `lua`.
 */
export async function monitor(server: PrivateRedis): Promise<{ lines: MonitorLine[]; stop(): Promise<MonitorLine[]> }> {
  const lines: MonitorLine[] = [];
  const mon = await eventually(
    async () => {
      const c = server.client();
      try {
        return await c.monitor();
      } catch {
        c.disconnect();
        return null;
      }
    },
    { timeout: 10_000, every: 20, message: 'MONITOR connected' },
  );
  mon.on('monitor', (_time: string, args: string[], source: string) => lines.push({ source, args }));
  return {
    lines,
    async stop() {
      mon.disconnect();
      return lines;
    },
  };
}

/** The addresses (CLIENT LIST `addr`) of the connections named `name`. */
export async function addressesNamed(redis: Redis, name: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const line of String(await redis.client('LIST')).split('\n'))
    if (line.includes(` name=${name} `)) out.add(/addr=(\S+)/.exec(line)![1]!);
  return out;
}

/** The addresses of a daemon's main and fire connections (both named pyrq-daemon-<pid>). */
export function daemonAddresses(redis: Redis, d: DaemonProcess): Promise<Set<string>> {
  return addressesNamed(redis, `pyrq-daemon-${d.proc.pid}`);
}

/** Is the connection at `addr` blocked in a command (BRPOP...) right now? */
export async function isBlocked(redis: Redis, addr: string): Promise<boolean> {
  const line = String(await redis.client('LIST'))
    .split('\n')
    .find((l) => l.includes(`addr=${addr} `));
  return /\bflags=\S*b/.test(line ?? '');
}
