import { Cron } from 'croner';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { nextFireAfter, occurrencesBetween } from '../../src/schedule/next-fire.js';

const T = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));

function sched(fields: Record<string, unknown>): Schedule {
  const r = normalizeSchedule({ id: 's', function: 'a.b', ...fields }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

/** The next `n` fire times after `from`, as ISO strings. */
function nextN(s: Schedule, from: string, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let t = T(from);
  for (let i = 0; i < n; i++) {
    const next = nextFireAfter(s, t);
    out.push(iso(next));
    if (next === null) break;
    t = next;
  }
  return out;
}

describe('cron in a timezone', () => {
  it('evaluates wall-clock time in the schedule timezone', () => {
    expect(nextN(sched({ cron: '0 9 * * *', timezone: 'Asia/Kolkata' }), '2026-06-01T00:00:00Z', 2)).toEqual([
      '2026-06-01T03:30:00Z',
      '2026-06-02T03:30:00Z',
    ]);
    expect(nextN(sched({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }), '2026-01-15T00:00:00Z', 1)).toEqual([
      '2026-01-15T08:00:00Z',
    ]);
    expect(nextN(sched({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }), '2026-07-15T00:00:00Z', 1)).toEqual([
      '2026-07-15T07:00:00Z',
    ]);
  });

  it('is strictly after the reference time, in whole seconds', () => {
    const s = sched({ cron: '0 * * * *' });
    expect(iso(nextFireAfter(s, T('2026-01-01T01:00:00Z')))).toBe('2026-01-01T02:00:00Z');
    expect(iso(nextFireAfter(s, T('2026-01-01T00:59:59.999Z')))).toBe('2026-01-01T01:00:00Z');
    expect(iso(nextFireAfter(sched({ cron: '*/10 * * * * *' }), T('2026-01-01T00:00:05.5Z')))).toBe(
      '2026-01-01T00:00:10Z',
    );
  });

  it('handles L, W and # modifiers', () => {
    expect(nextN(sched({ cron: '0 0 L * *' }), '2026-02-01T00:00:00Z', 2)).toEqual([
      '2026-02-28T00:00:00Z',
      '2026-03-31T00:00:00Z',
    ]);
    // 15 Aug 2026 is a Saturday: 15W is Friday the 14th.
    expect(nextN(sched({ cron: '0 0 15W * *' }), '2026-08-01T00:00:00Z', 1)).toEqual(['2026-08-14T00:00:00Z']);
    // Second Monday of December 2026 is the 14th; last Friday of November 2026 is the 27th.
    expect(nextN(sched({ cron: '0 9 * * MON#2' }), '2026-12-01T00:00:00Z', 1)).toEqual(['2026-12-14T09:00:00Z']);
    expect(nextN(sched({ cron: '0 16 * * 5#L' }), '2026-11-01T00:00:00Z', 1)).toEqual(['2026-11-27T16:00:00Z']);
  });
});

describe('DST: America/New_York (spring forward 2026-03-08 02:00, fall back 2026-11-01 02:00)', () => {
  const tz = 'America/New_York';

  it('a fixed time inside the spring-forward gap fires once, at the first valid instant', () => {
    expect(nextN(sched({ cron: '30 2 * * *', timezone: tz }), '2026-03-07T12:00:00Z', 3)).toEqual([
      '2026-03-08T07:00:00Z', // 03:00 EDT, the end of the gap
      '2026-03-09T06:30:00Z', // 02:30 EDT
      '2026-03-10T06:30:00Z',
    ]);
  });

  it('a fixed time inside the repeated fall-back hour fires once, at its first occurrence', () => {
    expect(nextN(sched({ cron: '30 1 * * *', timezone: tz }), '2026-10-31T12:00:00Z', 3)).toEqual([
      '2026-11-01T05:30:00Z', // 01:30 EDT; 01:30 EST (06:30Z) is skipped
      '2026-11-02T06:30:00Z',
      '2026-11-03T06:30:00Z',
    ]);
  });

  it('interval jobs keep their real-time rhythm through both changes (Vixie cron)', () => {
    // Hourly: 01:00 EST then 03:00 EDT on spring-forward day (02:00 does not exist).
    expect(nextN(sched({ cron: '0 * * * *', timezone: tz }), '2026-03-08T05:30:00Z', 3)).toEqual([
      '2026-03-08T06:00:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T08:00:00Z',
    ]);
    // Every 30 minutes in hour 1 runs in both passes of the repeated hour.
    expect(nextN(sched({ cron: '*/30 1 * * *', timezone: tz }), '2026-10-31T12:00:00Z', 4)).toEqual([
      '2026-11-01T05:00:00Z',
      '2026-11-01T05:30:00Z',
      '2026-11-01T06:00:00Z',
      '2026-11-01T06:30:00Z',
    ]);
  });
});

describe('DST: Europe/Berlin (spring forward 2026-03-29 02:00, fall back 2026-10-25 03:00)', () => {
  const tz = 'Europe/Berlin';

  it('gap: 02:30 fires once at 03:00 CEST', () => {
    expect(nextN(sched({ cron: '30 2 * * *', timezone: tz }), '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00Z',
      '2026-03-30T00:30:00Z',
    ]);
  });

  it('fold: 02:30 fires once, in CEST', () => {
    expect(nextN(sched({ cron: '30 2 * * *', timezone: tz }), '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
  });

  it('a time outside the changes keeps its wall-clock time across them', () => {
    expect(nextN(sched({ cron: '0 9 * * *', timezone: tz }), '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T07:00:00Z',
      '2026-03-30T07:00:00Z',
    ]);
  });
});

describe('every', () => {
  it('is anchored at the Unix epoch by default, so every daemon agrees', () => {
    expect(nextN(sched({ every: '15m' }), '2026-01-01T10:07:00Z', 3)).toEqual([
      '2026-01-01T10:15:00Z',
      '2026-01-01T10:30:00Z',
      '2026-01-01T10:45:00Z',
    ]);
    expect(iso(nextFireAfter(sched({ every: '15m' }), T('2026-01-01T10:15:00Z')))).toBe('2026-01-01T10:30:00Z');
  });

  it('is anchored at startAt when given, and does not fire before it', () => {
    const s = sched({ every: '1h30m', startAt: '2026-01-01T00:15:00Z' });
    expect(nextN(s, '2025-12-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T00:15:00Z',
      '2026-01-01T01:45:00Z',
      '2026-01-01T03:15:00Z',
    ]);
  });

  it('stops before endAt (exclusive)', () => {
    const s = sched({ every: '1h', endAt: '2026-01-01T03:00:00Z' });
    expect(nextN(s, '2026-01-01T00:30:00Z', 4)).toEqual(['2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', null]);
  });

  it('ignores DST: a period is real time', () => {
    expect(nextN(sched({ every: '1h', timezone: 'America/New_York' }), '2026-03-08T05:30:00Z', 3)).toEqual([
      '2026-03-08T06:00:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T08:00:00Z',
    ]);
  });
});

describe('at, startAt, endAt, enabled', () => {
  it('a one-shot fires once', () => {
    const s = sched({ at: '2030-01-02T03:00:00Z' });
    expect(nextN(s, '2029-12-31T00:00:00Z', 2)).toEqual(['2030-01-02T03:00:00Z', null]);
    expect(nextFireAfter(s, T('2030-01-02T03:00:00Z'))).toBeNull();
  });

  it('cron honours startAt (inclusive) and endAt (exclusive)', () => {
    const s = sched({ cron: '0 0 * * *', startAt: '2026-05-10T00:00:00Z', endAt: '2026-05-12T00:00:00Z' });
    expect(nextN(s, '2026-01-01T00:00:00Z', 3)).toEqual(['2026-05-10T00:00:00Z', '2026-05-11T00:00:00Z', null]);
  });

  it('a disabled schedule never fires', () => {
    expect(nextFireAfter(sched({ cron: '* * * * *', enabled: false }), T('2026-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('occurrencesBetween (catch-up)', () => {
  it('lists missed cron occurrences oldest first, at most the newest `limit`', () => {
    const s = sched({ cron: '0 * * * *' });
    expect(occurrencesBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T03:00:00Z'), 100).map(iso)).toEqual([
      '2026-01-01T01:00:00Z',
      '2026-01-01T02:00:00Z',
      '2026-01-01T03:00:00Z',
    ]);
    expect(occurrencesBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T03:00:00Z'), 2).map(iso)).toEqual([
      '2026-01-01T02:00:00Z',
      '2026-01-01T03:00:00Z',
    ]);
  });

  it('does not walk a day of per-second occurrences', () => {
    const s = sched({ every: 1 });
    const r = occurrencesBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-02T00:00:00Z'), 100);
    expect(r).toHaveLength(100);
    expect(iso(r[99]!)).toBe('2026-01-02T00:00:00Z');
    const c = occurrencesBetween(
      sched({ cron: '* * * * * *' }),
      T('2026-01-01T00:00:00Z'),
      T('2026-01-02T00:00:00Z'),
      100,
    );
    expect(c).toEqual(r);
  });

  it('a short gap is walked forward: croner is never asked for `limit` runs backwards', () => {
    // previousRuns(100) per schedule on every catch-up kept a daemon that fell 3 s
    // behind with 1,000 per-second schedules 3 s behind for good.
    const back = vi.spyOn(Cron.prototype, 'previousRuns');
    try {
      const s = sched({ cron: '* * * * * *', timezone: 'Europe/Berlin' });
      expect(occurrencesBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T00:00:03Z'), 100).map(iso)).toEqual([
        '2026-01-01T00:00:01Z',
        '2026-01-01T00:00:02Z',
        '2026-01-01T00:00:03Z',
      ]);
      expect(back).not.toHaveBeenCalled();
      // More than `limit`: the newest `limit`, found walking back.
      expect(occurrencesBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T00:10:00Z'), 3).map(iso)).toEqual([
        '2026-01-01T00:09:58Z',
        '2026-01-01T00:09:59Z',
        '2026-01-01T00:10:00Z',
      ]);
      expect(back).toHaveBeenCalledTimes(1);
    } finally {
      back.mockRestore();
    }
  });

  it('agrees with nextFireAfter through a DST change', () => {
    const s = sched({ cron: '30 2 * * *', timezone: 'America/New_York' });
    const from = T('2026-03-06T12:00:00Z');
    const to = T('2026-03-11T12:00:00Z');
    const walked: number[] = [];
    for (let t = nextFireAfter(s, from); t !== null && t <= to; t = nextFireAfter(s, t)) walked.push(t);
    expect(occurrencesBetween(s, from, to, 100)).toEqual(walked);
  });

  it('respects startAt, endAt and one-shots', () => {
    const s = sched({ every: '1h', startAt: '2026-01-01T02:00:00Z', endAt: '2026-01-01T04:00:00Z' });
    expect(occurrencesBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T10:00:00Z'), 100).map(iso)).toEqual([
      '2026-01-01T02:00:00Z',
      '2026-01-01T03:00:00Z',
    ]);
    const a = sched({ at: '2030-01-02T03:00:00Z' });
    expect(occurrencesBetween(a, T('2030-01-01T00:00:00Z'), T('2030-01-03T00:00:00Z'), 100).map(iso)).toEqual([
      '2030-01-02T03:00:00Z',
    ]);
    expect(occurrencesBetween(a, T('2030-01-02T03:00:00Z'), T('2030-01-03T00:00:00Z'), 100)).toEqual([]);
  });
});

describe('next fire times worked out on a parse thread (TextSchedule hints)', () => {
  it('answer exactly as nextFireAfter at any later time, or not at all', async () => {
    const { canonicalStringify } = await import('../../src/canonical-json.js');
    const { TextSchedule } = await import('../../sources/files/parse-result.js');
    const specs = [
      sched({ cron: '*/5 * * * *' }),
      sched({ every: '90s' }),
      sched({ cron: '0 3 * * *', timezone: 'Europe/Berlin', endAt: '2026-06-03T00:00:00Z' }),
      sched({ at: '2026-06-01T12:00:30Z' }),
      sched({ every: '1h', enabled: false }),
      sched({ cron: '30 * * * * *', startAt: '2026-06-01T12:10:00Z' }),
    ];
    const t0 = T('2026-06-01T12:00:00.400Z');
    let answered = 0;
    for (const s of specs) {
      const d = new TextSchedule(s.id, canonicalStringify(s), 'h', 'o').hint(t0, nextFireAfter(s, t0));
      for (let now = t0 - 2_000; now < t0 + 3 * 86_400_000; now += 37_123) {
        const hinted = d.nextFireHint(now);
        if (hinted === undefined) continue;
        answered++;
        expect(hinted, `${canonicalStringify(s)} at ${now}`).toBe(nextFireAfter(s, now));
      }
      expect(d.nextFireHint(t0 - 1000)).toBeUndefined(); // before the hint's time: unknown
    }
    expect(answered).toBeGreaterThan(100);
  });
});
