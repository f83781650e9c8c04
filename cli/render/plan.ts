/**
 * A plan as text, like `terraform plan`: `+` create, `~` update (old -> new per field),
 * `-` delete, errors, and a summary line; and what `pyrq apply` did. Pure: returns lines.
 */
import { canonicalStringify } from '../../src/canonical-json.js';
import { planSummary } from '../../src/plan/render.js';
import { describeTrigger } from '../../src/schedule/triggers/index.js';
import type { Change, Plan } from '../../src/plan/types.js';
import type { ApplyResult } from '../../src/registry/registry-port.js';
import { formatSourceError } from '../../src/source.js';

export function formatValue(v: unknown): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'string') return JSON.stringify(v);
  return canonicalStringify(v);
}

const SYMBOL: Record<Change['action'], string> = { create: '+', update: '~', delete: '-' };

function changeLines(c: Change): string[] {
  const head = `  ${SYMBOL[c.action]} ${c.action} ${c.id}  (${c.source}: ${c.origin})${c.reason ? `  # ${c.reason}` : ''}`;
  const out = [head];
  if (c.action === 'create' && c.after) {
    const s = c.after;
    out.push(`      ${describeTrigger(s)} -> ${s.function} on queue ${JSON.stringify(s.queue)}${s.target === 'frappe' ? ` (frappe, site ${s.site})` : ''}${s.enabled ? '' : ' [disabled]'}`);
  } else if (c.action === 'update') {
    for (const f of c.fields) out.push(`      ${f.field}: ${formatValue(f.before)} -> ${formatValue(f.after)}`);
    if (c.fields.length === 0 && c.before === undefined) out.push('      (previous spec unreadable; rewritten)');
  } else if (c.action === 'delete' && c.before) {
    out.push(`      was ${describeTrigger(c.before)} -> ${c.before.function}`);
  }
  return out;
}

export function renderErrors(plan: Plan): string[] {
  if (plan.errors.length === 0) return [];
  return ['Errors (what they cover keeps its applied state):', ...plan.errors.map((e) => `  ! ${formatSourceError(e)}`), ''];
}

/** The plan as `pyrq diff` prints it. */
export function renderPlan(plan: Plan): string[] {
  const lines: string[] = [];
  for (const s of plan.sources) if (s.stale) lines.push(`Source "${s.source}" is stale: nothing it owns will be deleted.`, '');
  lines.push(...renderErrors(plan));
  const sum = planSummary(plan);
  if (plan.changes.length === 0) {
    lines.push(`No changes. The registry matches the sources (${sum.unchanged} unchanged${sum.held ? `, ${sum.held} held` : ''}).`);
    return lines;
  }
  lines.push('pyrq will perform the following actions:', '');
  for (const c of plan.changes) lines.push(...changeLines(c), '');
  lines.push(`Plan: ${sum.create} to create, ${sum.update} to update, ${sum.delete} to delete, ${sum.unchanged} unchanged${sum.held ? `, ${sum.held} held` : ''}.`);
  return lines;
}

/** What `pyrq apply` did. */
export function renderApply(plan: Plan, r: ApplyResult): string[] {
  const lines = [...renderErrors(plan)];
  const done = new Set([...r.created, ...r.updated, ...r.deleted]);
  for (const c of plan.changes) if (done.has(c.id)) lines.push(...changeLines(c));
  if (done.size > 0) lines.push('');
  if (r.conflicts.length > 0) lines.push(`Skipped ${r.conflicts.length} changed by someone else meanwhile: ${r.conflicts.join(', ')} (run again to converge).`);
  lines.push(`Apply complete: ${r.created.length} created, ${r.updated.length} updated, ${r.deleted.length} deleted, ${plan.unchanged + r.noop.length} unchanged${plan.held.length ? `, ${plan.held.length} held` : ''}.`);
  return lines;
}

/** `pyrq reconcile`: what the daemon's re-sync did. */
export function renderResync(r: { summary: Record<string, number>; errors: string[]; durationMs: number }): string[] {
  const s = r.summary;
  return [...r.errors.map((e) => `! ${e}`), `Re-sync done in ${r.durationMs} ms: ${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged${s.held ? `, ${s.held} held` : ''}.`];
}
