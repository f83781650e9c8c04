/** The config's schedule defaults and allowlist, as the context `normalizeSchedule` takes. */
import type { NormalizeContext } from '../model/normalize.js';
import type { Config } from './config.js';

/**
 * Compiles allowlist globs: `*` matches any run of identifier characters and dots, so
 * `myapp.tasks.*` allows `myapp.tasks.send` and `myapp.tasks.sub.send`; no other
 * character is special. An empty list allows nothing.
 */
export function compileAllowlist(patterns: readonly string[]): (fn: string) => boolean {
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[A-Za-z0-9_.]*')}$`,
      ),
  );
  return (fn) => res.some((re) => re.test(fn));
}

export function normalizeContext(config: Config): NormalizeContext {
  return {
    timezone: config.timezone,
    catchup: config.dispatch.catchup,
    overlap: config.dispatch.overlap,
    startingDeadline: config.dispatch.startingDeadline,
    retry: config.dispatch.retry,
    jitter: config.dispatch.jitter,
    failAfter: config.dispatch.failAfter,
    alertAfter: config.dispatch.alertAfter,
    frappeSite: config.frappe.site,
    frappeBenchId: config.frappe.benchId,
    frappeUser: config.frappe.user,
    allowFunction: config.allow ? compileAllowlist(config.allow) : undefined,
    allowPatterns: config.allow,
    allowDescription: config.allow
      ? `allow = ${config.allow.map((p) => JSON.stringify(p)).join(', ') || '[]'}`
      : undefined,
  };
}
