/**
 * A reconcile logs its source errors up to a cap, then one line with how many more: a
 * file storm's removal made tens of thousands of errors in one reconcile, and a line
 * each held the daemon's event loop (and its fires) for most of a second.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Source, SourceSnapshot } from '../../src/source.js';
import { ERRORS_LOGGED } from '../../reconcilers/change-log.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';

class BrokenFiles implements Source {
  readonly name = 'files';
  constructor(private readonly n: number) {}
  async close(): Promise<void> {}
  async snapshot(): Promise<SourceSnapshot> {
    const errors = Array.from({ length: this.n }, (_, i) => ({
      source: 'files',
      origin: `f${i}.json`,
      message: 'cannot read: ENOENT',
    }));
    return {
      source: 'files',
      schedules: [],
      errors,
      stale: false,
      heldOrigins: errors.map((e) => e.origin),
      heldIds: [],
    };
  }
}

function capture(): { lines: Record<string, unknown>[]; logger: pino.Logger } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, logger };
}

describe('source error lines of a reconcile', () => {
  it('logs the first errors one by one and the rest as a count', async () => {
    const { lines, logger } = capture();
    await reconcileOnce({
      sources: [new BrokenFiles(500)],
      registry: new MemoryRegistry(),
      clock: new ManualClock(0),
      logger,
    });
    const errorLines = lines.filter((l) => l.msg === 'cannot read: ENOENT');
    expect(errorLines).toHaveLength(ERRORS_LOGGED);
    expect(errorLines[0]).toMatchObject({ origin: 'f0.json', level: 40 });
    const more = lines.find((l) => String(l.msg).includes('more source error'));
    expect(more).toMatchObject({ more: 500 - ERRORS_LOGGED, level: 40 });
    expect(lines.find((l) => l.msg === 'reconcile')).toMatchObject({ errors: 500 });
  });

  it('logs every error of a reconcile with a few', async () => {
    const { lines, logger } = capture();
    await reconcileOnce({
      sources: [new BrokenFiles(3)],
      registry: new MemoryRegistry(),
      clock: new ManualClock(0),
      logger,
    });
    expect(lines.filter((l) => l.msg === 'cannot read: ENOENT').map((l) => l.origin)).toEqual([
      'f0.json',
      'f1.json',
      'f2.json',
    ]);
    expect(lines.some((l) => String(l.msg).includes('more source error'))).toBe(false);
  });
});
