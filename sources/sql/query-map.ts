/**
 * `mode: query` rows -> desired schedules. Pure: rows in, `RowEntry`s out.
 *
 * The user's query names its columns after schedule fields (`SELECT job_key AS id,
 * handler AS function, cron_expr AS cron, ...`). Mapping rules:
 * - NULL means the field is absent (its default applies);
 * - `enabled`: 0 or 1 (TINYINT, BIT(1), or the strings "0"/"1"), or a boolean (PostgreSQL);
 * - `args`, `kwargs`, `meta`: JSON text (or a MySQL JSON column; PostgreSQL json/jsonb
 *   arrive as text);
 * - text fields (`id`, `function`, `cron`, ...) may also be numbers (an INT id becomes "42");
 * - `resultTtl`, `failureTtl`, `ttl`, `failAfter`: integers; `every`, `timeout`, `startingDeadline`, `alertAfter`:
 *   seconds or a duration string such as "15m";
 * - `at`, `startAt`, `endAt`: DATETIME/timestamp values are read as text ("2026-12-01
 *   09:00:00"), i.e. wall time in the schedule's timezone; select an ISO string with an
 *   offset (or a PostgreSQL timestamptz) for an instant.
 * A column that is not a schedule field makes the whole query fail (the source goes stale
 * and deletes nothing): a typo in one alias must not drop that field from every schedule.
 * A value that does not convert is an error for that id, named by id and column.
 */
import { parseJson } from '../../src/canonical-json.js';
import type { NormalizeContext } from '../../src/model/normalize.js';
import { suggest } from '../../src/model/issues.js';
import { SCHEDULE_FIELDS } from '../../src/model/schedule-schema.js';
import type { SourceError } from '../../src/source.js';
import type { RowEntry } from './row-entry.js';
import { type ColumnIssue, rowToEntry } from './row-to-entry.js';

export const QUERY_ORIGIN = 'query';

// `retry` is JSON too: a number ("3") or an object ('{"max": 3, "intervals": [10, 60]}').
const JSON_FIELDS = new Set(['args', 'kwargs', 'meta', 'retry']);
const INT_FIELDS = new Set(['resultTtl', 'failureTtl', 'ttl', 'times', 'failAfter']);
const DURATION_FIELDS = new Set(['every', 'timeout', 'startingDeadline', 'jitter', 'alertAfter']);
const KNOWN = new Set<string>(SCHEDULE_FIELDS);

/** Thrown for a query whose columns cannot be schedules: the whole read fails. */
export class QueryShapeError extends Error {
  override readonly name = 'QueryShapeError';
}

/** Field names by their lower case: PostgreSQL folds an unquoted `AS resultTtl` to `resultttl`. */
const BY_LOWER = new Map(SCHEDULE_FIELDS.map((f) => [f.toLowerCase(), f]));

/** Throws unless every column is a schedule field and `id` and `function` are there. `section` names the setting (`mysql`). */
export function checkQueryColumns(columns: readonly string[], section: string): void {
  const unknown = columns.filter((c) => !KNOWN.has(c));
  if (unknown.length > 0) {
    const hints = unknown.map((c) => {
      const folded = BY_LOWER.get(c);
      if (folded)
        return `${JSON.stringify(c)} (did you mean "${folded}"? quote the alias to keep its case: AS "${folded}")`;
      const s = suggest(c, SCHEDULE_FIELDS);
      return s ? `${JSON.stringify(c)} (did you mean "${s}"?)` : JSON.stringify(c);
    });
    throw new QueryShapeError(
      `${section}.query returns columns that are not schedule fields: ${hints.join(', ')}; name each column after a field with AS`,
    );
  }
  for (const need of ['id', 'function']) {
    if (!columns.includes(need))
      throw new QueryShapeError(
        `${section}.query returns no "${need}" column; every schedule needs one (use AS ${need})`,
      );
  }
}

type Converted = { ok: true; value: unknown } | { ok: false; message: string };

function asText(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return v;
}

function convert(field: string, v: unknown): Converted {
  if (field === 'enabled') {
    const n = Buffer.isBuffer(v) && v.length === 1 ? v[0] : typeof v === 'string' ? v.trim() : v;
    if (n === 1 || n === 1n || n === '1' || n === true) return { ok: true, value: true };
    if (n === 0 || n === 0n || n === '0' || n === false) return { ok: true, value: false };
    return { ok: false, message: `expected 0 or 1, got ${JSON.stringify(typeof n === 'bigint' ? String(n) : n)}` };
  }
  if (JSON_FIELDS.has(field)) {
    const t = asText(v);
    if (typeof t !== 'string') return { ok: true, value: t }; // a JSON column mysql2 already parsed
    try {
      return { ok: true, value: parseJson(t) };
    } catch (e) {
      return { ok: false, message: `is not valid JSON text: ${(e as Error).message}` };
    }
  }
  if (INT_FIELDS.has(field)) {
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
    return { ok: true, value: n };
  }
  if (DURATION_FIELDS.has(field))
    return { ok: true, value: typeof v === 'bigint' ? Number(v) : Buffer.isBuffer(v) ? v.toString('utf8') : v };
  return { ok: true, value: asText(v) };
}

/** Maps a query's rows for source `source` (`mysql`, `postgres`); `idPrefix` namespaces the ids (several sources). */
export function mapQueryRows(
  rows: readonly Record<string, unknown>[],
  ctx: NormalizeContext,
  source: string,
  idPrefix = '',
): { entries: Map<string, RowEntry>; errors: SourceError[] } {
  const entries = new Map<string, RowEntry>();
  const errors: SourceError[] = [];
  const firstRow = new Map<string, number>();
  rows.forEach((row, i) => {
    const locator = `row ${i + 1}`;
    const idValue = asText(row.id);
    const own = typeof idValue === 'string' ? idValue.trim() : '';
    const id = own === '' ? '' : `${idPrefix}${own}`;
    if (id === '') {
      errors.push({
        source,
        origin: QUERY_ORIGIN,
        locator,
        path: 'id',
        message: 'is NULL or empty; the row is skipped',
      });
      return;
    }
    const prev = firstRow.get(id);
    if (prev !== undefined) {
      // Like the file source: neither row wins, the id keeps its applied state.
      entries.set(id, {
        id,
        errors: [
          ...(entries.get(id)?.errors ?? []),
          {
            source,
            origin: QUERY_ORIGIN,
            locator,
            id,
            message: `id is also returned by row ${prev}; it keeps its applied state until only one row has it`,
          },
        ],
        held: true,
      });
      return;
    }
    firstRow.set(id, i + 1);
    const raw: Record<string, unknown> = {};
    const pre: ColumnIssue[] = [];
    for (const [field, v] of Object.entries(row)) {
      if (v === null || v === undefined) continue;
      const c = convert(field, v);
      if (c.ok) raw[field] = c.value;
      else pre.push({ column: field, message: c.message });
    }
    raw.id = id;
    entries.set(
      id,
      rowToEntry(raw, pre, { source, id, origin: QUERY_ORIGIN, locator, enabled: raw.enabled !== false }, ctx),
    );
  });
  return { entries, errors };
}
