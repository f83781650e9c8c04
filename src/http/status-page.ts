/**
 * The status page (`GET /`): one server-rendered HTML document, no build step, no
 * external assets. The table is complete without JavaScript (filtering is a GET form,
 * sorting is links); a small inline script narrows the rows as one types and reloads
 * the page every `REFRESH_SECONDS` (not while the filter has focus). Every text that
 * came from a source goes through `html`/`esc`; the Content-Security-Policy the
 * listener sends allows only this page's own script (by hash), so even a missed escape
 * could not run a script. Pure: the caller passes the entries and the time.
 */
import { formatDuration } from '../model/duration.js';
import { describeRetry } from '../model/retry.js';
import type { Schedule } from '../model/schedule-schema.js';
import { createHash } from 'node:crypto';
import type { Pause } from '../registry/pauses.js';
import type { RegistryEntry, SourceStatus } from '../registry/registry-port.js';
import type { FireSlots } from '../schedule/fire-slots.js';
import { withCronWords } from '../schedule/describe-cron.js';
import { describeTrigger } from '../schedule/triggers/index.js';
import type { DaemonRole } from './daemon-view.js';
import { type Attention, renderAttention } from './attention.js';
import { renderFireChart } from './fire-chart.js';
import { html, Safe } from './html.js';
import { type ScheduleState, scheduleState } from './metrics.js';
import { lastRunJobId, relativeTime } from '../status/status-view.js';
import { overdueAt, scheduleHealth } from '../status/schedule-health.js';

export const REFRESH_SECONDS = 30;
/** Rows rendered at most; a note asks to narrow the filter beyond that. */
export const MAX_ROWS = 1000;
const RECENT_RUNS = 20;

