/**
 * The JSON Schema for schedule files, generated from the one schedule schema so editors
 * (VS Code, yaml-language-server, taplo) validate files as pyrq does. The committed copy
 * in `schema/schedule.schema.json` is checked against this by a test; regenerate it
 * with `npm run schema`.
 */
import { z } from 'zod';
import { timestampInput } from './input-shapes.js';
import { FUNCTION_RE, ID_RE, QUEUE_RE, scheduleInputSchema } from './schedule-schema.js';

export const SCHEMA_ID = 'https://pyrq.dev/schema/schedule.schema.json';

export function scheduleFileJsonSchema(): Record<string, unknown> {
  const schedule = z.toJSONSchema(scheduleInputSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    // Timestamps may also be native TOML datetimes (which JSON Schema cannot say); in
    // JSON/YAML they are strings. Every field written as a timestamp shares this shape.
    override: (ctx) => {
      if (ctx.zodSchema !== timestampInput) return;
      for (const k of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[k];
      ctx.jsonSchema.type = 'string';
    },
  }) as Record<string, unknown>;
  delete schedule.$schema;
  const props = schedule.properties as Record<string, Record<string, unknown>>;
  // Patterns pyrq checks in normalize.ts (with better messages), repeated for editors.
  props.id!.pattern = ID_RE.source;
  props.function!.pattern = FUNCTION_RE.source;
  props.queue!.pattern = QUEUE_RE.source;
  // A single-schedule file may name its schema.
  props.$schema = { type: 'string', description: 'This schema, for editors.' };
  const ref = { $ref: '#/$defs/schedule' };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'pyrq schedule file',
    description: 'One schedule, a list of schedules, or {"schedules": [...]} (or a table of schedules keyed by id).',
    anyOf: [
      ref,
      { type: 'array', items: ref },
      {
        type: 'object',
        properties: {
          $schema: { type: 'string' },
          schedules: {
            anyOf: [
              { type: 'array', items: ref },
              { type: 'object', additionalProperties: { $ref: '#/$defs/scheduleWithoutId' } },
            ],
          },
        },
        required: ['schedules'],
        additionalProperties: false,
      },
    ],
    $defs: {
      schedule,
      scheduleWithoutId: { ...schedule, required: ((schedule.required as string[]) ?? []).filter((r) => r !== 'id') },
    },
  };
}
