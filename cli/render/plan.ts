/**
 * A plan as text, like `terraform plan`: `+` create, `~` update (old -> new per field),
 * `-` delete, errors, and a summary line; and what `pyrq apply` did. Pure: returns lines.
 */
import { canonicalStringify } from '../../src/canonical-json.js';
import { afterTextOf } from '../../src/plan/diff.js';
import { planSummary } from '../../src/plan/render.js';
import { describeTrigger } from '../../src/schedule/triggers/index.js';
import type { Change, Plan } from '../../src/plan/types.js';
import { appliedChanges } from '../../src/registry/plan-writes.js';
import type { ApplyResult } from '../../src/registry/registry-port.js';
import { printable } from '../../src/printable.js';
import { formatDuration } from '../../src/model/duration.js';
import { describeRetry, type Retry } from '../../src/model/retry.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { sourceErrorText } from './source-error.js';

export function formatValue(v: unknown): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'string') return JSON.stringify(v);
  return canonicalStringify(v);
}

/** A create's jitter, `times` and retry, after its trigger. */
function boundsText(s: Schedule): string {
  return `${s.jitter ? `, jitter ${formatDuration(s.jitter)}` : ''}${s.times !== undefined ? `, ${s.times} times` : ''}${s.retry ? `, ${describeRetry(s.retry)}` : ''}`;
}

const retryText = (v: unknown) => (v === undefined ? '(none)' : describeRetry(v as Retry));

const SYMBOL: Record<Change['action'], string> = { create: '+', update: '~', delete: '-' };

export function changeLines(c: Change): string[] {
  const head = `  ${SYMBOL[c.action]} ${c.action} ${printable(c.id)}  (${c.source}: ${printable(c.origin)})${c.reason ? `  # ${printable(c.reason)}` : ''}`;
  const out = [head];
  if (c.action === 'create' && c.after) {
    const s = c.after;
    out.push(
      `      ${describeTrigger(s)}${boundsText(s)} -> ${s.function} on queue ${JSON.stringify(s.queue)}${s.target === 'frappe' ? ` (frappe, site ${s.site})` : ''}${s.enabled ? '' : ' [disabled]'}`,
    );
  } else if (c.action === 'update') {
    for (const f of c.fields)
      out.push(
        f.field === 'retry'
          ? `      retry: ${retryText(f.before)} -> ${retryText(f.after)}`
          : `      ${f.field}: ${formatValue(f.before)} -> ${formatValue(f.after)}`,
      );
    if (c.fields.length === 0 && c.before === undefined) out.push('      (previous spec unreadable; rewritten)');
  } else if (c.action === 'delete' && c.before) {
    out.push(`      was ${describeTrigger(c.before)} -> ${c.before.function}`);
  }
  return out;
}

/** `changeLines(c).length`, without building the lines (or reading a spec kept as text). */
export function changeLineCount(c: Change): number {
  if (c.action === 'create') return afterTextOf(c) !== undefined || c.after ? 2 : 1;
  if (c.action === 'update') return 1 + c.fields.length + (c.fields.length === 0 && c.before === undefined ? 1 : 0);
  return c.before ? 2 : 1;
}

/**
 * How much of a plan to print: `all` every change (`pyrq diff`, `apply --verbose`);
 * `collapsed` the first CHANGES_SHOWN changes and how many lines were left out (`apply`);
 * `quiet` the summary only (`apply --quiet`).
 */
export type Detail = 'all' | 'collapsed' | 'quiet';

/** Changes printed in full by a collapsed `apply`. */
export const CHANGES_SHOWN = 50;

