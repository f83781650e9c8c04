/**
 * The daemon's story of a reconcile: one log line per change it applied (what, which id,
 * from which source and origin, which fields), up to a cap, then how many more. The
 * summary line (`reconcile`) stays one line whatever the size of the plan.
 */
import type { Logger } from '../src/log.js';
import type { Change } from '../src/plan/types.js';
import type { SourceError } from '../src/source.js';
import type { ApplyResult } from '../src/registry/registry-port.js';

/** Change lines per reconcile; the rest are counted in one line (`pyrq status`/`diff` show them all). */
export const CHANGES_LOGGED = 20;

const VERB = { create: 'created', update: 'updated', delete: 'deleted' } as const;

/** The log fields of one change: op, id, source, origin, the fields that changed, a move, a repair. */
export function changeFields(c: Change): Record<string, unknown> {
  return {
    op: c.action,
    id: c.id,
    source: c.source,
    origin: c.origin,
    ...(c.fields.length > 0 ? { fields: c.fields.map((f) => f.field) } : {}),
    ...(c.fromSource !== undefined || c.fromOrigin !== undefined
      ? { from: `${c.fromSource ?? c.source}:${c.fromOrigin ?? c.origin}` }
      : {}),
    ...(c.reason ? { why: c.reason } : {}),
  };
}

/** "updated nightly (files:billing.toml): cron, queue". */
export function changeMessage(c: Change): string {
  const fields = c.action === 'update' && c.fields.length > 0 ? `: ${c.fields.map((f) => f.field).join(', ')}` : '';
  return `${VERB[c.action]} ${c.id} (${c.source}:${c.origin})${fields}`;
}

/** Logs the changes that were applied (not those another writer made first, nor conflicts). */
export function logChanges(log: Logger, changes: readonly Change[], applied: ApplyResult, cap = CHANGES_LOGGED): void {
  if (!log.isLevelEnabled('info')) return;
  const done = new Set([...applied.created, ...applied.updated, ...applied.deleted]);
  let shown = 0;
  let more = 0;
  for (const c of changes) {
    if (!done.has(c.id)) continue;
    if (shown < cap) {
      log.info(changeFields(c), changeMessage(c));
      shown++;
    } else {
      more++;
    }
  }
  if (more > 0)
    log.info({ more }, `… and ${more} more change(s) not logged one by one (pyrq status shows every schedule)`);
}

/**
 * Source error lines per reconcile. A file storm's removal made tens of thousands of
 * "cannot read: ENOENT" errors in one reconcile, and logging each one (synchronously)
 * held the daemon's event loop, and its fires, for 700 ms. `pyrq validate` lists them all.
 */
export const ERRORS_LOGGED = 20;

/** Logs a plan's source errors (warn), up to a cap, then how many more. */
export function logErrors(log: Logger, errors: readonly SourceError[], cap = ERRORS_LOGGED): void {
  for (const e of errors.slice(0, cap))
    log.warn({ source: e.source, origin: e.origin, id: e.id, field: e.path }, e.message);
  const more = errors.length - cap;
  if (more > 0)
    log.warn({ more }, `… and ${more} more source error(s) not logged one by one (pyrq validate lists every error)`);
}
