/**
 * The daemon's story of a reconcile: one log line per change it applied (what, which id,
 * from which source and origin, which fields), up to a cap, then how many more. The
 * summary line (`reconcile`) stays one line whatever the size of the plan.
 */
import type { Logger } from '../src/log.js';
import type { Change } from '../src/plan/types.js';
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
