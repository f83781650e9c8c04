/**
 * `pyrq status` as text: who leads, each source's status (as the daemon, or the last
 * `pyrq apply`, recorded it), the last reconcile as a sentence, each daemon's clock offset
 * from Redis, and a table of the schedules, fitted to the terminal's width (`--wide`:
 * every column, nothing cut). Pure.
 *
 * The report is a list of sections, each a function of the report and the view: a new
 * section is one function and one entry in `SECTIONS`.
 */
import type { SourceStatus } from '../../src/registry/registry-port.js';
import { reconcileSentence } from '../../src/status/reconcile-summary.js';
import { orphanLines } from '../../src/status/orphans.js';
import type { StatusReport } from '../../src/status/registry-status.js';
import type { StatusRow } from '../../src/status/status-view.js';
import { withCronWords } from '../../src/schedule/describe-cron.js';
import { fitLine, fitTable, formatLateness, relativeAgo, renderTable, wrapText } from './table.js';
import { printable } from '../../src/printable.js';
import { formatDuration } from '../../src/model/duration.js';

/** Error lines shown per source; `--json` has them all. */
const ERRORS_SHOWN = 10;

export interface StatusView {
  now: number;
  /** Characters per line; Infinity: no limit. */
  width: number;
  /** Every column, nothing cut (`--wide`). */
  wide: boolean;
}

type Section = (r: StatusReport, v: StatusView) => string[];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const header: Section = (r, v) =>
  wrapText(
    r.via === 'daemon'
      ? `Daemon: pid ${String(r.daemon?.pid)}, ${r.daemon?.leader ? 'leader' : 'standby'}; leader: ${r.leader ?? 'none'}`
      : `${r.asked ? `No daemon answered at ${r.asked}` : 'Not asking a daemon (--no-daemon)'}; from Redis (source health as last recorded). Leader: ${r.leader ?? 'none'}`,
    v.width,
    '  ',
  );

function sourceLine(s: SourceStatus, now: number): string {
  const parts = [
    s.stale ? 'STALE (nothing it owns is deleted)' : 'ok',
    plural(s.schedules, 'schedule'),
    ...(s.held ? [`${s.held} held`] : []),
    ...(s.errors.length ? [plural(s.errors.length, 'error')] : []),
  ];
  return `Source ${s.source}${s.location ? ` (${s.location})` : ''}: ${parts.join(', ')}; as of ${relativeAgo(now - s.at)}${s.by ? `, recorded by ${s.by}` : ''}${s.detail ? `; ${s.detail}` : ''}`;
}

const sources: Section = (r, v) =>
  r.sources.flatMap((s) => [
    ...wrapText(sourceLine(s, v.now), v.width, '  '),
    ...s.errors
      .slice(0, ERRORS_SHOWN)
      .map((e) => (v.wide ? `  ! ${printable(e)}` : fitLine(`  ! ${printable(e)}`, v.width))),
    ...(s.errors.length > ERRORS_SHOWN ? [`  (${s.errors.length - ERRORS_SHOWN} more: pyrq status --json)`] : []),
  ]);

/**
 * No daemon has recorded a reconcile: say so, and when a one-shot command (`pyrq apply`)
 * recorded the sources since, say that instead of implying nothing was ever applied.
 */
function noReconcile(r: StatusReport, now: number): string[] {
  const by = r.sources.filter((s) => s.by !== undefined).sort((a, b) => b.at - a.at)[0];
  if (!by) return ['No reconcile recorded yet.'];
  return [`No daemon reconcile recorded yet; the sources were last applied by ${by.by} ${relativeAgo(now - by.at)}.`];
}

const lastReconcile: Section = (r, v) => [
  ...(r.lastReconcile
    ? wrapText(reconcileSentence(r.lastReconcile, relativeAgo, v.now), v.width, '  ')
    : noReconcile(r, v.now)),
  ...(r.lastError
    ? wrapText(`Last reconcile failure ${relativeAgo(v.now - r.lastError.at)}: ${r.lastError.message}`, v.width, '  ')
    : []),
];

/** Each daemon's clock offset from Redis's (recorded every 30 s), with a warning beyond daemon.clockOffsetWarn. */
const clocks: Section = (r, v) =>
  (r.clocks ?? []).flatMap((c) =>
    wrapText(
      `Clock of daemon ${c.daemon} (pid ${c.pid}): ${c.offsetMs > 0 ? `${c.offsetMs} ms behind` : c.offsetMs < 0 ? `${-c.offsetMs} ms ahead of` : 'same as'} Redis (measured ${relativeAgo(v.now - Date.parse(c.measuredAt))})${c.warn ? ": WARNING beyond daemon.clockOffsetWarn; fires go by Redis's clock, but fix this machine's clock" : ''}`,
      v.width,
      '  ',
    ),
  );

const schedules: Section = (r, v) => ['', ...renderSchedules(r.schedules, v.now, v)];

/** The paused schedules (`pyrq pause`), since when and why; nothing when none is. */
const paused: Section = (r, v) => {
  const rows = r.schedules.filter((s) => s.paused);
  if (rows.length === 0) return [];
  return [
    '',
    ...wrapText(
      `Paused (${rows.length}): due occurrences are recorded as skipped:paused; "pyrq resume ID" ends it.`,
      v.width,
      '  ',
    ),
    ...rows.map(
      (s) =>
        `  ${printable(s.id)}: since ${s.paused!.since}${s.paused!.reason ? ` (${printable(s.paused!.reason)})` : ''}`,
    ),
  ];
};

