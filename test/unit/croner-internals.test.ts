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
import { YEAR_TABLE_SIZE, cronInTimezone, yearTableOf, yearTableProblem } from '../../src/model/croner-internals.js';

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

  // Expressions of every shape pyrq accepts (fixed times, which DST moves; wildcards and
  // steps; L, nth weekday; seconds; nicknames), in zones with and without DST, both hemispheres.
  const EXPRESSIONS = [
    '30 2 * * *',
    '0 1 * * *',
    '*/15 * * * *',
    '0 */2 * * *',
    '15 9 * * 1-5',
    '30 1 L * *',
    '0 8 * * FRI#L',
    '0 9 * * MON#1',
    '*/20 * * * * *',
    '0 0 29 2 *',
    '@daily',
    '@weekly',
  ];
  const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/Los_Angeles'];

  // Every 19 h 7 min through 2027 (month ends; the step drifts across the hours), and every
  // 15 min for 6 h either side of each of these zones' DST changes in 2027.
  const INSTANTS: number[] = [];
  for (let t = Date.UTC(2027, 0, 1); t < Date.UTC(2028, 0, 1); t += 68_820_000) INSTANTS.push(t);
  for (const change of [
    '2027-03-14T10:00Z',
    '2027-03-28T01:00Z',
    '2027-04-03T16:00Z',
    '2027-10-02T16:00Z',
    '2027-10-31T01:00Z',
    '2027-11-07T09:00Z',
  ])
    for (let t = Date.parse(change) - 6 * 3_600_000; t <= Date.parse(change) + 6 * 3_600_000; t += 900_000)
      INSTANTS.push(t);

  it("a copy for another zone agrees with a fresh instance at every instant, and shares the base's parse", () => {
    const compared = { instants: 0, pairs: 0 };
    for (const expr of EXPRESSIONS) {
      // As cronFor makes them: from the zoneless parse (a UTC offset of 0, no timezone).
      const { timezone: _zone, ...zoneless } = cronOptions('UTC');
      const base = new Cron(expr, { ...zoneless, utcOffset: 0 });
      // Copies made and evaluated in turn, so one zone's evaluation would show in another's.
      const copies = ZONES.map((tz) => cronInTimezone(base, tz));
      const fresh = ZONES.map((tz) => new Cron(expr, cronOptions(tz)));
      copies.forEach((c, i) => {
        expect(c, `${expr} in ${ZONES[i]}: ${WHAT_TO_DO}`).toBeDefined();
        const state = (x: Cron) => (x as unknown as { _states: { pattern: unknown } })._states.pattern;
        expect(state(c!)).toBe(state(base));
      });
      for (const t of INSTANTS) {
        const at = new Date(t);
        const ours = copies.map((c) => c!.nextRun(at)?.getTime() ?? null);
        const theirs = fresh.map((c) => c.nextRun(at)?.getTime() ?? null);
        if (ours.some((x, i) => x !== theirs[i]))
          expect([expr, at.toISOString(), ZONES, ours]).toEqual([expr, at.toISOString(), ZONES, theirs]);
        compared.instants += ZONES.length;
      }
      // The base itself is untouched by its copies.
      expect(base.nextRun(new Date(Date.UTC(2027, 2, 28, 0, 30)))?.getTime()).toBe(
        new Cron(expr, cronOptions('UTC')).nextRun(new Date(Date.UTC(2027, 2, 28, 0, 30)))?.getTime(),
      );
      compared.pairs += ZONES.length;
    }
    expect(compared.pairs).toBe(EXPRESSIONS.length * ZONES.length);
    expect(compared.instants).toBe(EXPRESSIONS.length * ZONES.length * INSTANTS.length);
  });

  it('previousRuns of a copy agree too (the catch-up walk back uses them)', () => {
    const base = new Cron('30 2 * * *', cronOptions('UTC'));
    const copy = cronInTimezone(base, 'Europe/Berlin')!;
    const fresh = new Cron('30 2 * * *', cronOptions('Europe/Berlin'));
    // Across Berlin's spring gap (2027-03-28) and autumn repeat (2027-10-31).
    for (const end of [Date.UTC(2027, 2, 30), Date.UTC(2027, 10, 2)]) {
      const times = (c: Cron) => c.previousRuns(5, new Date(end)).map((d) => d.getTime());
      expect(times(copy)).toEqual(times(fresh));
    }
  });

  it('cronFor builds every zone of an expression from one parse', () => {
    const state = (x: Cron) => (x as unknown as { _states: { pattern: unknown } })._states.pattern;
    const utc = cronFor('41 5 * * 2', 'UTC');
    expect(state(cronFor('41 5 * * 2', 'Asia/Tokyo'))).toBe(state(utc));
    expect(state(cronFor('41 5 * * 2', 'America/New_York'))).toBe(state(utc));
    expect(cronFor('41 5 * * 2', 'Asia/Tokyo')).not.toBe(utc);
  });

  it('no copy when the shape is not the one relied on (a fresh Cron is built instead)', () => {
    const base = new Cron('0 9 * * *', cronOptions('UTC'));
    delete (base as unknown as { _states?: unknown })._states;
    expect(cronInTimezone(base, 'Europe/Berlin')).toBeUndefined();
    // A croner that takes the zone from somewhere other than options.timezone/utcOffset.
    const other = new Cron('0 9 * * *', cronOptions('UTC'));
    (other as unknown as { getTz: () => string }).getTz = () => 'Europe/Paris';
    expect(cronInTimezone(other, 'Europe/Berlin')).toBeUndefined();
  });
});
