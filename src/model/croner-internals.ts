/**
 * The one place pyrq reaches into croner's private state (nothing else may: a croner
 * upgrade can change it without notice, and `test/unit/croner-internals.test.ts` must be
 * the only test that has to change with it).
 *
 * What it relies on (croner 11): every paused `Cron` keeps its parsed pattern in
 * `_states.pattern`, with `starYear` (true when the pattern has no year field) and `year`,
 * a 10,000-entry array in which 1 marks a matching year. That array is 80 KB, most of a
 * Cron's memory: 2,000 expression/timezone pairs would hold 160 MB. pyrq's patterns have
 * no year field, so every year matches and one shared table serves them all.
 *
 * If croner changes that shape, `shareYearTable` does nothing (the memory grows, what a
 * cron means does not change) and the test above fails, naming what changed.
 *
 * It also relies on a parsed pattern not depending on the timezone: croner keeps the
 * pattern in `_states.pattern` (which records the zone it was built with but never reads
 * it) and evaluates in `options.timezone`. So one expression is parsed once, and its
 * Cron for another zone is a copy with its own `options` and `_states` sharing that
 * pattern (`cronInTimezone`). Parsing is most of a Cron's cost: ~250 µs and an 80 KB
 * year table, where a registry of 100,000 schedules has ~2,000 expression/timezone pairs
 * and each parse thread built all of them (a third of its croner time, and most of its
 * garbage). The test checks that copies and fresh instances agree, instant by instant.
 */
import type { Cron } from 'croner';

/** The length of croner's year table. */
export const YEAR_TABLE_SIZE = 10_000;

// Frozen: croner only writes the table while parsing, and a later write must fail loudly
// (croner is an ES module, so strict mode: assigning to a frozen array throws).
const EVERY_YEAR: readonly number[] = Object.freeze(new Array<number>(YEAR_TABLE_SIZE).fill(1));

interface PatternState {
  starYear?: unknown;
  year?: unknown;
}

function patternState(c: Cron): PatternState | undefined {
  const states = (c as unknown as { _states?: { pattern?: unknown } })._states;
  const p = states?.pattern;
  return typeof p === 'object' && p !== null ? p : undefined;
}

/**
 * What `shareYearTable` relies on, checked on a croner instance built from a pattern
 * without a year field (and not yet shared): null when it holds, else what changed.
 */
export function yearTableProblem(c: Cron): string | null {
  const p = patternState(c);
  if (p === undefined) return 'a Cron no longer has _states.pattern';
  if (p.starYear !== true)
    return `_states.pattern.starYear is ${JSON.stringify(p.starYear)}, expected true for a pattern without a year field`;
  if (!Array.isArray(p.year)) return `_states.pattern.year is ${typeof p.year}, expected an array`;
  if (p.year.length !== YEAR_TABLE_SIZE)
    return `_states.pattern.year has ${p.year.length} entries, expected ${YEAR_TABLE_SIZE}`;
  const other = (p.year as unknown[]).findIndex((v) => v !== 1);
  if (other !== -1)
    return `_states.pattern.year[${other}] is ${JSON.stringify(p.year[other])}, expected 1 (every year matches)`;
  return null;
}

/** Points `c` at the shared every-year table when its pattern has no year field. */
export function shareYearTable(c: Cron): void {
  const p = patternState(c);
  if (p && p.starYear === true && Array.isArray(p.year) && p.year.length === YEAR_TABLE_SIZE) p.year = EVERY_YEAR;
}

/**
 * A paused Cron that evaluates `base`'s parsed pattern in `timezone` (see the header), or
 * undefined when croner's shape is not the one this relies on (build a fresh one then).
 */
export function cronInTimezone(base: Cron, timezone: string): Cron | undefined {
  const own = base as unknown as { options?: unknown; _states?: unknown; getTz?: unknown };
  const options = own.options;
  const states = own._states;
  if (typeof options !== 'object' || options === null) return undefined;
  // croner reads the zone through getTz(), from options.timezone (else options.utcOffset):
  // the copy's own options.
  if (patternState(base) === undefined || typeof own.getTz !== 'function') return undefined;
  const { timezone: zone, utcOffset } = options as { timezone?: unknown; utcOffset?: unknown };
  if ((own.getTz as () => unknown).call(base) !== (zone ?? utcOffset)) return undefined;
  // Without the base's utcOffset, if it has one (croner refuses both at once).
  const { utcOffset: _offset, ...zoneless } = options as Record<string, unknown>;
  const c = Object.create(Object.getPrototypeOf(base) as object) as Cron;
  Object.assign(c, base, { options: { ...zoneless, timezone }, _states: { ...(states as object) } });
  return c;
}

/** The year table `c` evaluates with (for tests: shared instances return the same array). */
export function yearTableOf(c: Cron): unknown {
  return patternState(c)?.year;
}
