/**
 * Redis: reachable (the doctor's context says), its version, whether it persists
 * anything (a Redis without persistence that restarts loses every entry, pause and
 * pushed schedule), and how far its clock is from this machine's (fires go by Redis's
 * clock; docs/clock.md).
 */
import type { Redis } from 'ioredis';
import { redactUrl } from '../errors.js';
import type { CheckResult, DoctorCheck } from './check.js';

/** Parses `INFO` text into fields. */
export function infoFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** What the server persists, from `CONFIG GET save` and `appendonly` (or INFO when CONFIG is refused). Pure. */
export function persistenceResult(p: { save?: string; appendonly?: string; aofEnabled?: string }): CheckResult {
  const rdb = p.save !== undefined && p.save.trim() !== '';
  const aof = (p.appendonly ?? (p.aofEnabled === '1' ? 'yes' : p.aofEnabled === '0' ? 'no' : undefined)) === 'yes';
  const fix =
    'turn persistence on (redis.conf: appendonly yes, or a save line such as "save 3600 1 300 100 60 10000"), or accept that a restart of Redis empties the registry until the daemon re-applies the sources';
  if (p.save === undefined && !aof)
    return {
      check: 'redis persistence',
      status: 'warn',
      message: 'cannot tell whether Redis persists: CONFIG GET is not allowed here and INFO shows no AOF',
      fix,
    };
  if (!rdb && !aof)
    return {
      check: 'redis persistence',
      status: 'warn',
      message:
        'Redis persists nothing (no save points, appendonly no): a restart loses pushed schedules, pauses and run history',
      fix,
    };
  const what = [...(rdb ? [`RDB snapshots (save ${p.save!.trim()})`] : []), ...(aof ? ['AOF (appendonly yes)'] : [])];
  return { check: 'redis persistence', status: 'ok', message: what.join(', ') };
}

/** Redis time minus local time (ms), the local time taken half-way through the round trip. */
async function clockOffset(redis: Redis): Promise<number> {
  const before = Date.now();
  const [sec, usec] = await redis.time();
  const after = Date.now();
  return Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - Math.round((before + after) / 2);
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const r = (await redis.config('GET', name)) as string[];
    return r.length >= 2 ? r[1] : '';
  } catch {
    return undefined; // ACL or a renamed CONFIG: fall back to INFO.
  }
}

export const redisCheck: DoctorCheck = {
  name: 'redis',
  needsRedis: true,
  async run(ctx) {
    const redis = ctx.redis!;
    const server = infoFields(await redis.info('server'));
    const version = server.get('redis_version') ?? 'unknown';
    const [major = 0, minor = 0] = version.split('.').map(Number);
    const where = ctx.config.redis.sentinels?.length ? 'through Sentinel' : `at ${redactUrl(ctx.config.redis.url)}`;
    const results: CheckResult[] = [
      major > 6 || (major === 6 && minor >= 2)
        ? { check: 'redis', status: 'ok', message: `Redis ${version} ${where} answers` }
        : {
            check: 'redis',
            status: 'warn',
            message: `Redis ${version} ${where} answers, but is older than 6.2 (pyrq is tested on 7.0; firing uses ZMSCORE from 6.2 when it can)`,
            fix: 'upgrade Redis to 6.2 or later',
          },
    ];
    const [save, appendonly] = await Promise.all([configGet(redis, 'save'), configGet(redis, 'appendonly')]);
    const aofEnabled = save === undefined ? infoFields(await redis.info('persistence')).get('aof_enabled') : undefined;
    results.push(persistenceResult({ save, appendonly, aofEnabled }));
    const offset = await clockOffset(redis);
    const warnMs = ctx.config.daemon.clockOffsetWarnMs;
    results.push(
      Math.abs(offset) > warnMs
        ? {
            check: 'redis clock',
            status: 'warn',
            message: `this machine's clock is ${Math.abs(offset)} ms ${offset > 0 ? 'behind' : 'ahead of'} Redis's (more than daemon.clockOffsetWarn, ${warnMs} ms); fires go by Redis's clock, but logs and --at here will be off`,
            fix: 'synchronise the clocks (NTP: chrony or systemd-timesyncd) on this machine and the Redis host',
          }
        : {
            check: 'redis clock',
            status: 'ok',
            message: `this machine's clock is within ${Math.abs(offset)} ms of Redis's`,
          },
    );
    return results;
  },
};
