/** The CLI's text output (cli/render/): pure functions from results to lines. */
import { describe, expect, it } from 'vitest';
import { renderHistory } from '../../cli/render/history.js';
import { renderNext } from '../../cli/render/next.js';
import {
  changeLineCount,
  changeLines,
  formatValue,
  renderApply,
  renderPlan,
  renderResync,
} from '../../cli/render/plan.js';
import { renderSchedules, renderStatusReport } from '../../cli/render/status.js';
import { formatLateness, relativeAgo, renderTable } from '../../cli/render/table.js';
import { renderTick } from '../../cli/render/tick.js';
import type { HistoryRow } from '../../src/dispatch/history.js';
import type { TickResult } from '../../src/dispatch/tick-result.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { attachObserved, diff } from '../../src/plan/diff.js';
import type { ObservedEntry } from '../../src/plan/types.js';
import type { StatusReport } from '../../src/status/registry-status.js';
import type { StatusRow } from '../../src/status/status-view.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function spec(id: string, fields: Record<string, unknown> = {}): Schedule {
  const r = normalizeSchedule({ id, function: 'app.tasks.run', cron: '0 * * * *', ...fields }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}
const entry = (s: Schedule, origin: string): ObservedEntry => ({ hash: specHash(s), source: 'files', origin, spec: s });

describe('plan text', () => {
  // One of each change, a stale source and an error.
  const a = spec('a');
  const b = spec('b', { queue: 'low' });
  const gone = spec('gone', { every: '1h30m', cron: undefined });
  const plan = attachObserved(
    diff(
      [
        {
          source: 'files',
          schedules: [
            { spec: a, hash: specHash(a), origin: 'a.toml' },
            { spec: spec('b', { queue: 'high' }), hash: specHash(spec('b', { queue: 'high' })), origin: 'b.toml' },
          ],
          errors: [{ source: 'files', origin: 'bad.toml', message: 'cannot parse' }],
          stale: false,
          heldOrigins: ['bad.toml'],
          heldIds: [],
        },
      ],
      new Map([
        ['b', entry(b, 'b.toml')],
        ['gone', entry(gone, 'old.toml')],
      ]),
      NOW,
    ),
    new Map([['b', b]]),
  );

  it('renders + create, ~ update field by field, - delete, errors and the summary', () => {
    expect(renderPlan(plan)).toEqual([
      'Errors (what they cover keeps its applied state):',
      '  ! bad.toml: cannot parse',
      '',
      'pyrq will perform the following actions:',
      '',
      '  + create a  (files: a.toml)',
      '      cron "0 * * * *" (UTC) -> app.tasks.run on queue "default"',
      '',
      '  ~ update b  (files: b.toml)',
      '      queue: "low" -> "high"',
      '',
      '  - delete gone  (files: old.toml)',
      '      was every 1h30m -> app.tasks.run',
      '',
      'Plan: 1 to create, 1 to update, 1 to delete, 0 unchanged.',
    ]);
  });

  it('counts the lines of a collapsed change exactly as many as it would print', () => {
    const unread = { ...plan.changes.find((c) => c.action === 'update')!, before: undefined, fields: [] };
    const bare = { ...plan.changes.find((c) => c.action === 'delete')!, before: undefined };
    for (const c of [...plan.changes, unread, bare]) expect(changeLineCount(c)).toBe(changeLines(c).length);
  });

  it('says so when nothing changes, and when a source is stale', () => {
    const none = diff(
      [{ source: 'mysql', schedules: [], errors: [], stale: true, heldOrigins: [], heldIds: [] }],
      new Map(),
      NOW,
    );
    expect(renderPlan(none)).toEqual([
      'Source "mysql" is stale: nothing it owns will be deleted.',
      '',
      'No changes. The registry matches the sources (0 unchanged).',
    ]);
  });

  it('renders what apply did, with conflicts', () => {
    const lines = renderApply(plan, { created: ['a'], updated: [], deleted: ['gone'], noop: [], conflicts: ['b'] });
    expect(lines).toContain('  + create a  (files: a.toml)');
    expect(lines).not.toContain('  ~ update b  (files: b.toml)');
    expect(lines).toContain('Skipped 1 changed by someone else meanwhile: b (run again to converge).');
    expect(lines.at(-1)).toBe('Apply complete: 1 created, 0 updated, 1 deleted, 0 unchanged.');
  });

  it('renders what apply did when every change applied', () => {
    const ids = plan.changes.map((c) => c.id);
    const kinds = { created: [] as string[], updated: [] as string[], deleted: [] as string[] };
    for (const c of plan.changes)
      kinds[c.action === 'create' ? 'created' : c.action === 'update' ? 'updated' : 'deleted'].push(c.id);
    const lines = renderApply(plan, { ...kinds, noop: [], conflicts: [] });
    const changeLines = renderPlan(plan).filter((x) => /^ {2}[+~-] /.test(x));
    expect(changeLines.length).toBe(ids.length);
    for (const l of changeLines) expect(lines).toContain(l);
    expect(lines.at(-1)).toBe(
      `Apply complete: ${kinds.created.length} created, ${kinds.updated.length} updated, ${kinds.deleted.length} deleted, ${plan.unchanged} unchanged${plan.held.length ? `, ${plan.held.length} held` : ''}.`,
    );
  });

  it('formats values for field changes', () => {
    expect(formatValue(undefined)).toBe('(none)');
    expect(formatValue('x')).toBe('"x"');
    expect(formatValue({ b: 1, a: [2] })).toBe('{"a":[2],"b":1}');
  });

  it('renders the daemon re-sync reply', () => {
    expect(
      renderResync({
        summary: { create: 1, update: 0, delete: 2, unchanged: 5, held: 1 },
        errors: ['x.toml: cannot parse'],
        durationMs: 12,
      }),
    ).toEqual([
      '! x.toml: cannot parse',
      'Re-sync done in 12 ms: 1 created, 0 updated, 2 deleted, 5 unchanged, 1 held.',
    ]);
  });
});