/** The lines of these changes, cut after CHANGES_SHOWN when collapsed (saying how many lines are hidden). */
function changesBlock(changes: readonly Change[], detail: Detail, gap: boolean): string[] {
  if (detail === 'quiet') return [];
  const out: string[] = [];
  let hiddenChanges = 0;
  let hiddenLines = 0;
  changes.forEach((c, i) => {
    if (detail === 'collapsed' && i >= CHANGES_SHOWN) {
      // Counted, not written: a collapsed plan of 100,000 creates builds 50 changes' lines.
      hiddenChanges++;
      hiddenLines += changeLineCount(c) + (gap ? 1 : 0);
    } else {
      out.push(...changeLines(c), ...(gap ? [''] : []));
    }
  });
  if (hiddenChanges > 0)
    out.push(
      `  ... ${hiddenChanges} more changes not shown (${hiddenLines} lines); --verbose prints them all, --json lists them`,
      ...(gap ? [''] : []),
    );
  return out;
}

export function renderErrors(plan: Plan): string[] {
  if (plan.errors.length === 0) return [];
  return [
    'Errors (what they cover keeps its applied state):',
    ...plan.errors.map((e) => `  ! ${sourceErrorText(e)}`),
    '',
  ];
}

/** The plan as `pyrq diff` prints it. */
export function renderPlan(plan: Plan, detail: Detail = 'all'): string[] {
  const lines: string[] = [];
  for (const s of plan.sources)
    if (s.stale) lines.push(`Source "${s.source}" is stale: nothing it owns will be deleted.`, '');
  lines.push(...renderErrors(plan));
  const sum = planSummary(plan);
  if (plan.changes.length === 0) {
    lines.push(
      `No changes. The registry matches the sources (${sum.unchanged} unchanged${sum.held ? `, ${sum.held} held` : ''}).`,
    );
    return lines;
  }
  if (detail !== 'quiet') lines.push('pyrq will perform the following actions:', '');
  lines.push(...changesBlock(plan.changes, detail, true));
  lines.push(
    `Plan: ${sum.create} to create, ${sum.update} to update, ${sum.delete} to delete, ${sum.unchanged} unchanged${sum.held ? `, ${sum.held} held` : ''}.`,
  );
  return lines;
}

/** What `pyrq apply` did (and, when interrupted, how far it got). */
export function renderApply(plan: Plan, r: ApplyResult, detail: Detail = 'all'): string[] {
  const lines =
    detail === 'quiet'
      ? plan.errors.length > 0
        ? [
            `${plan.errors.length} input error(s): what they cover keeps its applied state (run without --quiet to see them).`,
          ]
        : []
      : [...renderErrors(plan)];
  const changed = appliedChanges(plan.changes, r);
  lines.push(...changesBlock(changed, detail, false));
  if (changed.length > 0 && detail !== 'quiet') lines.push('');
  if (r.conflicts.length > 0)
    lines.push(
      `Skipped ${r.conflicts.length} changed by someone else meanwhile: ${detail === 'all' || r.conflicts.length <= 10 ? r.conflicts.join(', ') : `${r.conflicts.slice(0, 10).join(', ')}, ...`} (run again to converge).`,
    );
  const counts = `${r.created.length} created, ${r.updated.length} updated, ${r.deleted.length} deleted`;
  if (r.notSent !== undefined) {
    const sent = plan.changes.length - r.notSent;
    lines.push(
      `Interrupted after ${sent} of ${plan.changes.length} changes (${counts}); the other ${r.notSent} were not applied. Each change is all-or-nothing, so nothing is half-written: run the same pyrq apply again to converge.`,
    );
  } else {
    lines.push(
      `Apply complete: ${counts}, ${plan.unchanged + r.noop.length} unchanged${plan.held.length ? `, ${plan.held.length} held` : ''}.`,
    );
  }
  return lines;
}

/** `pyrq reconcile`: what the daemon's re-sync did. */
export function renderResync(r: { summary: Record<string, number>; errors: string[]; durationMs: number }): string[] {
  const s = r.summary;
  return [
    ...r.errors.map((e) => `! ${e}`),
    `Re-sync done in ${r.durationMs} ms: ${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged${s.held ? `, ${s.held} held` : ''}.`,
  ];
}
