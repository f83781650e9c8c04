import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { formatSourceError } from '../../src/source.js';
import { checkQueryColumns, mapQueryRows, QueryShapeError } from '../../sources/mysql/query-map.js';
import { toSnapshot } from '../../sources/mysql/row-entry.js';

const map = (rows: Record<string, unknown>[]) => mapQueryRows(rows, DEFAULT_CONTEXT);
const snap = (rows: Record<string, unknown>[]) => toSnapshot(map(rows));

describe('checkQueryColumns', () => {
  it('accepts schedule field names', () => {
    expect(() => checkQueryColumns(['id', 'function', 'cron', 'kwargs', 'enabled'])).not.toThrow();
  });

  it('rejects other columns, with a suggestion, and a missing id or function', () => {
    expect(() => checkQueryColumns(['id', 'function', 'cronn'])).toThrow(/"cronn" \(did you mean "cron"\?\)/);
    expect(() => checkQueryColumns(['id', 'cron'])).toThrow(QueryShapeError);
    expect(() => checkQueryColumns(['function', 'cron'])).toThrow(/no "id" column/);
  });
});

describe('mapQueryRows', () => {
  it('maps columns named after fields; NULL is absent; JSON text is parsed; 0/1 are booleans', () => {
    const s = snap([
      { id: 42, function: 'app.tasks.run', cron: '*/5 * * * *', timezone: null, queue: 'reports', enabled: 1, args: '[1, "two"]', kwargs: '{"days": 7}', meta: null, timeout: '15m', ttl: '600' },
      { id: 'nightly', function: 'app.tasks.nightly', every: 3600, enabled: Buffer.from([0]) },
    ]);
    expect(s.errors).toEqual([]);
    const [a, b] = s.schedules.map((d) => d.spec);
    expect(a).toMatchObject({ id: '42', function: 'app.tasks.run', cron: '*/5 * * * *', timezone: 'UTC', queue: 'reports', enabled: true, args: [1, 'two'], kwargs: { days: 7 }, meta: {}, timeout: 900, ttl: 600, target: 'rq' });
    expect(b).toMatchObject({ id: 'nightly', every: 3600, enabled: false });
    expect(s.schedules[0]?.origin).toBe('query');
  });

  it('names id and column for values that do not convert, and holds the id', () => {
    const s = snap([{ id: 'a', function: 'app.t.f', cron: '0 * * * *', kwargs: '{"days": ', enabled: 2 }]);
    expect(s.heldIds).toEqual(['a']);
    expect(s.errors.map(formatSourceError)).toEqual([
      'query: row 1 (id "a"): kwargs: is not valid JSON text: line 1, column 10: unexpected end of input',
      'query: row 1 (id "a"): enabled: expected 0 or 1, got 2',
    ]);
  });

  it('reports schedule-level problems through the shared validation', () => {
    const s = snap([{ id: 'a', function: 'app.t.f', cron: '0 * * * *', every: '5m' }]);
    expect(s.errors.map(formatSourceError)).toEqual(['query: row 1 (id "a"): cron, every: only one trigger is allowed: choose cron, every or at']);
  });

  it('skips rows without an id and holds ids returned twice', () => {
    const s = snap([
      { id: null, function: 'app.t.f', cron: '0 * * * *' },
      { id: 'dup', function: 'app.t.f', cron: '0 * * * *' },
      { id: 'dup', function: 'app.t.g', cron: '0 * * * *' },
    ]);
    expect(s.schedules).toEqual([]);
    expect(s.heldIds).toEqual(['dup']);
    expect(s.errors.map(formatSourceError)).toEqual([
      'query: row 1: id: is NULL or empty; the row is skipped',
      'query: row 3 (id "dup"): id is also returned by row 2; it keeps its applied state until only one row has it',
    ]);
  });

  it('drops a disabled row that does not validate instead of holding it', () => {
    const s = snap([{ id: 'off', function: 'app.t.f', cron: 'nope', enabled: 0 }]);
    expect(s.heldIds).toEqual([]);
    expect(s.schedules).toEqual([]);
    expect(s.errors).toHaveLength(1);
  });

  it('reads DATETIME text as wall time in the schedule timezone', () => {
    const s = snap([{ id: 'once', function: 'app.t.f', at: '2099-01-02 03:04:05', timezone: 'Europe/Berlin' }]);
    expect(s.schedules[0]?.spec.at).toBe('2099-01-02T02:04:05Z');
  });
});
