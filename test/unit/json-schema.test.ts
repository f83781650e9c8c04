import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scheduleFileJsonSchema } from '../../src/model/json-schema.js';
import { SCHEDULE_FIELDS } from '../../src/model/schedule-schema.js';

describe('shipped JSON Schema', () => {
  it('is up to date with the schedule schema (regenerate with npm run schema)', () => {
    const shipped = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'schema', 'schedule.schema.json'), 'utf8'),
    );
    expect(shipped).toEqual(scheduleFileJsonSchema());
  });

  it('documents every schedule field and forbids unknown ones', () => {
    const s = scheduleFileJsonSchema() as {
      $defs: {
        schedule: {
          properties: Record<string, { description?: string }>;
          additionalProperties: boolean;
          required: string[];
        };
      };
    };
    const def = s.$defs.schedule;
    for (const f of SCHEDULE_FIELDS) expect(def.properties[f]?.description, f).toBeTruthy();
    expect(def.additionalProperties).toBe(false);
    expect(def.required).toEqual(['id', 'function']);
  });
});
