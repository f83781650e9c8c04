/**
 * Runs every doctor check against one configuration: connects to Redis (a failure is
 * the `redis` check's finding, not an error of the command), reads each configured
 * source once, reads the registry once, then runs the table of checks in order. A check
 * that throws is reported as failed, so one broken check never hides the others.
 */
import type { Config } from '../config/config.js';
import { PyrqError } from '../errors.js';
import type { Logger } from '../log.js';
import { connectRedis } from '../redis/connect.js';
import { Keys } from '../redis/keys.js';
import { Registry } from '../registry/registry.js';
import type { Source } from '../source.js';
import { SOURCE_FACTORIES, sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { type CheckResult, type CheckStatus, type DoctorContext, type SourceRead, worstOf } from './check.js';
import { doctorChecks } from './checks.js';

export interface DoctorReport {
  /** The worst finding: what the exit code says. */
  worst: CheckStatus;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/** Each configured source (not the socket: the daemon's own), read once; a source that cannot be built says why. */
async function readSources(config: Config, logger: Logger | undefined, now: number): Promise<SourceRead[]> {
  const names = SOURCE_FACTORIES.filter((f) => f.configured(config, {})).map((f) => f.name);
  return Promise.all(
    names.map(async (name): Promise<SourceRead> => {
      let source: Source | undefined;
      try {
        source = sourcesFromConfig(config, { logger }, [name])[0];
      } catch (e) {
        return { name, error: (e as Error).message };
      }
      if (source === undefined) return { name, error: 'not configured' };
      try {
        return { name, location: source.location, snapshot: await source.snapshot({ fresh: true, now }) };
      } catch (e) {
        return { name, location: source.location, error: (e as Error).message };
      } finally {
        await source.close();
      }
    }),
  );
}

export async function runDoctor(config: Config, opts: { logger?: Logger } = {}): Promise<DoctorReport> {
  const now = Date.now();
  const keys = new Keys(config.redis.prefix);
  const checks: CheckResult[] = [];
  let redis;
  try {
    redis = await connectRedis(config.redis);
  } catch (e) {
    checks.push({
      check: 'redis',
      status: 'fail',
      message: e instanceof PyrqError ? e.message : `cannot connect to Redis: ${(e as Error).message}`,
      fix: 'start Redis, or point pyrq at it: --redis-url URL (PYRQ_REDIS_URL, redis.url); the checks that need Redis were skipped',
    });
  }
  try {
    const registry = redis ? new Registry(redis, config.redis.prefix) : undefined;
    const [sources, entries] = await Promise.all([
      readSources(config, opts.logger, now),
      registry ? registry.readEntries() : Promise.resolve([]),
    ]);
    const ctx: DoctorContext = { config, now, keys, redis, registry, entries, sources };
    for (const check of doctorChecks()) {
      if (check.needsRedis && !redis) continue;
      try {
        checks.push(...(await check.run(ctx)));
      } catch (e) {
        checks.push({
          check: check.name,
          status: 'fail',
          message: `the check could not run: ${(e as Error).message}`,
          fix: 'see the message; run pyrq doctor --log-level debug for more',
        });
      }
    }
  } finally {
    redis?.disconnect();
  }
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  return { worst: worstOf(checks), counts, checks };
}
