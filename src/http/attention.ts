/**
 * "Is it healthy?": what the status page's banner lists first, each a reason someone
 * should look (stale sources, orphaned schedules, paused schedules, used queues no live
 * RQ worker listens on, failing and overdue schedules). Built from what the page read
 * already, plus the worker registry when known. Pure.
 */
import type { SourceStatus } from '../registry/registry-port.js';
import type { OrphanSource } from '../status/orphans.js';
import { html, type Safe } from './html.js';

/** The banner's input: each list names what needs attention (empty: nothing). */
export interface Attention {
  /** Sources whose last read failed as a whole (their schedules are held). */
  staleSources: string[];
  /** Sources that own schedules but are not configured here (they keep firing). */
  orphans: OrphanSource[];
  /** Schedules an operator paused (`pyrq pause`, or the page). */
  paused: string[];
  /** Queues enabled schedules send jobs to, with no live RQ worker; null: not known (not read). */
  queuesWithoutWorker: string[] | null;
  /** Schedules failing (consecutive failed jobs): filled by the job-outcome reader; empty until then. */
  failing: string[];
  /** Schedules that have not succeeded within their alert window: filled by the job-outcome reader; empty until then. */
  overdue: string[];
}

export function emptyAttention(): Attention {
  return { staleSources: [], orphans: [], paused: [], queuesWithoutWorker: null, failing: [], overdue: [] };
}

/** One line per kind of problem (none: healthy). Lists are cut at `maxNames` names. */
export function attentionLines(a: Attention, maxNames = 5): string[] {
  const names = (ids: readonly string[]) =>
    ids.slice(0, maxNames).join(', ') + (ids.length > maxNames ? ` and ${ids.length - maxNames} more` : '');
  const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  const out: string[] = [];
  if (a.failing.length > 0) out.push(`${n(a.failing.length, 'schedule')} failing: ${names(a.failing)}`);
  if (a.overdue.length > 0)
    out.push(`${n(a.overdue.length, 'schedule')} overdue (no success within the alert window): ${names(a.overdue)}`);
  if (a.staleSources.length > 0)
    out.push(
      `${n(a.staleSources.length, 'source')} stale (the last read failed; its schedules are held as they were): ${names(a.staleSources)}`,
    );
  if (a.queuesWithoutWorker && a.queuesWithoutWorker.length > 0)
    out.push(
      `no live RQ worker on ${n(a.queuesWithoutWorker.length, 'queue')} that enabled schedules use (their jobs wait): ${names(a.queuesWithoutWorker)}`,
    );
  if (a.orphans.length > 0)
    out.push(
      `${n(a.orphans.length, 'source')} not configured here own${a.orphans.length === 1 ? 's' : ''} schedules that keep firing: ${names(a.orphans.map((o) => `${o.source} (${o.schedules})`))}; "pyrq prune --source NAME" removes them`,
    );
  if (a.paused.length > 0) out.push(`${n(a.paused.length, 'schedule')} paused: ${names(a.paused)}`);
  return out;
}

/** The stale sources among `sources`, by name. */
export function staleSources(sources: readonly SourceStatus[]): string[] {
  return sources
    .filter((s) => s.stale)
    .map((s) => s.source)
    .sort();
}

export function renderAttention(a: Attention): Safe {
  const lines = attentionLines(a);
  const workers = a.queuesWithoutWorker === null ? html` <span class="muted">(RQ workers not checked)</span>` : html``;
  if (lines.length === 0)
    return html`<div id="attention" class="banner healthy" role="status"><strong>Healthy:</strong> nothing needs attention.${workers}</div>`;
  return html`<div id="attention" class="banner attention" role="alert"><strong>Needs attention (${lines.length}):</strong><ul>${lines.map((l) => html`<li>${l}</li>`)}</ul>${workers}</div>`;
}