const row = (over: Partial<StatusRow> = {}): StatusRow => ({
  id: 'nightly',
  trigger: 'cron "0 3 * * *" (UTC)',
  cron: '0 3 * * *',
  timezone: 'UTC',
  queue: 'default',
  target: 'rq',
  function: 'app.tasks.run',
  enabled: true,
  overlap: 'allow',
  next: '2026-06-02T03:00:00.000Z',
  nextRelative: 'in 15h 0m',
  source: 'files',
  origin: 'a.toml',
  lastRun: '2026-06-01T11:57:00.000Z',
  lastOutcome: 'enqueued',
  lastLatenessMs: 4200,
  lastJobId: 'j',
  done: false,
  jobOutcome: null,
  jobOutcomeAt: null,
  jobOutcomeJobId: null,
  jobDurationMs: null,
  failure: null,
  lastSuccess: null,
  consecutiveFailures: 0,
  failing: false,
  overdue: false,
  ...over,
});

describe('status text', () => {
  it('a table with aligned columns, the last one unpadded', () => {
    expect(
      renderTable(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', 'long'],
        ],
      ),
    ).toEqual(['A    BB', 'xxx  y', 'z    long']);
  });

  it('the schedules, with relative times and lateness', () => {
    const lines = renderSchedules(
      [
        row(),
        row({
          id: 'off',
          enabled: false,
          next: null,
          nextRelative: 'disabled',
          lastRun: null,
          lastOutcome: null,
          lastLatenessMs: null,
        }),
      ],
      NOW,
    );
    expect(lines[0]).toMatch(
      /^ID\s+TRIGGER\s+QUEUE\s+ENABLED\s+NEXT\s+LAST RUN\s+LAST OUTCOME\s+JOB\s+HEALTH\s+SOURCE$/,
    );
    expect(lines[1]).toMatch(
      /^nightly\s+cron "0 3 \* \* \*" \(UTC\): At 03:00\s+default\s+yes\s+2026-06-02T03:00:00.000Z\s+in 15h 0m\s+2026-06-01T11:57:00.000Z \(3m 0s ago\)\s+enqueued \(\+4.2s\)\s+-\s+ok\s+files:a.toml$/,
    );
    expect(lines[2]).toMatch(/^off\s+.*\s+no\s+-\s+disabled\s+-\s+-\s+-\s+ok\s+files:a.toml$/);
    expect(renderSchedules([], NOW)).toEqual(['No schedules in the registry.']);
  });

  it('the whole report, from Redis and from the daemon', () => {
    const report: StatusReport = {
      via: 'redis',
      clocks: [],
      leader: null,
      sources: [
        {
          source: 'files',
          stale: false,
          schedules: 3,
          held: 1,
          errors: Array.from({ length: 12 }, (_, i) => `e${i}`),
          at: NOW,
          by: 'pyrq apply',
        },
      ],
      lastReconcile: {
        at: NOW - 62_000,
        runId: 'ab12cd34',
        durationMs: 12,
        created: 1,
        updated: 2,
        deleted: 0,
        unchanged: 40,
        errors: 1,
        reason: 'files changed: billing.toml',
      },
      schedules: [row()],
    };
    const lines = renderStatusReport(report, NOW);
    expect(lines[0]).toBe(
      'Not asking a daemon (--no-daemon); from Redis (source health as last recorded). Leader: none',
    );
    expect(lines[1]).toBe('Source files: ok, 3 schedules, 1 held, 12 errors; as of 0s ago, recorded by pyrq apply');
    expect(lines.filter((l) => l.startsWith('  ! '))).toHaveLength(10);
    expect(lines).toContain('  (2 more: pyrq status --json)');
    expect(lines).toContain(
      'Last reconcile 1m 2s ago (run ab12cd34, 12 ms; files changed: billing.toml): 1 created, 2 updated, 0 deleted, 40 unchanged, 1 error.',
    );
    const daemon = renderStatusReport(
      {
        ...report,
        via: 'daemon',
        daemon: { pid: 7, leader: true },
        leader: 'h:7:x',
        sources: [{ ...report.sources[0]!, stale: true, errors: [] }],
      },
      NOW,
    );
    expect(daemon[0]).toBe('Daemon: pid 7, leader; leader: h:7:x');
    expect(daemon[1]).toMatch(/^Source files: STALE \(nothing it owns is deleted\), 3 schedules, 1 held; as of /);
    // The same sentence from either path: it is made from the same summary.
    expect(daemon.find((l) => l.startsWith('Last reconcile'))).toBe(lines.find((l) => l.startsWith('Last reconcile')));
  });

  it('fits a width: every line at most that long; wide shows every column in full', () => {
    const long = row({
      id: 'an-unusually-long-schedule-identifier-for-the-monthly-invoices',
      origin: 'billing/customers/enterprise/monthly-invoices.toml',
    });
    const report: StatusReport = {
      via: 'redis',
      clocks: [],
      leader: 'a-host-with-a-long-name.example.internal:12345:abcdef',
      sources: [
        {
          source: 'files',
          stale: false,
          schedules: 3,
          held: 0,
          errors: [
            `billing/customers/enterprise/monthly-invoices.toml: schedules[0] (id "x"): cron: "61 * * * *": minute out of range ${'x'.repeat(80)}`,
          ],
          at: NOW,
        },
      ],
      lastReconcile: {
        at: NOW,
        runId: 'ab12cd34',
        durationMs: 12,
        created: 1,
        updated: 2,
        deleted: 0,
        unchanged: 40,
        errors: 1,
        reason: 'files changed: billing/customers/enterprise/monthly-invoices.toml, a.toml',
      },
      schedules: [long, row()],
    };
    const narrow = renderStatusReport(report, NOW, { width: 80 });
    for (const l of narrow) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(narrow.join('\n')).toContain('…');
    const wide = renderStatusReport(report, NOW, { width: Infinity, wide: true });
    expect(wide.some((l) => l.length > 80)).toBe(true);
    expect(wide.join('\n')).toContain(long.id);
  });

  it("each daemon's clock: ahead, behind or the same as Redis, the warning wrapped to the width", () => {
    const report: StatusReport = {
      via: 'redis',
      leader: null,
      sources: [],
      lastReconcile: null,
      clocks: [
        {
          daemon: 'web1:4211:9f2c1a',
          pid: 4211,
          offsetMs: -2999,
          measuredAt: new Date(NOW - 12_000).toISOString(),
          warn: true,
        },
        {
          daemon: 'web2:77:aa11bb',
          pid: 77,
          offsetMs: 40,
          measuredAt: new Date(NOW - 3_000).toISOString(),
          warn: false,
        },
        { daemon: 'web3:9:cc22dd', pid: 9, offsetMs: 0, measuredAt: new Date(NOW).toISOString(), warn: false },
      ],
      schedules: [row()],
    };
    const lines = renderStatusReport(report, NOW);
    expect(lines).toContain(
      "Clock of daemon web1:4211:9f2c1a (pid 4211): 2999 ms ahead of Redis (measured 12s ago): WARNING beyond daemon.clockOffsetWarn; fires go by Redis's clock, but fix this machine's clock",
    );
    expect(lines).toContain('Clock of daemon web2:77:aa11bb (pid 77): 40 ms behind Redis (measured 3s ago)');
    expect(lines).toContain('Clock of daemon web3:9:cc22dd (pid 9): same as Redis (measured 0s ago)');
    // After the last reconcile, before the table.
    expect(lines.findIndex((l) => l.startsWith('Clock of'))).toBeGreaterThan(
      lines.findIndex((l) => l.startsWith('No reconcile')),
    );
    const narrow = renderStatusReport(report, NOW, { width: 80 });
    for (const l of narrow) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(narrow.join(' ').replace(/\s+/g, ' ')).toContain(
      "WARNING beyond daemon.clockOffsetWarn; fires go by Redis's clock, but fix this machine's clock",
    );
  });

  it('lateness and "ago" for people', () => {
    expect(formatLateness(12)).toBe('12ms');
    expect(formatLateness(4200)).toBe('4.2s');
    expect(formatLateness(960_000)).toBe('16m 0s');
    expect(relativeAgo(192_000)).toBe('3m 12s ago');
    expect(relativeAgo(-5000)).toBe('in 5s');
  });
});

