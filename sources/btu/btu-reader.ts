/**
 * Reads BTU's tables (`mode: btu`): the change token, every schedule row, or some ids.
 *
 * BTU's schema differs between versions (newer ones add `cron_timezone` to the schedule
 * and `queue_name` to the task), so the columns are looked up first (the driver's
 * `columnsSql`) and the SELECT names only columns that exist. Identifiers in the SQL come from
 * the fixed lists below, never from input; every value is a bound parameter.
 *
 * Each read is one statement, so the schedule rows, their tasks and the timezone single
 * come from one consistent moment.
 *
 * Mapping a row (normalisation, cron and literal parsing) costs ~0.2 ms while fetching it
 * costs ~0.007 ms, so the mapping of each row is remembered with the row's exact column
 * values: a re-read after one edit maps one row, not ten thousand.
 */
import type { SqlDialect, SqlPool, SqlValue } from '../sql/driver.js';
import type { ModeReader } from '../sql/mode-reader.js';
import type { ReadResult, RowEntry } from '../sql/row-entry.js';
import type { BtuGenerationSetting } from '../../src/config/config.js';
import type { Logger } from '../../src/log.js';
import { type BtuMapOptions, type BtuRow, BTU_ORIGIN, mapBtuRow } from './btu-map.js';
import { readSiteTtls, type SiteTtls } from './site-config.js';
import { type DetectedGeneration, describeGeneration, detectBtuGeneration } from './btu-generation.js';

const SCHEDULE_TABLE = 'tabBTU Task Schedule';
const TASK_TABLE = 'tabBTU Task';
const SINGLE = ['BTU Configuration', 'cron_time_zone'] as const;

const SCHEDULE_REQUIRED = [
  'name',
  'task',
  'enabled',
  'queue_name',
  'argument_overrides',
  'cron_string',
  'run_frequency',
  'task_description',
  'modified',
];
const TASK_REQUIRED = ['name', 'function_string', 'arguments', 'max_task_duration', 'desc_short', 'modified'];
const SCHEDULE_COLUMNS = [
  'name',
  'task',
  'enabled',
  'queue_name',
  'argument_overrides',
  'cron_string',
  'run_frequency',
  'task_description',
];

/** Thrown when the database does not hold BTU's tables as expected: the read fails, the source goes stale. */
export class BtuSchemaError extends Error {
  override readonly name = 'BtuSchemaError';
}

interface Schema {
  scheduleTimezone: boolean;
  taskQueue: boolean;
  generation: DetectedGeneration;
}

/** Most rows named in `status` for a note (a dropped cron field). */
const NOTED_IDS_SHOWN = 5;

/** Most ids per `IN (...)` statement when reloading ids. */
const IDS_PER_STATEMENT = 500;

/**
 * The statements, in the driver's quoting and placeholders. Frappe gives a table the same
 * name and columns on MariaDB and PostgreSQL (`tabBTU Task`, `modified`, ...), so the SQL
 * is the same in both; only the quotes and the placeholders differ.
 */
class BtuSql {
  /** The poll: see `token()`. Placeholders 1-2 are the timezone single. */
  readonly token: string;

  constructor(private readonly d: SqlDialect) {
    const S = d.quote(SCHEDULE_TABLE);
    const T = d.quote(TASK_TABLE);
    const modified = d.quote('modified');
    this.token = `SELECT
  (SELECT COUNT(*) FROM ${S}) AS schedules,
  (SELECT MAX(${modified}) FROM ${S}) AS schedules_modified,
  (SELECT COUNT(*) FROM ${T}) AS tasks,
  (SELECT MAX(${modified}) FROM ${T}) AS tasks_modified,
  ${this.timezoneSubquery()} AS timezone`;
  }

