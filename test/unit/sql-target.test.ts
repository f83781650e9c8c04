import { describe, expect, it } from 'vitest';
import type { SqlSourceConfig } from '../../src/config/config.js';
import { mysqlDriver } from '../../sources/sql/drivers/mysql.js';
import { postgresDriver } from '../../sources/sql/drivers/postgres.js';
import { PollBackoff } from '../../sources/sql/poll-backoff.js';
import { describeSqlTarget, resolveSqlTarget } from '../../sources/sql/sql-target.js';

const cfg = (over: Partial<SqlSourceConfig>): SqlSourceConfig => ({ mode: 'btu', pollIntervalMs: 5000, ...over });
const resolveTarget = (c: SqlSourceConfig) => resolveSqlTarget(mysqlDriver, c);
const describeTarget = (t: ReturnType<typeof resolveTarget>) => describeSqlTarget(mysqlDriver, t);

describe('resolveTarget', () => {
  it('reads a URL, with the password only from the URL or the resolved config', () => {
    expect(resolveTarget(cfg({ url: 'mysql://pyrq:s%40cret@db.internal:3307/erp_db' }))).toEqual({
      host: 'db.internal',
      port: 3307,
      user: 'pyrq',
      password: 's@cret',
      database: 'erp_db',
      socketPath: undefined,
    });
    expect(resolveTarget(cfg({ url: 'mysql://pyrq@db/erp_db', password: 'from-env' })).password).toBe('from-env');
  });

  it('reads host/port/user/database settings and a socket parameter', () => {
    expect(resolveTarget(cfg({ host: 'h', port: 3310, user: 'u', database: 'd' }))).toMatchObject({
      host: 'h',
      port: 3310,
      user: 'u',
      database: 'd',
    });
    expect(resolveTarget(cfg({ url: 'mysql://u@localhost/d?socket=/run/mysqld/mysqld.sock' })).socketPath).toBe(
      '/run/mysqld/mysqld.sock',
    );
  });

  it('refuses a URL without a database, another scheme or unknown parameters, never echoing the password', () => {
    expect(() => resolveTarget(cfg({ url: 'mysql://u:pw123@h:3306' }))).toThrow(/no database given/);
    expect(() => resolveTarget(cfg({ url: 'postgres://u:pw123@h/d' }))).toThrow(/scheme "postgres:"/);
    expect(() => resolveTarget(cfg({ url: 'mysql://u:pw123@h/d?ssl=1' }))).toThrow(/unknown parameter "ssl"/);
    expect(() => resolveTarget(cfg({ url: 'mysql://u:pw123@h:notaport/d' }))).toThrow(
      'mysql.url: "mysql://u:***@h:notaport/d" is not a URL; use mysql://user@host:3306/database',
    );
    for (const url of [
      'mysql://u:pw123@h:3306',
      'postgres://u:pw123@h/d',
      'mysql://u:pw123@h/d?ssl=1',
      'mysql://u:pw123@h:notaport/d',
    ]) {
      expect(() => resolveTarget(cfg({ url }))).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('pw123') }),
      );
    }
  });

  it('describes a target without its password', () => {
    const t = resolveTarget(cfg({ url: 'mysql://pyrq:hunter22@db:3306/erp' }));
    expect(describeTarget(t)).toBe('mysql://pyrq@db:3306/erp');
  });
});

describe('resolveSqlTarget for PostgreSQL', () => {
  const pg = (c: SqlSourceConfig) => resolveSqlTarget(postgresDriver, c);

  it('reads postgres:// and postgresql:// URLs, with PostgreSQL defaults and a socket directory in "host"', () => {
    expect(pg(cfg({ url: 'postgres://pyrq:s%40cret@db.internal:5433/erp_db' }))).toEqual({
      host: 'db.internal',
      port: 5433,
      user: 'pyrq',
      password: 's@cret',
      database: 'erp_db',
      socketPath: undefined,
    });
    expect(pg(cfg({ url: 'postgresql://pyrq@db/erp' }))).toMatchObject({ port: 5432, user: 'pyrq' });
    expect(pg(cfg({ database: 'erp' }))).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'erp',
    });
    expect(pg(cfg({ url: 'postgres://u@localhost/d?host=/run/postgresql' })).socketPath).toBe('/run/postgresql');
  });

  it('refuses what it cannot honour, naming the postgres settings, never echoing the password', () => {
    expect(() => pg(cfg({ url: 'postgres://u:pw123@h:5432' }))).toThrow(
      'postgres: no database given; name it in the URL (postgres://user@host:5432/erpnext_db) or set postgres.database',
    );
    expect(() => pg(cfg({ url: 'mysql://u:pw123@h/d' }))).toThrow(
      'postgres.url: scheme "mysql:" is not supported; use postgres://user@host:5432/database',
    );
    expect(() => pg(cfg({ url: 'postgres://u:pw123@h/d?sslmode=require' }))).toThrow(
      'postgres.url: unknown parameter "sslmode" (only "host" is supported)',
    );
    expect(() => pg(cfg({ url: 'postgres://u:pw123@h:notaport/d' }))).toThrow(
      /^postgres\.url: "postgres:\/\/u:\*\*\*@h:notaport\/d" is not a URL/,
    );
  });

  it('describes a target without its password', () => {
    expect(describeSqlTarget(postgresDriver, pg(cfg({ url: 'postgres://pyrq:hunter22@db:5432/erp' })))).toBe(
      'postgres://pyrq@db:5432/erp',
    );
    expect(
      describeSqlTarget(postgresDriver, pg(cfg({ url: 'postgres://pyrq:hunter22@x/erp?host=/run/postgresql' }))),
    ).toBe('postgres://pyrq@unix(/run/postgresql)/erp');
  });
});

describe('PollBackoff', () => {
  it('changes state once per kind of failure, backs off, and recovers', () => {
    let now = 1_000;
    const h = new PollBackoff('mysql', 'mysql://u@h:1/d', ['hunter22'], undefined, () => now);
    expect(h.nextDelay(5000, 60_000)).toBe(5000);
    expect(h.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 3)).toBe(true);
    expect(h.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 3)).toBe(false);
    expect(h.nextDelay(5000, 60_000)).toBe(10_000);
    expect(
      h.fail(Object.assign(new Error("Access denied (password 'hunter22')"), { code: 'ER_ACCESS_DENIED_ERROR' }), 3),
    ).toBe(true);
    // The password is redacted; the hint (issue 26) names the setting, never the value.
    expect(h.failure?.message).toBe(
      "Access denied (password '***') (ER_ACCESS_DENIED_ERROR) (check the user and its password: PYRQ_MYSQL_PASSWORD, mysql.passwordFile, or the URL)",
    );
    expect(h.failure?.since).toBe(1_000);
    for (let i = 0; i < 10; i++) h.fail(Object.assign(new Error('x'), { code: 'ER_ACCESS_DENIED_ERROR' }), 3);
    expect(h.nextDelay(5000, 60_000)).toBe(60_000);
    now = 31_000;
    expect(h.ok()).toBe(true);
    expect(h.ok()).toBe(false);
    expect(h.failing).toBe(false);
  });
});