export const SORT_KEYS = ['id', 'source', 'state', 'next', 'last'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
/**
 * A row's state: the registry's (enabled, disabled, done), `paused` by an operator, and
 * `failing` / `overdue` when the job-outcome reader says so (PageRowContext).
 */
export type PageState = ScheduleState | 'failing' | 'overdue';
const STATES: readonly PageState[] = ['enabled', 'paused', 'disabled', 'done'];

export interface PageQuery {
  q: string;
  source: string;
  state: string;
  sort: SortKey;
  desc: boolean;
}

export function parsePageQuery(p: URLSearchParams): PageQuery {
  const sort = p.get('sort') ?? 'next';
  return {
    q: (p.get('q') ?? '').trim(),
    source: p.get('source') ?? '',
    state: p.get('state') ?? '',
    sort: (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : 'next',
    desc: p.get('dir') === 'desc',
  };
}

/** One schedule as the page shows it. */
export interface PageRow {
  id: string;
  source: string;
  origin: string;
  trigger: string;
  timezone: string;
  /** The overlap policy, shown under the trigger unless it is the default (allow). */
  overlap: string;
  queue: string;
  function: string;
  description: string;
  kwargs: string;
  state: PageState;
  /** The next fire; null while paused (the stored one is skipped when it comes). */
  next: number | null;
  /** While paused: since when, and why. */
  paused: Pause | null;
  lastRun: number | null;
  lastOutcome: string | null;
  lastLatenessMs: number | null;
  lastJobId: string | null;
  /** What became of its jobs (src/status/schedule-health.ts). */
  job: PageJob;
}

/** A schedule's last job outcome and health, as the page shows it (time-free: `overdueAt` is compared at render). */
export interface PageJob {
  /** finished, failed, stopped, canceled, unknown; null before the first is known. */
  outcome: string | null;
  durationMs: number | null;
  /** The last failure's "ExceptionType: message" (bounded to 200 characters). */
  failure: string | null;
  consecutiveFailures: number;
  failing: boolean;
  /** When it becomes (or became) overdue, epoch ms; null: never. */
  overdueAt: number | null;
  /** The last final outcomes, oldest first (at most 20): the strip. */
  recent: string[];
}

function pageJob(e: RegistryEntry, ctx: PageRowContext): PageJob {
  // A paused schedule is not expected to run, so it is never overdue (as in `pyrq status`).
  const active = scheduleState(e) === 'enabled' && !ctx.paused?.has(e.id);
  const h = scheduleHealth(e.spec ?? null, e.state, 0, active);
  const since = h.lastSuccessAt ?? (e.state.firstRunAt ? Number(e.state.firstRunAt) : null);
  return {
    outcome: h.outcome,
    durationMs: h.durationMs,
    failure: h.failure,
    consecutiveFailures: h.consecutiveFailures,
    failing: h.failing,
    overdueAt: active && e.spec && since !== null ? overdueAt(e.spec, since) : null,
    recent: h.recent,
  };
}

/** Is the row overdue at `now`? */
export const isOverdue = (r: PageRow, now: number): boolean => r.job.overdueAt !== null && now > r.job.overdueAt;

/** How many of `rows` are failing and overdue at `now` (the page's banner counts). */
export function healthCounts(rows: readonly PageRow[], now: number): { failing: number; overdue: number } {
  let failing = 0;
  let overdue = 0;
  for (const r of rows) {
    if (r.job.failing) failing++;
    if (isOverdue(r, now)) overdue++;
  }
  return { failing, overdue };
}

const STRIP_COLOURS: Record<string, string> = {
  finished: '#1b7f3b',
  failed: '#b00020',
  stopped: '#e07000',
  canceled: '#888888',
  unknown: '#cccccc',
};

/** The last runs' outcomes as a strip of squares, oldest left: inline SVG, a title per square. */
export function outcomeStrip(recent: readonly string[]): Safe {
  if (recent.length === 0) return html``;
  const w = recent.length * 10;
  return html`<svg class="strip" width="${w}" height="10" viewBox="0 0 ${w} 10" role="img" aria-label="last ${recent.length} runs: ${recent.join(', ')}">${recent.map(
    (o, i) =>
      html`<rect x="${i * 10}" y="0" width="8" height="10" fill="${STRIP_COLOURS[o] ?? '#cccccc'}"><title>${o}</title></rect>`,
  )}</svg>`;
}

/** The "Last job" cell: outcome and run time, health, the failure, the strip. */
function jobCell(r: PageRow, now: number): Safe {
  const j = r.job;
  const badges = [
    ...(j.failing ? [html`<span class="bad">failing (${j.consecutiveFailures} in a row)</span>`] : []),
    ...(isOverdue(r, now) ? [html`<span class="bad">overdue</span>`] : []),
  ];
  if (!j.outcome && badges.length === 0) return html`-`;
  return html`<span class="outcome ${j.outcome ?? 'none'}">${j.outcome ?? '-'}</span>${j.durationMs !== null ? html` <span class="muted">${formatMs(j.durationMs)}</span>` : ''}${badges.map((b) => html` ${b}`)}${j.failure ? html`<div><code class="failure">${j.failure}</code></div>` : ''}<div>${outcomeStrip(j.recent)}</div>`;
}

/** A run time: "340 ms", "12.5 s", "3m 20s". */
function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return relativeTime(ms).slice('in '.length);
}

/** What the registry entry does not say about a row: pauses, and the job-outcome reader's verdicts. */
export interface PageRowContext {
  paused?: ReadonlyMap<string, Pause>;
  failing?: ReadonlySet<string>;
  overdue?: ReadonlySet<string>;
}

/** done and disabled first (nothing fires), then paused (nothing is enqueued), then failing, overdue. */
export function pageState(e: Pick<RegistryEntry, 'id' | 'spec' | 'state'>, ctx: PageRowContext = {}): PageState {
  const base = scheduleState(e);
  if (base !== 'enabled') return base;
  if (ctx.paused?.has(e.id)) return 'paused';
  if (ctx.failing?.has(e.id)) return 'failing';
  if (ctx.overdue?.has(e.id)) return 'overdue';
  return base;
}

export function pageRow(e: RegistryEntry, ctx: PageRowContext = {}): PageRow {
  const s = e.spec;
  const pause = ctx.paused?.get(e.id) ?? null;
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  return {
    id: e.id,
    source: e.source,
    origin: e.origin,
    trigger: s ? withCronWords(describeTrigger(s), s.cron) + boundsText(s, e.state.fired) : '(unreadable spec)',
    timezone: s?.timezone ?? '',
    overlap: s?.overlap ?? '',
    queue: s?.queue ?? '',
    function: s?.function ?? '',
    description: s?.description ?? '',
    kwargs: s?.kwargs && Object.keys(s.kwargs).length > 0 ? JSON.stringify(s.kwargs) : '',
    state: pageState(e, ctx),
    next: pause ? null : e.next,
    paused: pause,
    lastRun: num(e.state.lastRunAt),
    lastOutcome: e.state.lastOutcome ?? null,
    lastLatenessMs: num(e.state.lastLatenessMs),
    lastJobId: lastRunJobId(e.state),
    job: pageJob(e, ctx),
  };
}

/** Jitter, `times` and retry after the trigger: ", jitter 1m, 2 of 3 runs, 2 retries, at once". */
function boundsText(s: Schedule, fired: string | undefined): string {
  return [
    s.jitter ? `jitter ${formatDuration(s.jitter)}` : '',
    s.times !== undefined ? `${fired ?? 0} of ${s.times} runs` : '',
    s.retry ? describeRetry(s.retry) : '',
  ]
    .filter(Boolean)
    .map((t) => `, ${t}`)
    .join('');
}

const searchText = (r: PageRow) =>
  [r.id, r.description, r.function, r.queue, r.origin, r.source, r.trigger].join(' ').toLowerCase();

export function filterRows(rows: readonly PageRow[], q: PageQuery): PageRow[] {
  const needle = q.q.toLowerCase();
  const out = rows.filter(
    (r) =>
      (!needle || searchText(r).includes(needle)) &&
      (!q.source || r.source === q.source) &&
      (!q.state || r.state === q.state),
  );
  const key = (r: PageRow): string | number =>
    q.sort === 'next' ? (r.next ?? Infinity) : q.sort === 'last' ? (r.lastRun ?? -Infinity) : r[q.sort];
  out.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const c = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1;
    return q.desc ? -c : c;
  });
  return out;
}

