import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { formatSourceError } from '../../src/source.js';
import { checkQueryColumns, mapQueryRows, QueryShapeError } from '../../sources/sql/query-map.js';
import { toSnapshot } from '../../sources/sql/row-entry.js';

const map = (rows: Record<string, unknown>[]) => mapQueryRows(rows, DEFAULT_CONTEXT, 'mysql');
const snap = (rows: Record<string, unknown>[]) => toSnapshot('mysql', map(rows));

describe('checkQueryColumns', () => {
  it('accepts schedule field names', () => {
    expect(() => checkQueryColumns(['id', 'function', 'cron', 'kwargs', 'enabled'], 'mysql')).not.toThrow();
  });

  it('rejects other columns, with a suggestion, and a missing id or function', () => {
    expect(() => checkQueryColumns(['id', 'function', 'cronn'], 'mysql')).toThrow(/"cronn" \(did you mean "cron"\?\)/);
    expect(() => checkQueryColumns(['id', 'cron'], 'mysql')).toThrow(QueryShapeError);
    expect(() => checkQueryColumns(['function', 'cron'], 'mysql')).toThrow(/no "id" column/);
  });

  it('names the setting, and explains a camelCase alias that PostgreSQL folded to lower case', () => {
    expect(() => checkQueryColumns(['id', 'function', 'cronn'], 'postgres')).toThrow(
      /^postgres\.query returns columns that are not schedule fields/,
    );
    expect(() => checkQueryColumns(['id', 'function', 'resultttl'], 'postgres')).toThrow(
      '"resultttl" (did you mean "resultTtl"? quote the alias to keep its case: AS "resultTtl")',
    );
  });
});

describe('mapQueryRows', () => {
  it('maps columns named after fields; NULL is absent; JSON text is parsed; 0/1 are booleans', () => {
    const s = snap([
      {
        id: 42,
        function: 'app.tasks.run',
        cron: '*/5 * * * *',
        timezone: null,
        queue: 'reports',
        enabled: 1,
        args: '[1, "two"]',
        kwargs: '{"days": 7}',
        meta: null,
        timeout: '15m',
        ttl: '600',
      },
      { id: 'nightly', function: 'app.tasks.nightly', every: 3600, enabled: Buffer.from([0]) },
    ]);
    expect(s.errors).toEqual([]);
    const [a, b] = s.schedules.map((d) => d.spec);
    expect(a).toMatchObject({
      id: '42',
      function: 'app.tasks.run',
      cron: '*/5 * * * *',
      timezone: 'UTC',
      queue: 'reports',
      enabled: true,
      args: [1, 'two'],
      kwargs: { days: 7 },
      meta: {},
      timeout: 900,
      ttl: 600,
      target: 'rq',
    });
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
    expect(s.errors.map(formatSourceError)).toEqual([
      'query: row 1 (id "a"): cron, every: only one trigger is allowed: choose cron, every or at',
    ]);
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

  it('maps values as the PostgreSQL driver returns them: booleans, timestamptz text, bigint text', () => {
    const rows = [
      {
        id: 'pg',
        function: 'app.t.f',
        at: '2099-01-02 03:04:05+01:00',
        enabled: true,
        ttl: '600',
        kwargs: '{"n": 12345678901234567890}',
      },
      { id: 'off', function: 'app.t.f', every: 60, enabled: false },
    ];
    const s = toSnapshot('postgres', mapQueryRows(rows, DEFAULT_CONTEXT, 'postgres'));
    expect(s.source).toBe('postgres');
    expect(s.errors).toEqual([]);
    expect(s.schedules.map((d) => d.spec)).toMatchObject([
      { id: 'off', enabled: false },
      { id: 'pg', at: '2099-01-02T02:04:05Z', enabled: true, ttl: 600, kwargs: { n: 12345678901234567890n } },
    ]);
    const bad = mapQueryRows(
      [{ id: 'x', function: 'app.t.f', every: 60, enabled: 'yes' }],
      DEFAULT_CONTEXT,
      'postgres',
    );
    expect(bad.entries.get('x')?.errors).toEqual([
      expect.objectContaining({ source: 'postgres', id: 'x', path: 'enabled' }),
    ]);
  });
});

describe('mapQueryRows: retry, jitter and times columns', () => {
  it('reads retry as JSON (a number or an object), jitter as a duration and times as an integer', () => {
    const s = snap([
      {
        id: 'a',
        function: 'app.tasks.run',
        every: 60,
        retry: '{"max": 2, "intervals": [5, "1m"]}',
        jitter: '30s',
        times: 3n,
      },
      { id: 'b', function: 'app.tasks.run', every: 60, retry: 1, jitter: 20 },
    ]);
    expect(s.errors).toEqual([]);
    const [a, b] = s.schedules.map((d) => d.spec);
    expect(a).toMatchObject({ retry: { max: 2, intervals: [5, 60] }, jitter: 30, times: 3 });
    expect(b).toMatchObject({ retry: { max: 1, intervals: [0] }, jitter: 20 });
  });
});
