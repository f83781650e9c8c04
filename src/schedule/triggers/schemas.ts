/**
 * The zod shapes of each trigger kind's field: as written (composed into the schedule
 * input schema, and from there into the JSON Schema), as stored (composed into the
 * stored schedule schema), and its documentation. One row per kind of `index.ts`'s
 * table; kept apart from the kinds so that computing fire times and descriptions from
 * stored schedules (`pyrq status`, the dispatcher) loads no zod. Pure.
 */
import { z } from 'zod';
import { durationInput, timestampInput } from '../../model/input-shapes.js';
import { type InputOf, type StoredOf, TRIGGER_FIELD_NAMES, type TriggerField, TRIGGER_KINDS } from './index.js';

type Kinds = (typeof TRIGGER_KINDS)[number];
type KindOf<F extends TriggerField> = Extract<Kinds, { field: F }>;

/**
 * Each kind's shapes. The `satisfies` holds every kind to a row, and each row to its
 * kind's types: the written shape yields what `normalize` takes, the stored shape what
 * the kind's methods read.
 */
export const TRIGGER_SCHEMAS = {
  cron: {
    input: z.string(),
    description: 'Cron expression: 5 fields, or 6 with seconds first; L, W, #, @hourly etc.',
    stored: z.string(),
  },
  every: {
    input: durationInput,
    description: 'Fixed period: "90s", "15m", "1h30m", "2d", or seconds. Anchored at startAt, else the Unix epoch.',
    stored: z.number().int().positive(),
  },
  at: {
    input: timestampInput,
    description: 'One-shot ISO 8601 timestamp; without an offset it is wall time in `timezone`.',
    stored: z.string(),
  },
} satisfies {
  [F in TriggerField]: {
    input: z.ZodType<InputOf<KindOf<F>>>;
    description: string;
    stored: z.ZodType<StoredOf<KindOf<F>>>;
  };
};

type Schemas = typeof TRIGGER_SCHEMAS;
type InputShape = { [F in TriggerField]: z.ZodOptional<Schemas[F]['input']> };
type StoredShape = { [F in TriggerField]: z.ZodOptional<Schemas[F]['stored']> };

/** The kinds' fields as written, documented, in the table's order: spread into the schedule input schema. */
export const triggerInputShape = Object.fromEntries(
  TRIGGER_FIELD_NAMES.map((f) => [
    f,
    TRIGGER_SCHEMAS[f].input.optional().meta({ description: TRIGGER_SCHEMAS[f].description }),
  ]),
) as unknown as InputShape;
/** The kinds' fields as stored: spread into the stored schedule schema. */
export const triggerStoredShape = Object.fromEntries(
  TRIGGER_FIELD_NAMES.map((f) => [f, TRIGGER_SCHEMAS[f].stored.optional()]),
) as unknown as StoredShape;