export interface PageModel {
  now: number;
  role: DaemonRole;
  sources: readonly SourceStatus[];
  /** The rows the filter (`query`) lets through. */
  rows: readonly PageRow[];
  /** Every schedule in the registry, filtered or not ("2 shown of 5"); default: `rows.length`. */
  total?: number;
  query: PageQuery;
  /** The last reconcile, one line (null: none yet). */
  lastReconcile: string | null;
  /** What needs attention: the banner at the top (absent: no banner). */
  attention?: Attention;
  /** The next day's fires per slot (absent: no chart). */
  chart?: FireSlots;
  /**
   * Whether the page offers pause, resume and run-now: only when the listener has a token
   * (`http.token`) and the view was authenticated with it. Default false: read-only.
   */
  actions?: boolean;
}

const utcText = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
const formats = new Map<string, Intl.DateTimeFormat>();
function localText(ms: number, tz: string): string {
  let f = formats.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('sv-SE', {
        timeZone: tz,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      return utcText(ms);
    }
    formats.set(tz, f);
  }
  return `${f.format(ms)} ${tz}`;
}

/** "in 3m 12s" / "3m 12s ago": the same wording as `pyrq status` (src/status/status-view.ts). */
function ago(ms: number): string {
  return ms >= 0 ? relativeTime(ms) : `${relativeTime(-ms).slice('in '.length)} ago`;
}

/** The page's one script: live filtering among the rendered rows, and the refresh. */
const SCRIPT = `(function () {
  var f = document.getElementById('filters');
  var table = document.getElementById('schedules');
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var served = { q: table.dataset.q, source: table.dataset.source, state: table.dataset.state };
  var timer = null;
  function apply() {
    var q = f.q.value.trim().toLowerCase(), s = f.source.value, st = f.state.value, n = 0;
    rows.forEach(function (r) {
      var ok = (!q || r.dataset.search.indexOf(q) >= 0) && (!s || r.dataset.source === s) && (!st || r.dataset.state === st);
      r.hidden = !ok;
      if (ok) n++;
    });
    document.getElementById('shown').textContent = String(n);
    history.replaceState(null, '', '?' + new URLSearchParams(new FormData(f)).toString());
    // Rows the server left out may match a wider filter: ask the server again.
    var wider = table.dataset.truncated === '1' || (served.q && q.indexOf(served.q) < 0) || (served.source && s !== served.source) || (served.state && st !== served.state);
    clearTimeout(timer);
    if (wider) timer = setTimeout(function () { f.submit(); }, 400);
  }
  f.addEventListener('input', apply);
  f.addEventListener('change', apply);
  setInterval(function () {
    if (!f.contains(document.activeElement)) location.reload();
  }, ${REFRESH_SECONDS * 1000});
})();`;