/** Sources that own entries but are not configured in the daemon: they keep firing. */
const orphans: Section = (r, v) => {
  if (!r.orphans?.length) return [];
  return [
    '',
    'Orphans (sources not configured in the daemon; their schedules keep firing):',
    ...orphanLines(r.orphans).flatMap((l) => wrapText(`  ${l}`, v.width, '    ')),
  ];
};

/** The schedules failing or overdue (docs/observability.md), each with its last failure; nothing when none is. */
const unhealthy: Section = (r, v) => {
  const rows = r.schedules.filter((s) => s.failing || s.overdue);
  if (rows.length === 0) return [];
  return [
    '',
    `Needs attention (${rows.length}):`,
    ...rows.flatMap((s) =>
      wrapText(
        `  ${printable(s.id)}: ${healthText(s)}; last success ${s.lastSuccess ? relativeAgo(v.now - Date.parse(s.lastSuccess)) : 'never'}${s.failure ? `; last failure: ${printable(s.failure)}` : ''}`,
        v.width,
        '    ',
      ),
    ),
  ];
};

/** In order; other parts of status (paused schedules, orphans, ...) add a function here. */
const SECTIONS: Section[] = [header, sources, lastReconcile, clocks, schedules, unhealthy, paused, orphans];

/** "FAILING (3 in a row), OVERDUE", or "ok". */
export function healthText(r: StatusRow): string {
  const parts = [
    ...(r.failing ? [`FAILING (${r.consecutiveFailures} in a row)`] : []),
    ...(r.overdue ? ['OVERDUE'] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'ok';
}

/** The last job's outcome and duration: "failed 1.2s", "finished 340ms", "-" before the first. */
export function jobText(r: StatusRow): string {
  if (!r.jobOutcome) return '-';
  return `${r.jobOutcome}${r.jobDurationMs !== null ? ` ${formatLateness(r.jobDurationMs)}` : ''}`;
}

export function renderStatusReport(r: StatusReport, now: number, view: Partial<StatusView> = {}): string[] {
  const v: StatusView = { now, width: view.width ?? Infinity, wide: view.wide ?? false };
  // Each section fits itself (wraps sentences, narrows the table); the cut is a backstop.
  return SECTIONS.flatMap((section) => section(r, v)).map((l) => (v.wide ? l : fitLine(l, v.width)));
}

/** The schedules as a table, one row each: every column when wide, else the ones that matter, fitted to the width. */
export function renderSchedules(
  rows: readonly StatusRow[],
  now: number,
  view: Partial<StatusView> = { wide: true },
): string[] {
  if (rows.length === 0) return ['No schedules in the registry.'];
  const outcome = (r: StatusRow) =>
    r.lastOutcome
      ? `${r.lastOutcome}${r.lastLatenessMs !== null ? ` (+${formatLateness(r.lastLatenessMs)})` : ''}`
      : '-';
  if (view.wide !== false) {
    // RETRY only when some schedule has one.
    const retry = rows.some((r) => r.retry !== undefined);
    return renderTable(
      [
        'ID',
        'TRIGGER',
        'QUEUE',
        'ENABLED',
        'NEXT',
        '',
        'LAST RUN',
        'LAST OUTCOME',
        'JOB',
        'HEALTH',
        ...(retry ? ['RETRY'] : []),
        'SOURCE',
      ],
      rows.map((r) => [
        r.id,
        withCronWords(r.trigger, r.cron) + boundsText(r),
        r.queue,
        r.enabled ? 'yes' : 'no',
        r.next ?? '-',
        r.nextRelative,
        r.lastRun ? `${r.lastRun} (${relativeAgo(now - Date.parse(r.lastRun))})` : '-',
        outcome(r),
        jobText(r),
        healthText(r),
        ...(retry ? [r.retry ?? '-'] : []),
        `${r.source}:${r.origin}`,
      ]),
    );
  }
  // Narrow: times relative, no ENABLED column (a disabled schedule's NEXT says so).
  return fitTable(
    ['ID', 'TRIGGER', 'QUEUE', 'NEXT', 'LAST RUN', 'JOB', 'SOURCE'],
    rows.map((r) => [
      r.id,
      withCronWords(r.trigger, r.cron) + boundsText(r),
      r.queue,
      r.nextRelative,
      r.lastRun ? `${r.lastOutcome ?? 'ran'} ${relativeAgo(now - Date.parse(r.lastRun))}` : '-',
      // One column for both when narrow: the job's outcome, and what needs attention.
      [jobText(r), ...(r.failing ? ['FAILING'] : []), ...(r.overdue ? ['OVERDUE'] : [])].join(' '),
      `${r.source}:${r.origin}`,
    ]),
    view.width ?? Infinity,
  );
}

/** A trigger's jitter and `times`, after it: ", jitter 1m, 2 of 3 runs". */
function boundsText(r: StatusRow): string {
  return `${r.jitter ? `, jitter ${formatDuration(r.jitter)}` : ''}${r.times ? `, ${r.times.fired} of ${r.times.limit} runs` : ''}`;
}
