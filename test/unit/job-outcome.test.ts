import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { normalizeSchedule, DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { scheduledJobId } from '../../src/rq/job-id.js';
import { failureSummary, nextLookMs, observeOutcome, parseRqTime } from '../../src/rq/job-outcome.js';
import { overdueAt, scheduleHealth } from '../../src/status/schedule-health.js';

const T = Date.parse('2026-06-01T12:00:00Z');
const jobId = scheduledJobId('billing.nightly_x', T);
const rec = (over: Partial<Parameters<typeof observeOutcome>[1]> = {}) => ({
  exists: true,
  status: 'finished',
  enqueuedAt: '2026-06-01T12:00:00.000000Z',
  startedAt: '2026-06-01T12:00:01.250000Z',
  endedAt: '2026-06-01T12:00:03.500000Z',
  excText: null,
  ...over,
});

describe('job outcome from RQ records', () => {
  it('reads RQ times, with or without a fraction', () => {
    expect(parseRqTime('2026-06-01T12:00:01.250000Z')).toBe(T + 1250);
    expect(parseRqTime('2026-06-01T12:00:01Z')).toBe(T + 1000);
    expect(parseRqTime('')).toBeNull();
    expect(parseRqTime('yesterday')).toBeNull();
  });

  it('finished with its duration; schedule id and occurrence from the job id', () => {
    expect(observeOutcome(jobId, rec())).toEqual({
      jobId,
      scheduleId: 'billing.nightly_x',
      runAt: T,
      outcome: 'finished',
      endedAt: T + 3500,
      durationMs: 2250,
      failure: null,
    });
  });

  it('a job whose hash is gone is unknown, never finished', () => {
    const o = observeOutcome(jobId, {
      exists: false,
      status: null,
      enqueuedAt: null,
      startedAt: null,
      endedAt: null,
      excText: null,
    });
    expect(o).toMatchObject({ outcome: 'unknown', endedAt: null, durationMs: null, failure: null });
  });

  it('failed: the exception line of the traceback, bounded', () => {
    const tb = `Traceback (most recent call last):\n  File "x.py", line 1, in f\n    raise ValueError("boom")\nValueError: boom\n`;
    expect(observeOutcome(jobId, rec({ status: 'failed', excText: tb }))!.failure).toBe('ValueError: boom');
    const long = failureSummary(`Traceback:\nRuntimeError: ${'x'.repeat(500)}\n`)!;
    expect(long.length).toBe(201); // 200 characters and the ellipsis
    expect(long.endsWith('…')).toBe(true);
    expect(failureSummary('KeyError: a\u0007b')).toBe('KeyError: a b');
    expect(failureSummary(null)).toBeNull();
  });

  it('still waiting: queued (also deferred, scheduled) or started, without an end', () => {
    for (const status of ['queued', 'deferred', 'scheduled', null])
      expect(observeOutcome(jobId, rec({ status }))!.outcome).toBe('queued');
    expect(observeOutcome(jobId, rec({ status: 'started' }))).toMatchObject({ outcome: 'started', endedAt: null });
  });

  it('ignores job ids pyrq did not make', () => {
    expect(observeOutcome('0b6f3f6e-some-uuid', rec())).toBeNull();
  });

  it('looks again at a waiting job after half its age, 1 to 60 s', () => {
    expect(nextLookMs(T + 100, T) - (T + 100)).toBe(1000);
    expect(nextLookMs(T + 10_000, T) - (T + 10_000)).toBe(5000);
    expect(nextLookMs(T + 3_600_000, T) - (T + 3_600_000)).toBe(60_000);
  });
});

function spec(input: Record<string, unknown>): Schedule {
  const r = normalizeSchedule({ id: 's', function: 'app.tasks.f', ...input }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

describe('failing and overdue', () => {
  it('failing after failAfter failures in a row (default 3)', () => {
    const s = spec({ every: '5m' });
    expect(scheduleHealth(s, { consecutiveFailures: '2' }, T, true).failing).toBe(false);
    expect(scheduleHealth(s, { consecutiveFailures: '3' }, T, true).failing).toBe(true);
    expect(scheduleHealth(spec({ every: '5m', failAfter: 1 }), { consecutiveFailures: '1' }, T, true).failing).toBe(
      true,
    );
  });

  it('overdue by default two occurrences after the last success, plus the timeout', () => {
    const s = spec({ every: '5m' }); // timeout 180 s
    const since = Date.parse('2026-06-01T12:00:00Z');
    expect(overdueAt(s, since)).toBe(since + 10 * 60_000 + 180_000);
    const f = { lastSuccessAt: String(since) };
    expect(scheduleHealth(s, f, since + 13 * 60_000, true).overdue).toBe(false);
    expect(scheduleHealth(s, f, since + 13 * 60_000 + 1, true)).toMatchObject({
      overdue: true,
      overdueSince: since + 13 * 60_000,
    });
    // Not while inactive (paused, disabled, done).
    expect(scheduleHealth(s, f, since + 86_400_000, false).overdue).toBe(false);
  });

  it('a weekdays-only cron counts its occurrences, not the weekend', () => {
    const s = spec({ cron: '0 9 * * 1-5', timezone: 'UTC' });
    const friday = Date.parse('2026-06-05T09:00:00Z');
    // Next two occurrences: Monday and Tuesday 09:00, plus 180 s.
    expect(overdueAt(s, friday)).toBe(Date.parse('2026-06-09T09:03:00Z'));
  });

  it('alertAfter replaces the default; a never-succeeded schedule counts from its first job', () => {
    const s = spec({ every: '1h', alertAfter: '2s' });
    expect(scheduleHealth(s, { firstRunAt: String(T) }, T + 2000, true).overdue).toBe(false);
    expect(scheduleHealth(s, { firstRunAt: String(T) }, T + 2001, true).overdue).toBe(true);
    // Never fired: never overdue.
    expect(scheduleHealth(s, {}, T + 86_400_000, true).overdue).toBe(false);
  });

  it('a one-shot is never overdue by default', () => {
    const s = spec({ at: '2026-06-01T12:00:00Z' });
    expect(scheduleHealth(s, { firstRunAt: String(T) }, T + 86_400_000 * 30, true).overdue).toBe(false);
  });

  it('refuses a bad failAfter or alertAfter at the field', () => {
    for (const bad of [{ failAfter: 0 }, { failAfter: 1.5 }, { alertAfter: 'soon' }, { alertAfter: 0 }]) {
      const r = normalizeSchedule({ id: 's', function: 'app.tasks.f', every: '1m', ...bad }, DEFAULT_CONTEXT);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.issues[0]!.path).toBe(Object.keys(bad)[0]);
    }
  });
});

describe('failAfter and alertAfter defaults from the config', () => {
  it('fill a schedule that does not say; its own value wins; unset leaves the spec (and its hash) as it was', () => {
    const ctx = { ...DEFAULT_CONTEXT, failAfter: 5, alertAfter: 600 };
    const r = normalizeSchedule({ id: 's', function: 'app.tasks.f', every: '1m' }, ctx);
    expect(r.ok && [r.schedule.failAfter, r.schedule.alertAfter]).toEqual([5, 600]);
    const own = normalizeSchedule(
      { id: 's', function: 'app.tasks.f', every: '1m', failAfter: 2, alertAfter: '1h' },
      ctx,
    );
    expect(own.ok && [own.schedule.failAfter, own.schedule.alertAfter]).toEqual([2, 3600]);
    const none = normalizeSchedule({ id: 's', function: 'app.tasks.f', every: '1m' }, DEFAULT_CONTEXT);
    expect(none.ok && ('failAfter' in none.schedule || 'alertAfter' in none.schedule)).toBe(false);
  });
});