/** The script's CSP hash: the listener allows this script and no other. */
export const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#222}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th a{color:inherit}tr.disabled td,tr.done td{color:#888}.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3b}
.muted{color:#666;font-size:.9em}code,pre{font:12px/1.3 ui-monospace,monospace;white-space:pre-wrap;margin:0}
form{margin:.5rem 0}input,select,button{font:inherit}
.banner{padding:.5rem .8rem;border-radius:4px;margin:.6rem 0}.banner ul{margin:.2rem 0 0;padding-left:1.2rem}
.healthy{background:#e7f5ec;border:1px solid #1b7f3b}.attention{background:#fdecee;border:1px solid #b00020}
tr.paused td{background:#fff8e1}tr.failing td.state,tr.overdue td.state{color:#b00020;font-weight:600}
figure{margin:.4rem 0}figcaption{font-size:.9em;color:#444}
form.act{display:inline;margin:0}form.act button{font-size:.85em;padding:.05rem .4rem;margin:0 .1rem .1rem 0}
.outcome.failed,.outcome.stopped{color:#b00020;font-weight:600}
.outcome.finished{color:#1b7f3b}svg.strip{display:block;margin-top:.2rem}`;

/**
 * A row's buttons: plain forms that POST to `action` (no script needed). The browser
 * sends the credentials it used for the page; the listener checks them and the Origin.
 */
function actionForms(r: PageRow): Safe {
  const button = (action: string, label: string) =>
    html`<form class="act" method="post" action="action"><input type="hidden" name="id" value="${r.id}"><button type="submit" name="action" value="${action}">${label}</button></form>`;
  return html`${r.paused ? button('resume', 'Resume') : button('pause', 'Pause')}${button('run', 'Run now')}`;
}

export function renderStatusPage(m: PageModel): string {
  const shown = m.rows.slice(0, MAX_ROWS);
  const truncated = m.rows.length > shown.length;
  const sourceNames = [...new Set([...m.sources.map((s) => s.source), ...m.rows.map((r) => r.source)])].sort();
  const q = m.query;
  const sortLink = (key: SortKey, label: string): Safe => {
    const p = new URLSearchParams({
      ...(q.q ? { q: q.q } : {}),
      ...(q.source ? { source: q.source } : {}),
      ...(q.state ? { state: q.state } : {}),
      sort: key,
      ...(q.sort === key && !q.desc ? { dir: 'desc' } : {}),
    });
    const mark = q.sort === key ? (q.desc ? ' ▼' : ' ▲') : '';
    return html`<a href="?${p.toString()}">${label}${mark}</a>`;
  };
  const role = m.role;
  const states = [
    ...STATES,
    ...(m.attention?.failing.length ? (['failing'] as const) : []),
    ...(m.attention?.overdue.length ? (['overdue'] as const) : []),
    ...(q.state === 'failing' || q.state === 'overdue' ? [q.state] : []),
  ].filter((x, i, all) => all.indexOf(x) === i);
  const actions = m.actions === true;
  const recent = [...m.rows]
    .filter((r) => r.lastRun !== null)
    .sort((a, b) => b.lastRun! - a.lastRun!)
    .slice(0, RECENT_RUNS);
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pyrq status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS}"></noscript>
<style>${new Safe(STYLE)}</style></head>
<body>
<h1>pyrq status</h1>
<p id="role">This daemon: <strong>${role.leader ? 'leader' : 'standby'}</strong> <span class="muted">(${role.holderId})</span>.
Leader: <strong>${role.currentLeader ?? 'none'}</strong>${role.leaderSince ? html` since ${utcText(role.leaderSince)}` : ''}.
<span class="muted">As of ${utcText(m.now)}; refreshes every ${REFRESH_SECONDS} s.${m.lastReconcile ? html` ${m.lastReconcile}` : ''}</span></p>
${m.attention ? renderAttention(m.attention) : ''}
${m.chart ? html`<h2>Next 24 hours</h2>${renderFireChart(m.chart)}` : ''}

<h2>Sources</h2>
<table id="sources"><thead><tr><th>Source</th><th>Health</th><th>Schedules</th><th>Held</th><th>Errors</th></tr></thead><tbody>
${m.sources.map((s) => html`<tr><td>${s.source}</td><td class="${s.stale ? 'bad' : 'ok'}">${s.stale ? 'stale' : 'ok'}</td><td>${s.schedules}</td><td>${s.held}</td><td>${s.errors.length === 0 ? '-' : html`<ul>${s.errors.map((e) => html`<li><code>${e}</code></li>`)}</ul>`}<div class="muted">as of ${utcText(s.at)}${s.by ? html`, by ${s.by}` : ''}</div></td></tr>`)}
</tbody></table>

<h2>Schedules</h2>
<form id="filters" method="get" action="">
<label>Filter <input type="search" name="q" value="${q.q}" placeholder="id, description, function, queue, file…" autocomplete="off"></label>
<label>Source <select name="source"><option value="">all</option>${sourceNames.map((s) => html`<option value="${s}"${s === q.source ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>State <select name="state"><option value="">all</option>${states.map((s) => html`<option value="${s}"${s === q.state ? html` selected` : ''}>${s}</option>`)}</select></label>
<input type="hidden" name="sort" value="${q.sort}">${q.desc ? html`<input type="hidden" name="dir" value="desc">` : ''}
<button type="submit">Apply</button>
<span class="muted"><span id="shown">${shown.length}</span> shown${truncated ? html` of ${m.total ?? m.rows.length} (the first ${MAX_ROWS} of the ${m.rows.length} that match: narrow the filter)` : html` of ${m.total ?? m.rows.length}`}</span>
</form>
<table id="schedules" data-q="${q.q.toLowerCase()}" data-source="${q.source}" data-state="${q.state}" data-truncated="${truncated ? '1' : '0'}">
<thead><tr><th>${sortLink('id', 'Schedule')}</th><th>${sortLink('source', 'Source / origin')}</th><th>Trigger</th><th>${sortLink('next', 'Next fire')}</th><th>${sortLink('last', 'Last run')}</th><th>Last job</th><th>${sortLink('state', 'State')}</th>${actions ? html`<th>Actions</th>` : ''}</tr></thead>
<tbody>
${shown.map(
  (
    r,
  ) => html`<tr class="${r.state}" data-id="${r.id}" data-source="${r.source}" data-state="${r.state}" data-search="${searchText(r)}">
<td><strong class="id">${r.id}</strong><div class="description">${r.description}</div><div class="muted">${r.function} → ${r.queue}</div>${r.kwargs ? html`<code class="kwargs">${r.kwargs}</code>` : ''}</td>
<td>${r.source}<div class="muted">${r.origin}</div></td>
<td>${r.trigger}${r.overlap && r.overlap !== 'allow' ? html`<div class="muted">overlap ${r.overlap}</div>` : ''}</td>
<td>${r.paused ? html`<span class="paused">paused</span><div class="muted">since ${utcText(r.paused.since)}${r.paused.reason ? html`: ${r.paused.reason}` : ''}</div>` : r.next === null ? '-' : html`${utcText(r.next)}<div class="muted">${localText(r.next, r.timezone)} · ${ago(r.next - m.now)}</div>`}</td>
<td>${r.lastRun === null ? '-' : html`${utcText(r.lastRun)} <span class="muted">(${ago(r.lastRun - m.now)})</span><div>${r.lastOutcome}${r.lastLatenessMs !== null ? html` <span class="muted">+${r.lastLatenessMs} ms</span>` : ''}</div>`}</td>
<td class="job">${jobCell(r, m.now)}</td>
<td class="state">${r.state}</td>${actions ? html`<td>${actionForms(r)}</td>` : ''}</tr>`,
)}
</tbody></table>

<h2>Recent runs</h2>
${
  recent.length === 0
    ? html`<p class="muted">No runs yet.</p>`
    : html`<table id="runs"><thead><tr><th>When</th><th>Schedule</th><th>Outcome</th><th>Lateness</th><th>Job</th></tr></thead><tbody>
${recent.map((r) => html`<tr><td>${utcText(r.lastRun!)}</td><td>${r.id}</td><td>${r.lastOutcome}</td><td>${r.lastLatenessMs ?? '-'}${r.lastLatenessMs !== null ? ' ms' : ''}</td><td><code>${r.lastJobId ?? '-'}</code></td></tr>`)}
</tbody></table>`
}
${
  actions
    ? html`<p class="muted">Actions (pause, resume, run now) do what <code>pyrq pause</code>, <code>resume</code> and <code>trigger</code> do, and are logged by the daemon.</p>`
    : html`<p class="muted" id="read-only">Read-only: to pause, resume and run schedules from this page, give the listener a token (<code>http.tokenFile</code> or <code>http.token</code>, see docs/security.md) and open the page with it.</p>`
}
<p class="muted">Also: <a href="metrics">/metrics</a> · <a href="healthz">/healthz</a> · <a href="readyz">/readyz</a></p>
<script>${new Safe(SCRIPT)}</script>
</body></html>
`;
  return page.text;
}
