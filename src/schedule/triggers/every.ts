/**
 * `every`: a fixed period, `anchor + k * period`, anchored at `startAt`, else the Unix
 * epoch. A fixed anchor makes occurrences the same on every daemon and across restarts,
 * which is what makes deterministic job ids (and so exactly-once firing) possible.
 * Occurrences are arithmetic, so catch-up after any downtime costs the same. Its zod
 * shapes: `schemas.ts`.
 */
import { formatDuration, parseDuration } from '../../model/duration.js';
import { defineTrigger } from './kind.js';

export const everyTrigger = defineTrigger<'every', string | number, number>({
  field: 'every',

  normalize(value) {
    const d = parseDuration(value);
    return typeof d === 'number'
      ? { ok: true, value: d }
      : { ok: false, message: `${JSON.stringify(value)}: ${d.reason}` };
  },

  nextAfter(s, after, startAt) {
    const period = s.every * 1000;
    const anchor = startAt ?? 0;
    return after < anchor ? anchor : anchor + (Math.floor((after - anchor) / period) + 1) * period;
  },

  between(s, lo, hi, limit, startAt) {
    const period = s.every * 1000;
    const anchor = startAt ?? 0;
    if (hi < anchor) return [];
    const last = anchor + Math.floor((hi - anchor) / period) * period;
    const out: number[] = [];
    for (let t = last; t > lo && t >= anchor && out.length < limit; t -= period) out.push(t);
    return out.reverse();
  },

  count: (s, from, until) => Math.round((until - from) / (s.every * 1000)),

  describe: (s) => `every ${formatDuration(s.every)}`,
});