describe('history text', () => {
  it('one row per run; an aggregate of missed runs as a range; a job still running', () => {
    const rows: HistoryRow[] = [
      {
        occurrence: '2026-06-01T11:00:00.000Z',
        at: '2026-06-01T11:00:00.010Z',
        latenessMs: 10,
        trigger: 'schedule',
        outcome: 'enqueued',
        jobId: 'j1',
        jobStatus: 'finished',
      },
      {
        occurrence: '2026-06-01T08:00:00.000Z',
        until: '2026-06-01T11:00:00.000Z',
        count: 3,
        at: '2026-06-01T11:00:00.010Z',
        latenessMs: 10_800_000,
        trigger: 'schedule',
        outcome: 'skipped:missed',
        jobId: null,
        jobStatus: null,
      },
      {
        occurrence: '2026-06-01T07:00:00.000Z',
        at: '2026-06-01T07:00:00.000Z',
        latenessMs: 0,
        trigger: 'schedule',
        outcome: 'skipped:overlap',
        jobId: null,
        jobStatus: null,
        previousJobId: 'j0',
      },
    ];
    const lines = renderHistory('h', rows);
    expect(lines[0]).toMatch(/^OCCURRENCE\s+HANDLED\s+LATENESS\s+TRIGGER\s+OUTCOME\s+JOB\s+STATUS\s+RESULT$/);
    expect(lines[1]).toMatch(/^2026-06-01T11:00:00.000Z\s+\S+\s+10ms\s+schedule\s+enqueued\s+j1\s+finished\s+-$/);
    expect(lines[2]).toMatch(
      /^2026-06-01T08:00:00.000Z \.\. 2026-06-01T11:00:00.000Z \(3\)\s+\S+\s+3h 0m\s+schedule\s+skipped:missed\s+-\s+-\s+-$/,
    );
    expect(lines[3]).toMatch(/\(running: j0\)\s+-\s+-$/);
    expect(renderHistory('h', [])).toEqual(['No runs recorded for "h" yet.']);
  });
});

