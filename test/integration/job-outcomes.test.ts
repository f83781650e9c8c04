import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { type DaemonWorld, startDaemonWorld, startWorldDaemon, stopDaemonWorld } from '../helpers/daemon-world.js';
import { eventually } from '../helpers/eventually.js';
import { parsePrometheusText } from '../helpers/prom-text.js';
import { burstWorker } from '../helpers/rq-worker.js';
import type { StatusRow } from '../../src/status/status-view.js';

// Issue 23: what became of the jobs pyrq enqueued, from RQ's own records, with a real
// `rq worker` (RQ 1.13): a job that finishes, one that raises, one that outlives its
// timeout; failing after failAfter failures in a row; overdue when no worker ever runs.
let w: DaemonWorld;
const daemons: DaemonProcess[] = [];
let base: string;

const SCHEDULES = `
[[schedules]]
id = "ok"
function = "pyrq_fixtures.tasks.succeed"
every = "1s"
queue = "outcomes"

[[schedules]]
id = "bad"
function = "pyrq_fixtures.tasks.explode"
every = "1s"
queue = "outcomes"
failAfter = 2

[[schedules]]
id = "late"
function = "pyrq_fixtures.tasks.overrun"
every = "2s"
overlap = "forbid"
queue = "outcomes"
timeout = 1
kwargs = { seconds = 20 }

[[schedules]]
id = "nobody"
function = "pyrq_fixtures.tasks.succeed"
every = "1s"
queue = "no-worker-here"
alertAfter = "2s"
`;

beforeAll(async () => {
  w = await startDaemonWorld();
  writeFileSync(join(w.schedules, 'outcomes.toml'), SCHEDULES);
  const d = await startWorldDaemon(w, 'o', { args: ['--http', '127.0.0.1:0'] }, daemons);
  const line = await d.waitForLog((l) => l.msg === 'http listener started', 15_000);
  base = `http://${String(line.http)}`;
}, 30_000);
afterAll(() => stopDaemonWorld(w, daemons));

async function statusRows(): Promise<Map<string, StatusRow>> {
  const r = await pyrq(['status', '--json', '--redis-url', w.server.url, '--no-daemon']);
  expect(r.code, r.stderr).toBe(0);
  return new Map((JSON.parse(r.stdout) as { schedules: StatusRow[] }).schedules.map((s) => [s.id, s]));
}

