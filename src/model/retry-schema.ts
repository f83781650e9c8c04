/**
 * The zod schemas of a schedule's `retry` (see `retry.ts`): as written (the schedule
 * field and `dispatch.retry` in the config) and as stored. Apart from `retry.ts` so that
 * the code that reads stored schedules does not load zod.
 */
import { z } from 'zod';
import { MAX_RETRIES } from './schedule-constants.js';

// Numbers are not held to integers here: normalizeRetry says which value is not whole,
// at its own path, where zod would only say that the union did not match.
// The JSON Schema still says "integer", for editors.
const whole = () => z.number().meta({ type: 'integer' });
const wait = z.union([z.string(), whole()]);
const intervalsInput = z.union([wait, z.array(wait)]);

/** `retry` as written (the schedule field and `dispatch.retry` in the config). */
export const retryInput = z.union([
  whole(),
  z.strictObject({
    max: whole().meta({ description: `Retries after the first run fails (1 to ${MAX_RETRIES}).` }),
    intervals: intervalsInput.optional().meta({
      description:
        'Wait before each retry: one duration for all, or a list (the last repeats). Whole seconds; default 0 (at once).',
    }),
    exponential: z
      .strictObject({
        base: wait.meta({ description: 'The first wait.' }),
        cap: wait.optional().meta({ description: 'No wait longer than this.' }),
      })
      .optional()
      .meta({ description: 'Waits doubling from base, up to cap (instead of intervals).' }),
  }),
]);
export type RetryInput = z.input<typeof retryInput>;

/** `retry` as stored: `max` retries, the wait before each (exactly `max` whole seconds). */
export const retryStored = z.strictObject({
  max: z.number().int().min(1).max(MAX_RETRIES),
  intervals: z.array(z.number().int().min(0)),
});
export type Retry = z.output<typeof retryStored>;
