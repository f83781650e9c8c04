import { describe, expect, it } from 'vitest';
import { buildDueItem } from '../../src/dispatch/build-items.js';
import type { CachedSchedule } from '../../src/dispatch/schedule-cache.js';
import { planDue } from '../../src/dispatch/catchup.js';
import { specHash } from '../../src/model/spec-hash.js';
import { encodeSchedule } from '../../src/rq/job-encoding.js';
import { scheduledJobId } from '../../src/rq/job-id.js';
import {
  fireTimeOf,
  jitterDelayMs,
  type JitterSpec,
  nextFire,
  nextFireTimeAfter,
  occurrenceAt,
} from '../../src/schedule/jitter.js';
import { nextFireAfter } from '../../src/schedule/next-fire.js';
import { fireTimes } from '../../src/schedule/next-times.js';
import { makeSpec } from '../helpers/schedules.js';

const HOUR = Date.parse('2026-06-01T10:00:00Z');
const hourly = (id: string, jitter?: number): JitterSpec => ({
  id,
  cron: '0 * * * *',
  timezone: 'UTC',
  enabled: true,
  ...(jitter !== undefined ? { jitter } : {}),
});

describe('jitter delays', () => {
  it('are a function of (id, occurrence) only, in whole seconds within [0, jitter)', () => {
    const delays = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const spec = hourly(`s-${i}`, 60);
      const d = jitterDelayMs(spec, HOUR, HOUR + 3_600_000);
      expect(d % 1000).toBe(0);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(60_000);
      // Computed again (another daemon, another process): the same.
      expect(jitterDelayMs(hourly(`s-${i}`, 60), HOUR, HOUR + 3_600_000)).toBe(d);
      delays.add(d);
    }
    // 2,000 schedules use every second of the window (a uniform spread).
    expect(delays.size).toBe(60);
    // The occurrence matters too: the next hour gets other delays.
    const a = Array.from({ length: 50 }, (_, i) => fireTimeOf(hourly(`s-${i}`, 60), HOUR) - HOUR);
    const b = Array.from(
      { length: 50 },
      (_, i) => fireTimeOf(hourly(`s-${i}`, 60), HOUR + 3_600_000) - HOUR - 3_600_000,
    );
    expect(a).not.toEqual(b);
  });

  it('never reach the next occurrence: the window is clamped to the gap', () => {
    for (let i = 0; i < 500; i++) {
      const spec: JitterSpec = { id: `e-${i}`, every: 10, timezone: 'UTC', enabled: true, jitter: 3600 };
      const occ = nextFireAfter(spec, HOUR)!;
      const fire = fireTimeOf(spec, occ);
      expect(fire - occ).toBeLessThan(10_000);
      expect(fire).toBeLessThan(nextFireAfter(spec, occ)!);
    }
    // A per-second schedule has no room: no delay at all.
    const perSecond: JitterSpec = { id: 'p', every: 1, timezone: 'UTC', enabled: true, jitter: 60 };
    expect(fireTimeOf(perSecond, HOUR)).toBe(HOUR);
  });

  it('a fire time gives back its occurrence, and nextFire walks occurrences in order', () => {
    for (let i = 0; i < 200; i++) {
      const spec: JitterSpec = { id: `w-${i}`, every: 300, timezone: 'UTC', enabled: true, jitter: 600 };
      let t = HOUR - 1;
      let prev = -Infinity;
      for (let k = 0; k < 5; k++) {
        const f = nextFire(spec, t)!;
        expect(f.occurrence).toBe(nextFireAfter(spec, prev === -Infinity ? t : prev)!);
        expect(f.at).toBe(fireTimeOf(spec, f.occurrence));
        expect(occurrenceAt(spec, f.at)).toBe(f.occurrence);
        expect(f.at).toBeGreaterThan(t);
        prev = f.occurrence;
        t = f.at;
      }
    }
  });

  it('between an occurrence and its fire time, the next fire is still that occurrence', () => {
    const spec = hourly('waits', 3600);
    const fire = fireTimeOf(spec, HOUR);
    expect(fire).toBeGreaterThan(HOUR); // this id's delay is not 0
    expect(nextFire(spec, HOUR)).toEqual({ occurrence: HOUR, at: fire });
    expect(nextFireTimeAfter(spec, fire - 1000)).toBe(fire);
    expect(nextFireTimeAfter(spec, fire)).toBe(fireTimeOf(spec, HOUR + 3_600_000));
  });

  it('without jitter nothing changes', () => {
    const spec = hourly('plain');
    expect(fireTimeOf(spec, HOUR)).toBe(HOUR);
    expect(occurrenceAt(spec, HOUR)).toBe(HOUR);
    expect(nextFireTimeAfter(spec, HOUR)).toBe(nextFireAfter(spec, HOUR));
  });

  it('pyrq next shows the fire time with its occurrence and delay', () => {
    const spec = hourly('shown', 600);
    const [t] = fireTimes(spec, HOUR - 1, 1);
    expect(t!.occurrence).toBe('2026-06-01T10:00:00Z');
    expect(Date.parse(t!.utc) - HOUR).toBe(t!.delaySeconds! * 1000);
  });
});

describe('a jittered schedule in the dispatcher', () => {
  const spec = makeSpec({ id: 'jittered', cron: '0 * * * *', jitter: '10m' });
  const hash = specHash(spec);
  const cached = (): CachedSchedule => ({ spec, hash, enc: encodeSchedule(spec, hash), lastJobId: undefined });
  const fire = fireTimeOf(spec, HOUR);

  it('fires at the fire time with the occurrence job id, and stores the next fire time', () => {
    const item = buildDueItem('jittered', cached(), fire, fire + 200);
    expect(item.ops).toEqual([
      expect.objectContaining({ kind: 'enqueue', occurrence: HOUR, jobId: scheduledJobId('jittered', HOUR) }),
    ]);
    expect(item.next).toEqual({ set: fireTimeOf(spec, HOUR + 3_600_000) });
  });

  it('lateness is counted from the fire time: a long delay is on time, not missed', () => {
    expect(fire - HOUR).toBeGreaterThan(5_000); // longer than the grace
    const p = planDue(spec, HOUR, fire + 100, null, { catchup: 'skip', fireTime: (t) => fireTimeOf(spec, t) });
    expect(p.fire).toEqual([HOUR]);
  });

  it('after downtime, an occurrence whose delay has not passed is not due yet', () => {
    // Down from before 10:00 until just before 11:00's fire time: 10:00 is missed (latest fires it), 11:00 waits.
    const next = fireTimeOf(spec, HOUR + 3_600_000);
    const now = Math.max(HOUR + 3_600_000, next - 1000);
    const item = buildDueItem('jittered', cached(), fire, now);
    const enq = item.ops.filter((o) => o.kind === 'enqueue').map((o) => o.occurrence);
    expect(enq).toEqual(now >= next ? [HOUR + 3_600_000] : [HOUR]);
    expect(item.next).toEqual({ set: now >= next ? fireTimeOf(spec, HOUR + 7_200_000) : next });
  });
});