describe('job outcomes from a real rq worker', () => {
  it('shows finished, failed (with the exception), the timeout, failing and overdue in status, history, the page and /metrics', async () => {
    const redis: Redis = w.redis;
    // Two jobs of "bad" and one of "late" are queued before any worker runs.
    await eventually(
      async () =>
        (await redis.lrange('rq:queue:outcomes', 0, -1)).filter((j) => j.startsWith('pyrq_bad_')).length >= 2 &&
        (await redis.lrange('rq:queue:outcomes', 0, -1)).some((j) => j.startsWith('pyrq_late_')),
      { message: 'two jobs of "bad" and one of "late" queued', timeout: 20_000 },
    );
    // Paused, so the worker drains a queue that no longer grows ("nobody" keeps firing).
    const p = await pyrq(['pause', 'ok', 'bad', 'late', '--redis-url', w.server.url]);
    expect(p.code, p.stderr).toBe(0);
    const run = await burstWorker(w.server.url, ['outcomes'], w.dir.path, { timeoutMs: 60_000 });
    expect(run.code, run.output).toBe(0);

    const rows = await eventually(
      async () => {
        const s = await statusRows();
        if (
          s.get('ok')?.jobOutcome === 'finished' &&
          s.get('bad')?.failing &&
          s.get('late')?.jobOutcome === 'failed' &&
          s.get('nobody')?.overdue
        )
          return s;
        // Thrown, so a timeout says what was still missing.
        const seen = ['ok', 'bad', 'late', 'nobody'].map((id) => {
          const r = s.get(id);
          return `${id}: ${r?.jobOutcome ?? 'no outcome'}${r?.failing ? ', failing' : ''}${r?.overdue ? ', overdue' : ''}`;
        });
        throw new Error(seen.join('; '));
      },
      // The reader looks at a job still queued again after half its age (1 to 60 s:
      // src/rq/job-outcome.ts nextLookMs), so a job that waited 40 s for this worker may be
      // learnt 20 s after it ended: under load 20 s was not enough once (a CI run).
      { message: 'status shows every outcome', timeout: 60_000, every: 250 },
    );
    const ok = rows.get('ok')!;
    expect(ok).toMatchObject({ jobOutcome: 'finished', failing: false, overdue: false, consecutiveFailures: 0 });
    expect(ok.jobDurationMs).toEqual(expect.any(Number));
    expect(ok.lastSuccess).toEqual(expect.any(String));
    const bad = rows.get('bad')!;
    expect(bad.jobOutcome).toBe('failed');
    expect(bad.failure).toBe('ValueError: pyrq outcome test: boom');
    expect(bad.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(bad.lastSuccess).toBeNull();
    expect(rows.get('late')!.failure).toMatch(/JobTimeoutException: Task exceeded maximum timeout value \(1 seconds\)/);
    // Its worker never ran: no outcome, overdue since its first job plus alertAfter.
    expect(rows.get('nobody')).toMatchObject({ jobOutcome: null, overdue: true, failing: false });

    // The text of status names them.
    const text = await pyrq(['status', '--redis-url', w.server.url, '--no-daemon', '--wide']);
    expect(text.stdout).toMatch(/Needs attention/);
    expect(text.stdout).toMatch(/bad: FAILING \(\d+ in a row\).*ValueError: pyrq outcome test: boom/);
    expect(text.stdout).toMatch(/nobody: OVERDUE; last success never/);

    // History: each run with its job's result, which outlives RQ's TTL.
    const h = await pyrq(['history', 'bad', '--json', '--redis-url', w.server.url]);
    const hist = JSON.parse(h.stdout) as {
      runs: { result: string | null; error: string | null }[];
      health: { failing: boolean };
    };
    expect(hist.health.failing).toBe(true);
    expect(hist.runs.filter((r) => r.result === 'failed').length).toBeGreaterThanOrEqual(2);
    expect(hist.runs.find((r) => r.result === 'failed')!.error).toBe('ValueError: pyrq outcome test: boom');

    // Doctor warns about both.
    const doc = await pyrq(['doctor', '--json', '--redis-url', w.server.url, '--dir', w.schedules]);
    const checks = (JSON.parse(doc.stdout) as { checks: { check: string; status: string; message: string }[] }).checks;
    expect(checks.find((c) => c.check === 'failing')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('bad'),
    });
    expect(checks.find((c) => c.check === 'overdue')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('nobody'),
    });

    // The page: outcome, failure text, health, the strip.
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain('ValueError: pyrq outcome test: boom');
    expect(page).toContain('JobTimeoutException');
    expect(page).toMatch(/failing \(\d+ in a row\)/);
    expect(page).toContain('<span class="bad">overdue</span>');
    expect(page).toMatch(/<svg class="strip"[^>]*>.*<title>failed<\/title>/s);
    expect(page).toMatch(/<title>finished<\/title>/);
    // The banner and the row states come from the same stored outcomes: "bad" is failing
    // (and paused, which its row shows first), "nobody" is overdue.
    expect(page).toMatch(/schedules? failing: [^<]*\bbad\b/);
    expect(page).toMatch(/overdue \(no success within the alert window\): [^<]*\bnobody\b/);
    expect(page).toMatch(/<tr class="overdue" data-id="nobody"/);
    expect(page).toMatch(/<option value="failing"/);

    // Metrics: outcomes by kind, failing and overdue counts (no schedule label).
    const m = await eventually(
      async () => {
        const e = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
        return (e.value('pyrq_schedules_failing', { source: 'files' }) ?? 0) >= 1 &&
          (e.value('pyrq_schedules_overdue', { source: 'files' }) ?? 0) >= 1
          ? e
          : undefined;
      },
      { message: 'failing and overdue in /metrics', timeout: 40_000, every: 500 },
    );
    expect(m.value('pyrq_job_outcomes_total', { outcome: 'finished' })).toBeGreaterThan(0);
    expect(m.value('pyrq_job_outcomes_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(3);
    expect(m.sum('pyrq_job_outcome_lag_seconds_count')).toBeGreaterThan(0);
    for (const s of m.samples.filter((x) => x.name.startsWith('pyrq_schedules_'))) expect(s.labels.id).toBeUndefined();
  }, 180_000);
});
