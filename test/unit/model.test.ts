import { describe, expect, it } from 'vitest';
import { issueText } from '../../src/model/issues.js';
import { DEFAULT_CONTEXT, type NormalizeContext, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';

const base = { id: 'nightly-report', function: 'myapp.tasks.report', cron: '0 3 * * *' };

function ok(raw: Record<string, unknown>, ctx: NormalizeContext = DEFAULT_CONTEXT): Schedule {
  const r = normalizeSchedule(raw, ctx);
  if (!r.ok) throw new Error(`expected valid, got: ${r.issues.map(issueText).join('; ')}`);
  return r.schedule;
}

/** The issues of an invalid schedule, as "path: message" lines. */
function bad(raw: unknown, ctx: NormalizeContext = DEFAULT_CONTEXT): string[] {
  const r = normalizeSchedule(raw, ctx);
  if (r.ok) throw new Error(`expected invalid: ${JSON.stringify(raw)}`);
  return r.issues.map(issueText);
}

describe('normalisation', () => {
  it('fills defaults and sorts keys', () => {
    const s = ok(base);
    expect(s).toEqual({
      args: [],
      catchup: 'latest',
      cron: '0 3 * * *',
      enabled: true,
      function: 'myapp.tasks.report',
      id: 'nightly-report',
      kwargs: {},
      meta: {},
      overlap: 'allow',
      queue: 'default',
      target: 'rq',
      timeout: 180,
      timezone: 'UTC',
    });
    expect(Object.keys(s)).toEqual([...Object.keys(s)].sort());
  });

  it('takes defaults from the context (config)', () => {
    const s = ok(base, {
      ...DEFAULT_CONTEXT,
      timezone: 'Europe/Berlin',
      catchup: 'skip',
      overlap: 'forbid',
      startingDeadline: 600,
    });
    expect(s.timezone).toBe('Europe/Berlin');
    expect(s.catchup).toBe('skip');
    expect(s.overlap).toBe('forbid');
    expect(s.startingDeadline).toBe(600);
  });

  it('hashes the normalised form: key order and defaults do not matter, values do', () => {
    const a = ok({ function: 'myapp.tasks.report', id: 'nightly-report', cron: '0  3 * * *', kwargs: { b: 1, a: 2 } });
    const b = ok({ ...base, queue: 'default', enabled: true, kwargs: { a: 2, b: 1 } });
    expect(specHash(a)).toBe(specHash(b));
    expect(specHash(ok({ ...base, kwargs: { a: 3, b: 1 } }))).not.toBe(specHash(a));
    expect(specHash(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps every optional field it was given', () => {
    const s = ok({
      ...base,
      args: [1, 'two', null, { x: [true] }],
      kwargs: { big: 12345678901234567890n },
      queue: 'reports',
      enabled: false,
      description: 'Nightly',
      timezone: 'America/New_York',
      startAt: '2026-01-01T00:00:00Z',
      endAt: '2027-01-01',
      timeout: '1h',
      resultTtl: -1,
      failureTtl: 86400,
      ttl: 600,
      meta: { team: 'finance' },
      catchup: 'all',
      startingDeadline: '10m',
      overlap: 'forbid',
    });
    expect(s.kwargs.big).toBe(12345678901234567890n);
    expect(s.startAt).toBe('2026-01-01T00:00:00Z');
    // A date without an offset is wall time in the schedule's timezone (New York: UTC-5 in January).
    expect(s.endAt).toBe('2027-01-01T05:00:00Z');
    expect(s.timeout).toBe(3600);
    expect(s.startingDeadline).toBe(600);
    expect(s).toMatchObject({
      resultTtl: -1,
      failureTtl: 86400,
      ttl: 600,
      meta: { team: 'finance' },
      enabled: false,
      description: 'Nightly',
    });
  });
});

describe('triggers', () => {
  it('accepts croner syntax: 5 and 6 fields, L, W, #, nicknames, names', () => {
    for (const cron of [
      '*/5 * * * *',
      '30 0 3 * * *',
      '0 0 L * *',
      '0 9 15W * *',
      '0 16 * * 5#L',
      '0 9 * * MON#2',
      '@hourly',
      '@daily',
      '@weekly',
      '@monthly',
      '@yearly',
      '0 9 * JAN-MAR MON-FRI',
    ]) {
      expect(ok({ ...base, cron }).cron).toBe(cron);
    }
  });

  it('names the wrong cron field', () => {
    expect(bad({ ...base, cron: '61 * * * *' })).toEqual(['cron: "61 * * * *": minute out of range']);
    expect(bad({ ...base, cron: '0 25 * * *' })).toEqual(['cron: "0 25 * * *": hour out of range']);
    expect(bad({ ...base, cron: '0 0 32 * *' })).toEqual(['cron: "0 0 32 * *": day-of-month out of range']);
    expect(bad({ ...base, cron: '0 0 * 13 *' })).toEqual(['cron: "0 0 * 13 *": month out of range']);
    expect(bad({ ...base, cron: '0 0 * * 8' })).toEqual(['cron: "0 0 * * 8": day-of-week out of range']);
    expect(bad({ ...base, cron: 'x * * * *' })[0]).toBe('cron: "x * * * *": minute: illegal characters in "x"');
    expect(bad({ ...base, cron: '* * *' })[0]).toMatch(/expected 5 fields .* got 3/);
    expect(bad({ ...base, cron: '0 0 0 1 1 * 2030' })[0]).toMatch(/got 7/);
    expect(bad({ ...base, cron: '@reboot' })[0]).toMatch(/@reboot is not supported/);
    expect(bad({ ...base, cron: '@fortnightly' })[0]).toMatch(/unknown nickname/);
  });

  it('refuses impossible dates that would never fire', () => {
    expect(bad({ ...base, cron: '0 0 31 2 *' })).toEqual([
      'cron: "0 0 31 2 *": never matches any date (impossible day/month combination)',
    ]);
    expect(bad({ ...base, cron: '0 0 30 2 *' })[0]).toMatch(/never matches/);
    // Feb 29 exists in leap years: valid.
    expect(ok({ ...base, cron: '0 0 29 2 *' }).cron).toBe('0 0 29 2 *');
  });

  it('parses every durations', () => {
    const every = (v: unknown) => ok({ id: 'e', function: 'a.b', every: v }).every;
    expect(every('90s')).toBe(90);
    expect(every('15m')).toBe(900);
    expect(every('1h')).toBe(3600);
    expect(every('1h30m')).toBe(5400);
    expect(every('2d')).toBe(172800);
    expect(every(45)).toBe(45);
    expect(every('45')).toBe(45);
  });

  it('refuses zero, negative, fractional and absurd durations', () => {
    const e = (v: unknown) => bad({ id: 'e', function: 'a.b', every: v });
    expect(e(0)).toEqual(['every: 0: must be at least 1 second']);
    expect(e(-5)[0]).toMatch(/must be at least 1 second/);
    expect(e('-5m')[0]).toMatch(/expected a duration/);
    expect(e(1.5)[0]).toMatch(/expected|whole number/);
    expect(e('5 minutes')[0]).toMatch(/expected a duration/);
    expect(e('400d')[0]).toMatch(/longer than the maximum/);
    expect(e(10 ** 12)[0]).toMatch(/longer than the maximum/);
    expect(e(true)[0]).toBe('every: expected a duration string or a number of seconds, got a boolean');
  });

  it('accepts at with and without offsets', () => {
    expect(ok({ id: 'a', function: 'a.b', at: '2030-01-02T03:04:05Z' }).at).toBe('2030-01-02T03:04:05Z');
    expect(ok({ id: 'a', function: 'a.b', at: '2030-01-02T03:04:05+02:00' }).at).toBe('2030-01-02T01:04:05Z');
    expect(ok({ id: 'a', function: 'a.b', at: '2030-07-01 09:00', timezone: 'Europe/Berlin' }).at).toBe(
      '2030-07-01T07:00:00Z',
    );
    expect(ok({ id: 'a', function: 'a.b', at: new Date('2030-01-02T03:04:05.678Z') }).at).toBe('2030-01-02T03:04:05Z');
    expect(bad({ id: 'a', function: 'a.b', at: 'tomorrow' })[0]).toMatch(
      /^at: "tomorrow" is not an ISO 8601 timestamp/,
    );
    expect(bad({ id: 'a', function: 'a.b', at: '2030-02-30T00:00:00Z' })[0]).toMatch(/day out of range/);
    expect(bad({ id: 'a', function: 'a.b', at: 1234 })[0]).toBe(
      'at: expected an ISO 8601 timestamp string, got a number',
    );
  });

  it('needs exactly one trigger', () => {
    expect(bad({ id: 'a', function: 'a.b' })).toEqual(['needs exactly one trigger: cron, every or at']);
    expect(bad({ id: 'a', function: 'a.b', cron: '* * * * *', every: 5 })).toEqual([
      'cron, every: only one trigger is allowed: choose cron, every or at',
    ]);
  });

  it('checks startAt/endAt', () => {
    expect(bad({ ...base, startAt: '2027-01-01T00:00:00Z', endAt: '2026-01-01T00:00:00Z' })[0]).toMatch(
      /^endAt: must be after startAt/,
    );
    expect(bad({ id: 'a', function: 'a.b', at: '2030-01-01T00:00:00Z', endAt: '2031-01-01T00:00:00Z' })[0]).toMatch(
      /^endAt: only applies to cron and every/,
    );
  });

  it('checks timezones', () => {
    expect(ok({ ...base, timezone: 'Asia/Kolkata' }).timezone).toBe('Asia/Kolkata');
    expect(bad({ ...base, timezone: 'Mars/Olympus' })).toEqual([
      'timezone: unknown timezone "Mars/Olympus" (use an IANA name such as "Europe/Berlin" or "UTC")',
    ]);
    expect(bad({ ...base, timezone: '+01:00' })[0]).toMatch(/unknown timezone/);
  });
});

describe('fields', () => {
  it('checks ids', () => {
    expect(ok({ ...base, id: 'A.b_c-1' }).id).toBe('A.b_c-1');
    expect(bad({ ...base, id: 'has space' })[0]).toMatch(/^id: "has space" is not a valid id/);
    expect(bad({ ...base, id: 'a:b' })[0]).toMatch(/^id: "a:b" is not a valid id/);
    expect(bad({ ...base, id: 'x'.repeat(201) })[0]).toMatch(/got 201 characters/);
    expect(bad({ ...base, id: '' })[0]).toMatch(/not a valid id/);
    expect(bad({ function: 'a.b', cron: '* * * * *' })).toEqual(['id: required']);
    expect(bad({ ...base, id: 7 })).toEqual(['id: expected a string, got a number']);
  });

  it('checks function paths', () => {
    expect(ok({ ...base, function: '_private.mod_2.Func' }).function).toBe('_private.mod_2.Func');
    expect(bad({ ...base, function: 'report' })[0]).toMatch(/is not a dotted Python path/);
    expect(bad({ ...base, function: 'os.system("rm")' })[0]).toMatch(/is not a dotted Python path/);
    expect(bad({ ...base, function: 'my-app.tasks' })[0]).toMatch(/is not a dotted Python path/);
    expect(bad({ ...base, function: 'app..tasks' })[0]).toMatch(/is not a dotted Python path/);
    expect(bad({ ...base, function: 'app.class.run' })).toEqual([
      'function: "app.class.run": "class" is a Python keyword, not an identifier',
    ]);
  });

  it('applies the function allowlist when configured', () => {
    const ctx = {
      ...DEFAULT_CONTEXT,
      allowFunction: (f: string) => f.startsWith('myapp.'),
      allowDescription: 'allow = "myapp.*"',
    };
    expect(ok(base, ctx).function).toBe('myapp.tasks.report');
    expect(bad({ ...base, function: 'os.system' }, ctx)).toEqual([
      'function: "os.system" is not in the function allowlist (allow = "myapp.*")',
    ]);
  });

  it('checks args, kwargs and meta are JSON', () => {
    expect(bad({ ...base, args: 'x' })).toEqual(['args: expected an array, got a string']);
    expect(bad({ ...base, kwargs: [1] })).toEqual(['kwargs: expected an object, got an array']);
    expect(bad({ ...base, kwargs: { when: new Date() } })).toEqual([
      'kwargs.when: a date is not a JSON value; write it as a string',
    ]);
    expect(bad({ ...base, args: [1, [2, Number.NaN]] })).toEqual(['args[1][1]: NaN is not a JSON number']);
    expect(bad({ ...base, meta: { pyrq: 1 } })).toEqual([
      'meta.pyrq: is reserved: pyrq records the schedule id and occurrence there',
    ]);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(bad({ ...base, args: [deep] })[0]).toMatch(/nested deeper than 64 levels/);
  });

  it('names the path of a value that is not JSON: quoted keys, indexes, and a deep one cut short', () => {
    expect(bad({ ...base, kwargs: { ok: 1, 'a b': [1, { c: Number.POSITIVE_INFINITY }] } })).toEqual([
      'kwargs["a b"][1].c: Infinity is not a JSON number',
    ]);
    expect(bad({ ...base, meta: { x: { y: [1, 2, Symbol('s')] } } })).toEqual([
      'meta.x.y[2]: symbol is not a JSON value',
    ]);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(bad({ ...base, args: [deep] })).toEqual(['args[0][0][0]…: nested deeper than 64 levels']);
  });

  it('checks queue, enabled, description and RQ options', () => {
    expect(bad({ ...base, queue: 'has space' })[0]).toMatch(/^queue: "has space" is not a valid queue name/);
    expect(bad({ ...base, enabled: 'yes' })).toEqual(['enabled: expected a boolean, got a string']);
    expect(bad({ ...base, description: 'x'.repeat(2001) })).toEqual(['description: longer than 2000 characters']);
    expect(bad({ ...base, timeout: 0 })[0]).toMatch(/^timeout: 0: must be at least 1 second/);
    expect(bad({ ...base, resultTtl: -2 })[0]).toMatch(/^resultTtl: must be -1/);
    expect(bad({ ...base, failureTtl: -5 })[0]).toMatch(/^failureTtl: must be -1/);
    expect(bad({ ...base, ttl: 0 })).toEqual(['ttl: must be a positive number of seconds']);
    expect(bad({ ...base, resultTtl: 1.5 })).toEqual(['resultTtl: expected an integer, got 1.5']);
    expect(bad({ ...base, catchup: 'some' })).toEqual(['catchup: must be one of "skip", "latest", "all", got "some"']);
    expect(bad({ ...base, overlap: true })[0]).toMatch(/^overlap: must be one of "allow", "forbid"/);
  });

  it('rejects unknown fields, with a suggestion for typos', () => {
    expect(bad({ ...base, crn: '* * * * *' })).toEqual(['crn: unknown field (did you mean "cron"?)']);
    expect(bad({ ...base, timeZone: 'UTC' })).toEqual(['timeZone: unknown field (did you mean "timezone"?)']);
    expect(bad({ ...base, colour: 'red' })).toEqual(['colour: unknown field']);
  });

  it('rejects what is not a schedule object', () => {
    expect(bad(null)).toEqual(['expected a schedule object, got null']);
    expect(bad([base])).toEqual(['expected a schedule object, got an array']);
    expect(bad('x')).toEqual(['expected a schedule object, got a string']);
  });
});

describe('targets', () => {
  const frappe = { ...base, target: 'frappe' };

  it('fills Frappe defaults: site from config, user Administrator, Frappe timeouts', () => {
    const s = ok(frappe, { ...DEFAULT_CONTEXT, frappeSite: 'erp.example.com' });
    expect(s).toMatchObject({ target: 'frappe', site: 'erp.example.com', user: 'Administrator', timeout: 300 });
    expect(ok({ ...frappe, queue: 'long', site: 's1' }).timeout).toBe(1500);
    expect(ok({ ...frappe, queue: 'short', site: 's1' }).timeout).toBe(300);
    expect(ok({ ...frappe, site: 's1', timeout: 42 }).timeout).toBe(42);
  });

  it('requires a site for frappe, and refuses site/user on rq', () => {
    expect(bad(frappe)).toEqual(['site: required for target "frappe" (or set frappe.site in the config)']);
    expect(bad({ ...frappe, site: 'bad site' })[0]).toMatch(/^site: "bad site" is not a valid site name/);
    expect(bad({ ...base, site: 'erp' })).toEqual(['site: only valid with target "frappe"']);
    expect(bad({ ...base, user: 'x' })).toEqual(['user: only valid with target "frappe"']);
    expect(bad({ ...base, target: 'celery' })[0]).toMatch(/^target: must be one of "rq", "frappe"/);
    expect(bad({ ...frappe, site: 's1', args: [1] })).toEqual([
      'args: not supported with target "frappe" (Frappe\'s execute_job passes keyword arguments only); use kwargs',
    ]);
    expect(ok({ ...frappe, site: 's1', args: [] }).args).toEqual([]);
  });

  it('reports every problem at once', () => {
    const issues = bad({ id: 'bad id', function: 'nodots', cron: '61 * * * *', timezone: 'Nowhere/Land', ttl: 0 });
    expect(issues.map((i) => i.split(':')[0])).toEqual(['id', 'function', 'timezone', 'cron', 'ttl']);
  });
});

describe('onFailure and jobIdKwarg', () => {
  const base = { id: 'x', function: 'app.tasks.run', cron: '0 * * * *' };
  it('are kept when valid and left out when absent (the hash of other schedules does not change)', () => {
    expect(ok({ ...base, onFailure: 'app.tasks.failed', jobIdKwarg: 'rq_job_id' })).toMatchObject({
      onFailure: 'app.tasks.failed',
      jobIdKwarg: 'rq_job_id',
    });
    expect(Object.keys(ok(base))).not.toContain('onFailure');
  });
  it('refuse what a worker could not use', () => {
    expect(bad({ ...base, onFailure: 'nodots' })).toContain(
      'onFailure: "nodots" is not a dotted Python path such as "myapp.tasks.on_failure"',
    );
    expect(bad({ ...base, jobIdKwarg: 'class' })).toContain('jobIdKwarg: "class" is not a Python identifier');
    expect(bad({ ...base, jobIdKwarg: 'n', kwargs: { n: 1 } })).toContain(
      'jobIdKwarg: "n" is also in kwargs: the job id would replace it',
    );
    expect(
      bad(
        { ...base, onFailure: 'evil.cb' },
        { ...DEFAULT_CONTEXT, allowFunction: (f) => f.startsWith('app.'), allowDescription: 'app.*' },
      ),
    ).toContain('onFailure: "evil.cb" is not in the function allowlist (app.*)');
  });
});
