/**
 * `at`: a one-shot at one instant (an ISO 8601 timestamp; without an offset, wall time
 * in the schedule's timezone), stored in canonical UTC. It takes no window: the instant
 * is the window.
 */
import { z } from 'zod';
import { formatTimestamp, parseTimestamp } from '../../model/datetime.js';
import { timestampInput } from '../../model/input-shapes.js';
import { defineTrigger } from './kind.js';

export const atTrigger = defineTrigger({
  field: 'at',
  input: timestampInput,
  description: 'One-shot ISO 8601 timestamp; without an offset it is wall time in `timezone`.',
  stored: z.string(),

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