  /** The BTU Configuration timezone; binds placeholders 1 and 2 to `SINGLE`. */
  private timezoneSubquery(): string {
    const q = (id: string) => this.d.quote(id);
    return `(SELECT g.${q('value')} FROM ${q('tabSingles')} g WHERE g.${q('doctype')} = ${this.d.placeholder(1)} AND g.${q('field')} = ${this.d.placeholder(2)} LIMIT 1)`;
  }

  /** Every schedule joined with its task, or only `idCount` names (bound after `SINGLE`). */
  select(schema: Schema, idCount?: number): string {
    const q = (id: string) => this.d.quote(id);
    const s = SCHEDULE_COLUMNS.map((c) => `s.${q(c)}`);
    if (schema.scheduleTimezone) s.push(`s.${q('cron_timezone')}`);
    const t = [
      `t.${q('name')} AS task_name`,
      ...['function_string', 'arguments', 'max_task_duration', 'desc_short'].map((c) => `t.${q(c)}`),
    ];
    if (schema.taskQueue) t.push(`t.${q('queue_name')} AS task_queue_name`);
    const where =
      idCount === undefined
        ? ''
        : `WHERE s.${q('name')} IN (${Array.from({ length: idCount }, (_, i) => this.d.placeholder(SINGLE.length + i + 1)).join(', ')})`;
    return `SELECT ${[...s, ...t, `${this.timezoneSubquery()} AS config_timezone`].join(', ')}
FROM ${q(SCHEDULE_TABLE)} s LEFT JOIN ${q(TASK_TABLE)} t ON t.${q('name')} = s.${q('task')}
${where} ORDER BY s.${q('name')}`;
  }
}

export class BtuReader implements ModeReader {
  readonly origin = BTU_ORIGIN;
  readonly canReadIds = true;
  private schema?: Schema;
  /** id -> the row's column values (as JSON) and what they mapped to. */
  private memo = new Map<string, { key: string; entry: RowEntry }>();

  private readonly sql: BtuSql;
  /** The site's job TTLs as last read (`frappe.benchPath`). */
  private ttls?: SiteTtls;
  /** The generation last detected (kept across `resetSchema`, for `detail`). */
  private generation?: DetectedGeneration;

  constructor(
    private readonly db: SqlPool,
    private readonly dialect: SqlDialect,
    private readonly opts: BtuMapOptions & {
      generationSetting?: BtuGenerationSetting;
      logger?: Logger;
      /** The Frappe bench directory: the site's job TTLs are read from its sites/ (site-config.ts). */
      benchPath?: string;
    },
  ) {
    this.sql = new BtuSql(dialect);
  }

  /**
   * For `status`: the BTU generation the rules follow and why, and the rows read
   * differently from their text (a seconds or year field dropped, as BTU drops it).
   */
  detail(): string | undefined {
    if (!this.generation) return undefined;
    const noted = [...this.memo.entries()].filter(([, m]) => m.entry.notes?.length).map(([id]) => id);
    const notes =
      noted.length === 0
        ? ''
        : `; ${noted.length} row(s) with a cron seconds or year field, dropped as BTU drops it: ${noted.slice(0, NOTED_IDS_SHOWN).join(', ')}${noted.length > NOTED_IDS_SHOWN ? ', ...' : ''}`;
    return `${describeGeneration(this.generation)}${notes}`;
  }

  /**
   * Forget the detected columns (after an error, or for a full re-sync: BTU may have been
   * migrated). Remembered row mappings stay: they are keyed by every column value, so a
   * remembered mapping is exactly what mapping the row again would give.
   */
  resetSchema(): void {
    this.schema = undefined;
  }

  /**
   * The poll: five values that move whenever a row is added, deleted or saved through
   * Frappe (which always bumps `modified`). COUNT(*) catches deletes that MAX(modified)
   * would not; tabSingles has no `modified`, so its value itself is compared.
   */
  async token(): Promise<string> {
    const { rows } = await this.db.read<Record<string, unknown>>(this.sql.token, SINGLE);
    return JSON.stringify(rows[0] ?? null);
  }

