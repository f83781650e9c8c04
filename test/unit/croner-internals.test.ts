/**
 * pyrq reaches into croner's private state in exactly one module,
 * `src/model/croner-internals.ts`. This test checks the shape that module relies on, on
 * the croner installed now, so that an upgrade which changes it fails here, loudly and
 * with instructions, instead of silently costing 80 KB per cron expression.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { cronFor, cronOptions } from '../../src/model/cron.js';
import { YEAR_TABLE_SIZE, yearTableOf, yearTableProblem } from '../../src/model/croner-internals.js';

const cronerVersion = (
  JSON.parse(readFileSync(createRequire(import.meta.url).resolve('croner/package.json'), 'utf8')) as { version: string }
).version;

const WHAT_TO_DO =
  `croner ${cronerVersion} changed a private field that src/model/croner-internals.ts relies on (written against croner 11.0). ` +
  'Fix: read the new croner source and update shareYearTable/yearTableProblem to its shape; or, if croner no longer ' +
  'allocates a year table per pattern, delete shareYearTable and its call in src/model/cron.ts. Then run ' +
  'test/unit/cron-memory.test.ts and check the RSS rows of `npm run bench`.';

describe('croner internals pyrq relies on', () => {
  it('a pattern without a year field has its own every-year table in _states.pattern', () => {
    for (const expr of ['0 9 * * 1-5', '*/15 * * * * *', '@daily', '0 0 29 2 *']) {
      const fresh = new Cron(expr, cronOptions('Europe/Berlin'));
      expect(yearTableProblem(fresh), `${expr}: ${WHAT_TO_DO}`).toBeNull();
    }
  });

  it('sharing swaps in one frozen table of the same size', () => {
    const a = cronFor('17 4 * * *', 'UTC');
    const b = cronFor('17 4 * * *', 'Asia/Kolkata');
    const table = yearTableOf(a);
    expect(table, WHAT_TO_DO).toBe(yearTableOf(b));
    expect(Object.isFrozen(table), WHAT_TO_DO).toBe(true);
    expect((table as unknown[]).length).toBe(YEAR_TABLE_SIZE);
  });

  it('the check itself notices a changed shape', () => {
    const fresh = new Cron('0 9 * * *', cronOptions('UTC'));
    const states = (fresh as unknown as { _states: { pattern: { year: number[]; starYear: boolean } } })._states;
    states.pattern.year = states.pattern.year.slice(0, 100);
    expect(yearTableProblem(fresh)).toMatch(/has 100 entries, expected 10000/);
    delete (fresh as unknown as { _states?: unknown })._states;
    expect(yearTableProblem(fresh)).toMatch(/no longer has _states.pattern/);
  });
});
