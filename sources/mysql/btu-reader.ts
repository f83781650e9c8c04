/**
 * Reads BTU's tables (`mode: btu`): the change token, every schedule row, or some ids.
 *
 * BTU's schema differs between versions (newer ones add `cron_timezone` to the schedule
 * and `queue_name` to the task), so the columns are looked up in information_schema
 * first and the SELECT names only columns that exist. Identifiers in the SQL come from
 * the fixed lists below, never from input; every value is a bound parameter.
 *
 * Each read is one statement, so the schedule rows, their tasks and the timezone single
 * come from one consistent moment.
 *
 * Mapping a row (normalisation, cron and literal parsing) costs ~0.2 ms while fetching it
 * costs ~0.007 ms, so the mapping of each row is remembered with the row's exact column
 * values: a re-read after one edit maps one row, not ten thousand.
 */
import type { ModeReader } from './mode-reader.js';
import { type BtuMapOptions, type BtuRow, BTU_ORIGIN, mapBtuRow } from './btu-map.js';
import type { MysqlReader } from './mysql-reader.js';
import type { ReadResult, RowEntry } from './row-entry.js';

const SCHEDULE_TABLE = 'tabBTU Task Schedule';
const TASK_TABLE = 'tabBTU Task';
const SINGLE = ['BTU Configuration', 'cron_time_zone'] as const;

const SCHEDULE_REQUIRED = ['name', 'task', 'enabled', 'queue_name', 'argument_overrides', 'cron_string', 'run_frequency', 'task_description', 'modified'];
const TASK_REQUIRED = ['name', 'function_string', 'arguments', 'max_task_duration', 'desc_short', 'modified'];

/** Thrown when the database does not hold BTU's tables as expected: the read fails, the source goes stale. */
export class BtuSchemaError extends Error {
  override readonly name = 'BtuSchemaError';
}

interface Schema {
  scheduleTimezone: boolean;
  taskQueue: boolean;
}

/** Most ids per `IN (...)` statement when reloading ids. */
const IDS_PER_STATEMENT = 500;

const TIMEZONE_SUBQUERY = '(SELECT g.`value` FROM `tabSingles` g WHERE g.`doctype` = ? AND g.`field` = ? LIMIT 1)';

/**
 * The poll: five numbers that move whenever a row is added, deleted or saved through
 * Frappe (which always bumps `modified`). COUNT(*) catches deletes that MAX(modified)
 * would not; tabSingles has no `modified`, so its value itself is compared.
 */
const TOKEN_SQL = `SELECT
  (SELECT COUNT(*) FROM \`${SCHEDULE_TABLE}\`) AS schedules,
  (SELECT MAX(\`modified\`) FROM \`${SCHEDULE_TABLE}\`) AS schedules_modified,
  (SELECT COUNT(*) FROM \`${TASK_TABLE}\`) AS tasks,
  (SELECT MAX(\`modified\`) FROM \`${TASK_TABLE}\`) AS tasks_modified,
  ${TIMEZONE_SUBQUERY} AS timezone`;

const COLUMNS_SQL = 'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)';

export class BtuReader implements ModeReader {
  readonly origin = BTU_ORIGIN;
  readonly canReadIds = true;
  private schema?: Schema;
  /** id -> the row's column values (as JSON) and what they mapped to. */
  private memo = new Map<string, { key: string; entry: RowEntry }>();

  constructor(
    private readonly db: MysqlReader,
    private readonly opts: BtuMapOptions,
  ) {}

  /**
   * Forget the detected columns (after an error, or for a full re-sync: BTU may have been
   * migrated). Remembered row mappings stay: they are keyed by every column value, so a
   * remembered mapping is exactly what mapping the row again would give.
   */
  resetSchema(): void {
    this.schema = undefined;
  }

  async token(): Promise<string> {
    const { rows } = await this.db.read<Record<string, unknown>>(TOKEN_SQL, SINGLE);
    return JSON.stringify(rows[0] ?? null);
  }

  async readAll(): Promise<ReadResult> {
    const sql = await this.selectSql('');
    // The token is read before the rows, so the rows are at least as new as the token: an
    // edit committed in between makes the next poll reload once more, never miss a change.
    const token = await this.token();
    const { rows } = await this.db.read<BtuRow>(sql, SINGLE);
    const entries = new Map<string, RowEntry>();
    const memo = new Map<string, { key: string; entry: RowEntry }>();
    for (const row of rows) {
      const m = this.map(row);
      entries.set(row.name, m.entry);
      memo.set(row.name, m);
    }
    this.memo = memo; // rows that are gone are forgotten
    return { entries, errors: [], token };
  }

  async readIds(ids: readonly string[]): Promise<Map<string, RowEntry | undefined>> {
    const out = new Map<string, RowEntry | undefined>(ids.map((id) => [id, undefined]));
    for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
      const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
      const sql = await this.selectSql(`WHERE s.\`name\` IN (${chunk.map(() => '?').join(', ')})`);
      const { rows } = await this.db.read<BtuRow>(sql, [...SINGLE, ...chunk]);
      for (const row of rows) {
        const m = this.map(row);
        this.memo.set(row.name, m);
        out.set(row.name, m.entry);
      }
    }
    return out;
  }

  private map(row: BtuRow): { key: string; entry: RowEntry } {
    const key = JSON.stringify(Object.values(row));
    const known = this.memo.get(row.name);
    if (known && known.key === key) return known;
    return { key, entry: mapBtuRow(row, this.opts) };
  }

  private async selectSql(where: string): Promise<string> {
    const schema = this.schema ?? (this.schema = await this.detectSchema());
    const s = ['name', 'task', 'enabled', 'queue_name', 'argument_overrides', 'cron_string', 'run_frequency', 'task_description'].map((c) => `s.\`${c}\``);
    if (schema.scheduleTimezone) s.push('s.`cron_timezone`');
    const t = ['t.`name` AS task_name', 't.`function_string`', 't.`arguments`', 't.`max_task_duration`', 't.`desc_short`'];
    if (schema.taskQueue) t.push('t.`queue_name` AS task_queue_name');
    return `SELECT ${[...s, ...t, `${TIMEZONE_SUBQUERY} AS config_timezone`].join(', ')}
FROM \`${SCHEDULE_TABLE}\` s LEFT JOIN \`${TASK_TABLE}\` t ON t.\`name\` = s.\`task\`
${where} ORDER BY s.\`name\``;
  }

  private async detectSchema(): Promise<Schema> {
    const { rows } = await this.db.read<{ t: string; c: string }>(COLUMNS_SQL, [SCHEDULE_TABLE, TASK_TABLE]);
    const cols = new Map<string, Set<string>>([
      [SCHEDULE_TABLE, new Set()],
      [TASK_TABLE, new Set()],
    ]);
    for (const r of rows) cols.get(r.t)?.add(r.c);
    for (const [table, required] of [
      [SCHEDULE_TABLE, SCHEDULE_REQUIRED],
      [TASK_TABLE, TASK_REQUIRED],
    ] as const) {
      const have = cols.get(table)!;
      if (have.size === 0) throw new BtuSchemaError(`table \`${table}\` does not exist in this database; is the BTU app installed on this site, and is this the site's database?`);
      const missing = required.filter((c) => !have.has(c));
      if (missing.length > 0) throw new BtuSchemaError(`table \`${table}\` has no column ${missing.map((c) => `\`${c}\``).join(', ')}; this BTU version is not supported`);
    }
    return { scheduleTimezone: cols.get(SCHEDULE_TABLE)!.has('cron_timezone'), taskQueue: cols.get(TASK_TABLE)!.has('queue_name') };
  }
}
