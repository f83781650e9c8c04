/**
 * `at`: a one-shot at one instant (an ISO 8601 timestamp; without an offset, wall time
 * in the schedule's timezone), stored in canonical UTC. It takes no window: the instant
 * is the window. Its zod shapes: `schemas.ts`.
 */
import { formatTimestamp, parseTimestamp } from '../../model/datetime.js';
import { defineTrigger } from './kind.js';

export const atTrigger = defineTrigger<'at', string | Date, string>({
  field: 'at',

  normalize(value, ctx) {
    const t = parseTimestamp(value, ctx.timezone);
    return typeof t === 'number' ? { ok: true, value: formatTimestamp(t) } : { ok: false, message: t.reason };
  },

  check({ input }) {
    if (input.startAt === undefined && input.endAt === undefined) return [];
    return [
      {
        path: input.startAt !== undefined ? 'startAt' : 'endAt',
        message: 'only applies to cron and every schedules (at already names the one instant)',
      },
    ];
  },

  once: (s) => Date.parse(s.at),

  nextAfter(s, after) {
    const at = Date.parse(s.at);
    return at > after ? at : null;
  },

  between(s, lo, hi) {
    const at = Date.parse(s.at);
    return at > lo && at <= hi ? [at] : [];
  },

  describe: (s) => `at ${s.at}`,
});