describe('tick text', () => {
  const base: TickResult = { now: NOW, enqueued: 0, skipped: 0, schedules: [], problems: [], durationMs: 3 };
  it('nothing due', () => {
    expect(renderTick(base)).toEqual(['Nothing due at 2026-06-01T12:00:00.000Z.']);
    expect(
      renderTick({ ...base, problems: [{ id: 'x', message: 'unreadable spec' }] as TickResult['problems'] }),
    ).toEqual(['! x: unreadable spec', 'Nothing due at 2026-06-01T12:00:00.000Z.']);
  });

  it('each schedule, at most 50 lines, then a summary', () => {
    const schedules = Array.from({ length: 52 }, (_, i) => ({
      id: `s${i}`,
      result: 'fired' as const,
      enqueued: 1,
      jobIds: [`j${i}`],
      skipped: i === 0 ? 2 : 0,
    }));
    schedules[1] = { id: 's1', result: 'not-due' as never, enqueued: 0, jobIds: [], skipped: 0 };
    const lines = renderTick({ ...base, enqueued: 51, skipped: 2, schedules });
    expect(lines[0]).toBe('  s0: 1 enqueued, 2 skipped  j0');
    expect(lines[1]).toBe('  s1: already fired by another dispatcher');
    expect(lines).toContain('  ... and 2 more schedules');
    expect(lines.at(-1)).toBe(
      'Fired at 2026-06-01T12:00:00.000Z: 51 job(s) enqueued, 2 occurrence(s) skipped, 52 schedule(s), 3 ms. See "pyrq history ID".',
    );
  });
});

describe('next text', () => {
  it('the trigger, the stored next fire time and each time in UTC and local time', () => {
    expect(
      renderNext({
        id: 'n',
        trigger: 'cron "30 2 * * *" (America/New_York)',
        timezone: 'America/New_York',
        stored: '2026-03-08T07:30:00Z',
        overlap: 'buffer-one',
        times: [{ utc: '2026-03-08T07:30:00Z', local: '2026-03-08 03:30:00 EDT' }],
      }),
    ).toEqual([
      'n: cron "30 2 * * *" (America/New_York)',
      '  stored next fire time: 2026-03-08T07:30:00Z',
      '  overlap: buffer-one',
      '  2026-03-08T07:30:00Z  2026-03-08 03:30:00 EDT',
    ]);
    expect(
      renderNext({
        id: 'off',
        trigger: 'every 1h',
        timezone: 'UTC',
        stored: null,
        times: [],
        note: 'disabled: it never fires',
      }),
    ).toEqual(['off: every 1h', '  (disabled: it never fires)', '  stored next fire time: none']);
    expect(renderNext({ trigger: 'at 2020-01-01T00:00:00Z', timezone: 'UTC', times: [] })).toEqual([
      'at 2020-01-01T00:00:00Z',
      '  no further fire times',
    ]);
  });
});
