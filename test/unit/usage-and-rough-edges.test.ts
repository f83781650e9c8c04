/**
 * Issue 26, pure parts: the closest command or flag of a usage error, the usage line,
 * a cron error quoting the user's own text (not croner's converted one), the status
 * page's "shown of" count, the credentials hint, the doctor's worst finding and queues.
 */
import { describe, expect, it } from 'vitest';
import { commandNotFound, suggestFlag, usageLine } from '../../cli/usage-error.js';
import { DOCTOR_EXIT, worstOf } from '../../src/doctor/check.js';
import { persistenceResult } from '../../src/doctor/redis-check.js';
import { usedQueues } from '../../src/doctor/queues.js';
import { parsePageQuery, renderStatusPage } from '../../src/http/status-page.js';
import { issueText } from '../../src/model/issues.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { distance } from '../../src/model/suggest.js';
import { credentialHint } from '../../sources/sql/poll-backoff.js';
import { sourceErrorText } from '../../cli/render/source-error.js';

const STATUS = {
  id: 'status',
  args: { ids: {} },
  strict: false,
  flags: { wide: {}, 'no-daemon': {}, 'redis-url': {} },
};
const DIFF = { id: 'diff', args: {}, flags: { dir: { char: 'd' }, deep: {}, 'redis-url': {} } };

describe('usage errors', () => {
  it('a swap of two neighbouring letters is one edit', () => {
    expect(distance('wdie', 'wide')).toBe(1);
    expect(distance('stauts', 'status')).toBe(1);
    expect(distance('kitten', 'sitting')).toBe(3);
  });

  it('the closest flag: a typo, a name it begins, a name that begins it', () => {
    expect(suggestFlag('--wdie', STATUS)).toBe('--wide');
    expect(suggestFlag('--redis', STATUS)).toBe('--redis-url');
    expect(suggestFlag('--directory', DIFF)).toBe('--dir');
    expect(suggestFlag('--directory=x', DIFF)).toBe('--dir');
    expect(suggestFlag('--frobnicate', DIFF)).toBeUndefined();
  });

  it('the closest command, and a word after a command that takes none', () => {
    expect(commandNotFound('pyrq', 'stauts', [STATUS, DIFF]).message).toBe(
      'unknown command "stauts" (did you mean pyrq status?)',
    );
    const sched = commandNotFound('pyrq', 'diff:sched', [STATUS, DIFF]);
    expect(sched.message).toBe(
      'unexpected argument "sched": pyrq diff takes no arguments (did you mean pyrq diff --dir sched?)',
    );
    expect(sched.usage).toBe('pyrq diff [FLAGS]');
    expect(sched.exitCode).toBe(64);
    expect(usageLine('pyrq', STATUS)).toBe('pyrq status [IDS...] [FLAGS]');
  });
});

describe('rough edges', () => {
  it('a cron error quotes the field as written (MON-FRY), not as converted (1-FRY)', () => {
    const r = normalizeSchedule({ id: 'x', function: 'app.tasks.run', cron: '0 9 * * MON-FRY' }, DEFAULT_CONTEXT);
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.issues.map(issueText).join('\n');
    expect(text).toContain('day-of-week: illegal characters in "MON-FRY"');
    expect(text).not.toContain('1-FRY');
  });

  it('the status page counts what the filter shows against every schedule', () => {
    const page = renderStatusPage({
      now: 0,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [],
      rows: [],
      total: 5,
      query: parsePageQuery(new URLSearchParams('q=nightly')),
      lastReconcile: null,
    });
    expect(page).toContain('<span id="shown">0</span> shown of 5');
  });

  it('a SQL row error names its source (MySQL and PostgreSQL rows share table names); a file error needs none', () => {
    const row = { source: 'postgres', origin: 'tabBTU Task Schedule', id: 'TS-1', path: 'cron_string', message: 'bad' };
    expect(sourceErrorText(row)).toBe('postgres: tabBTU Task Schedule: (id "TS-1"): cron_string: bad');
    expect(sourceErrorText({ source: 'files', origin: 'a.json', message: 'bad' })).toBe('a.json: bad');
    expect(sourceErrorText({ source: 'mysql', origin: 'mysql://u@h:3306/db', message: 'down' })).toBe(
      'mysql://u@h:3306/db: down',
    );
  });

  it('refused credentials name the password setting', () => {
    expect(credentialHint('mysql', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', "Access denied for user 'u'@'h'")).toContain(
      'set PYRQ_MYSQL_PASSWORD',
    );
    expect(credentialHint('mysql', 'ER_ACCESS_DENIED_ERROR', '(using password: NO)')).toContain('no password was sent');
    expect(credentialHint('postgres', '28P01', 'password authentication failed')).toContain('PYRQ_POSTGRES_PASSWORD');
    expect(credentialHint('mysql', 'ECONNREFUSED', 'connect ECONNREFUSED')).toBe('');
  });
});

describe('doctor, pure parts', () => {
  it('the exit code is by the worst finding: 0, 3, 4', () => {
    const r = (status: 'ok' | 'warn' | 'fail') => ({ check: 'x', status, message: '' });
    expect(DOCTOR_EXIT[worstOf([])]).toBe(0);
    expect(DOCTOR_EXIT[worstOf([r('ok'), r('warn')])]).toBe(3);
    expect(DOCTOR_EXIT[worstOf([r('fail'), r('warn')])]).toBe(4);
  });

  it('persistence: none is a warning; RDB or AOF is ok', () => {
    expect(persistenceResult({ save: '', appendonly: 'no' }).status).toBe('warn');
    expect(persistenceResult({ save: '3600 1', appendonly: 'no' }).status).toBe('ok');
    expect(persistenceResult({ save: '', appendonly: 'yes' }).status).toBe('ok');
    expect(persistenceResult({ aofEnabled: '0' }).status).toBe('warn');
  });

  it('queues in use: enabled schedules only; Frappe ones with the bench id', () => {
    const q = usedQueues(
      [
        { queue: 'default', target: 'rq', enabled: true },
        { queue: 'long', target: 'frappe', enabled: true },
        { queue: 'off', target: 'rq', enabled: false },
      ],
      'bench1',
    );
    expect([...q]).toEqual([
      ['bench1:long', 1],
      ['default', 1],
    ]);
  });
});