  async readAll(): Promise<ReadResult> {
    await this.readTtls();
    const sql = this.sql.select(await this.detectedSchema());
    // The token is read before the rows, so the rows are at least as new as the token: an
    // edit committed in between makes the next poll reload once more, never miss a change.
    const token = await this.token();
    const { rows } = await this.db.read<BtuRow>(sql, SINGLE);
    const entries = new Map<string, RowEntry>();
    const memo = new Map<string, { key: string; entry: RowEntry }>();
    for (const row of rows) {
      const m = this.map(row);
      entries.set(m.entry.id, m.entry);
      memo.set(row.name, m);
    }
    this.memo = memo; // rows that are gone are forgotten
    return { entries, errors: [], token };
  }

  /** Ids are schedule ids (with the source's `idPrefix`); an id without the prefix is not this source's: absent. */
  async readIds(ids: readonly string[]): Promise<Map<string, RowEntry | undefined>> {
    await this.readTtls();
    const out = new Map<string, RowEntry | undefined>(ids.map((id) => [id, undefined]));
    const prefix = this.opts.idPrefix ?? '';
    const names = ids.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
    for (let i = 0; i < names.length; i += IDS_PER_STATEMENT) {
      const chunk = names.slice(i, i + IDS_PER_STATEMENT);
      const sql = this.sql.select(await this.detectedSchema(), chunk.length);
      const params: SqlValue[] = [...SINGLE, ...chunk];
      const { rows } = await this.db.read<BtuRow>(sql, params);
      for (const row of rows) {
        const m = this.map(row);
        this.memo.set(row.name, m);
        out.set(m.entry.id, m.entry);
      }
    }
    return out;
  }

  private map(row: BtuRow): { key: string; entry: RowEntry } {
    const generation = this.schema?.generation.generation ?? '2024';
    const key = `${generation}${JSON.stringify(this.ttls ?? null)}${JSON.stringify(Object.values(row))}`;
    const known = this.memo.get(row.name);
    if (known && known.key === key) return known;
    return { key, entry: mapBtuRow(row, { ...this.opts, generation, ttls: this.ttls }) };
  }

  /** The site's job TTLs, read on every read (two small files) so an edit of site_config.json is picked up. */
  private async readTtls(): Promise<void> {
    if (this.opts.benchPath !== undefined) this.ttls = await readSiteTtls(this.opts.benchPath, this.opts.site);
  }

  private async detectedSchema(): Promise<Schema> {
    return (this.schema ??= await this.detectSchema());
  }

  private async detectSchema(): Promise<Schema> {
    const { rows } = await this.db.read<{ t: string; c: string }>(this.dialect.columnsSql(2), [
      SCHEDULE_TABLE,
      TASK_TABLE,
    ]);
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
      const q = (id: string) => this.dialect.quote(id);
      if (have.size === 0)
        throw new BtuSchemaError(
          `table ${q(table)} does not exist in this database; is the BTU app installed on this site, and is this the site's database?`,
        );
      const missing = required.filter((c) => !have.has(c));
      if (missing.length > 0)
        throw new BtuSchemaError(
          `table ${q(table)} has no column ${missing.map(q).join(', ')}; this BTU version is not supported`,
        );
    }
    const generation = detectBtuGeneration(cols.get(SCHEDULE_TABLE)!, this.opts.generationSetting);
    if (this.generation?.generation !== generation.generation || this.generation.reason !== generation.reason)
      this.opts.logger?.info(
        { source: this.opts.source, generation: generation.generation, reason: generation.reason },
        `BTU tables read as ${describeGeneration(generation)}`,
      );
    this.generation = generation;
    return {
      scheduleTimezone: cols.get(SCHEDULE_TABLE)!.has('cron_timezone'),
      taskQueue: cols.get(TASK_TABLE)!.has('queue_name'),
      generation,
    };
  }
}
