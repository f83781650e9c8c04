import { describe, expect, it } from 'vitest';
import type { MysqlConfig } from '../../src/config/config.js';
import { describeTarget, resolveTarget } from '../../sources/mysql/mysql-target.js';
import { SourceHealth } from '../../sources/mysql/source-health.js';

const cfg = (over: Partial<MysqlConfig>): MysqlConfig => ({ mode: 'btu', pollIntervalMs: 5000, ...over });

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
    expect(resolveTarget(cfg({ host: 'h', port: 3310, user: 'u', database: 'd' }))).toMatchObject({ host: 'h', port: 3310, user: 'u', database: 'd' });
    expect(resolveTarget(cfg({ url: 'mysql://u@localhost/d?socket=/run/mysqld/mysqld.sock' })).socketPath).toBe('/run/mysqld/mysqld.sock');
  });

  it('refuses a URL without a database, another scheme or unknown parameters, never echoing the password', () => {
    expect(() => resolveTarget(cfg({ url: 'mysql://u:pw123@h:3306' }))).toThrow(/no database given/);
    expect(() => resolveTarget(cfg({ url: 'postgres://u:pw123@h/d' }))).toThrow(/scheme "postgres:"/);
    expect(() => resolveTarget(cfg({ url: 'mysql://u:pw123@h/d?ssl=1' }))).toThrow(/unknown parameter "ssl"/);
    expect(() => resolveTarget(cfg({ url: 'mysql://u:pw123@h:notaport/d' }))).toThrow('mysql.url: "mysql://u:***@h:notaport/d" is not a URL; use mysql://user@host:3306/database');
    for (const url of ['mysql://u:pw123@h:3306', 'postgres://u:pw123@h/d', 'mysql://u:pw123@h/d?ssl=1', 'mysql://u:pw123@h:notaport/d']) {
      expect(() => resolveTarget(cfg({ url }))).toThrow(expect.objectContaining({ message: expect.not.stringContaining('pw123') }));
    }
  });

  it('describes a target without its password', () => {
    const t = resolveTarget(cfg({ url: 'mysql://pyrq:hunter22@db:3306/erp' }));
    expect(describeTarget(t)).toBe('mysql://pyrq@db:3306/erp');
  });
});

describe('SourceHealth', () => {
  it('changes state once per kind of failure, backs off, and recovers', () => {
    let now = 1_000;
    const h = new SourceHealth('mysql://u@h:1/d', ['hunter22'], undefined, () => now);
    expect(h.nextDelay(5000, 60_000)).toBe(5000);
    expect(h.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 3)).toBe(true);
    expect(h.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 3)).toBe(false);
    expect(h.nextDelay(5000, 60_000)).toBe(10_000);
    expect(h.fail(Object.assign(new Error("Access denied (password 'hunter22')"), { code: 'ER_ACCESS_DENIED_ERROR' }), 3)).toBe(true);
    expect(h.failure?.message).toBe("Access denied (password '***') (ER_ACCESS_DENIED_ERROR)");
    expect(h.failure?.since).toBe(1_000);
    for (let i = 0; i < 10; i++) h.fail(Object.assign(new Error('x'), { code: 'ER_ACCESS_DENIED_ERROR' }), 3);
    expect(h.nextDelay(5000, 60_000)).toBe(60_000);
    now = 31_000;
    expect(h.ok()).toBe(true);
    expect(h.ok()).toBe(false);
    expect(h.failing).toBe(false);
  });
});
