import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderNext } from '../../cli/render/next.js';
import { loadConfig } from '../../src/config/load-config.js';
import { liveness, readiness } from '../../src/http/health.js';
import { esc, html } from '../../src/http/html.js';
import { isLoopback, parseListenAddress } from '../../src/http/listen-address.js';
import { scheduleState } from '../../src/http/metrics.js';
import { filterRows, type PageRow, pageRow, parsePageQuery, renderStatusPage } from '../../src/http/status-page.js';
import type { RegistryEntry, SourceStatus } from '../../src/registry/registry-port.js';
import { describeCron, withCronWords } from '../../src/schedule/describe-cron.js';
import { tmpDir } from '../helpers/tmp-dir.js';

describe('the listen address', () => {
  it('a port alone is loopback; HOST:PORT and [IPv6]:PORT; 0 is any free port', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });

  it('refuses what it cannot read, saying why', () => {
    expect(parseListenAddress('::1:9464')).toEqual({ error: expect.stringContaining('IPv6 address in brackets') });
    expect(parseListenAddress('host:http')).toEqual({
      error: expect.stringContaining('the port must be a number from 0 to 65535'),
    });
    expect(parseListenAddress('70000')).toEqual({ error: expect.stringContaining('from 0 to 65535') });
    expect(parseListenAddress('ho st:80')).toEqual({ error: expect.stringContaining('is not a host name or address') });
  });

  it('knows loopback', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.1', '::'].map(isLoopback)).toEqual([false, false, false]);
  });
});

describe('the http settings', () => {
  it('--http > PYRQ_HTTP > http.listen; off when none; the token from env or a file', () => {
    const d = tmpDir();
    try {
      expect(loadConfig({}, {}).http).toBeUndefined();
      const cfg = join(d.path, 'pyrq.toml');
      writeFileSync(join(d.path, 'token'), 'from-file\n');
      writeFileSync(cfg, '[http]\nlisten = "0.0.0.0:9000"\ntokenFile = "token"\n');
      expect(loadConfig({ config: cfg }, {}).http).toEqual({ host: '0.0.0.0', port: 9000, token: 'from-file' });
      expect(loadConfig({ config: cfg }, { PYRQ_HTTP: '9100' }).http).toMatchObject({ host: '127.0.0.1', port: 9100 });
      expect(loadConfig({ config: cfg, http: '9200' }, { PYRQ_HTTP: '9100' }).http).toMatchObject({ port: 9200 });
      expect(loadConfig({ http: '9200' }, { PYRQ_HTTP_TOKEN: 't0k' }).http).toEqual({
        host: '127.0.0.1',
        port: 9200,
        token: 't0k',
      });
      expect(() => loadConfig({ http: 'x:y' }, {})).toThrow(/http\.listen: "x:y": the port must be a number/);
      expect(() => loadConfig({ http: '9200' }, { PYRQ_HTTP_TOKEN_FILE: join(d.path, 'missing') })).toThrow(
        /http\.tokenFile: cannot read .*missing: ENOENT/,
      );
      writeFileSync(join(d.path, 'empty'), '\n');
      expect(() => loadConfig({ http: '9200' }, { PYRQ_HTTP_TOKEN_FILE: join(d.path, 'empty') })).toThrow(
        /http\.tokenFile: .*empty is empty/,
      );
    } finally {
      d.cleanup();
    }
  });
});

describe('escaping', () => {
  it('esc escapes the five characters; html escapes interpolations but not nested html', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(html`<p>${'<b>'}${html`<i>${'&'}</i>`}${['<', html`<br>`]}${null}${false}</p>`.text).toBe(
      '<p>&lt;b&gt;<i>&amp;</i>&lt;<br></p>',
    );
  });
});

describe('probes', () => {
  const role = { leader: true, holderId: 'h:1:a', currentLeader: 'h:1:a' };
  const src = (over: Partial<SourceStatus> = {}): SourceStatus => ({
    source: 'files',
    stale: false,
    schedules: 3,
    held: 0,
    errors: [],
    at: 1,
    ...over,
  });

  it('liveness: the event loop lag against the threshold', () => {
    expect(liveness(12).status).toBe(200);
    expect(liveness(6000, 5000)).toMatchObject({
      status: 503,
      body: { reasons: ['event loop lag 6000 ms is over 5000 ms'] },
    });
  });

  it('readiness: Redis, the leader known, every source fresh or holding', () => {
    expect(
      readiness({
        redisReady: true,
        role,
        configuredSources: ['files'],
        sources: [src({ held: 2, errors: ['a.toml: bad'] })],
      }),
    ).toMatchObject({ status: 200, body: { status: 'ok', role: 'leader', sources: { files: 'holding 2' } } });
    expect(
      readiness({
        redisReady: true,
        role: { ...role, leader: false, currentLeader: 'other' },
        configuredSources: ['files'],
        sources: [src()],
      }).body.role,
    ).toBe('standby');
    const bad = readiness({
      redisReady: false,
      role: { ...role, leader: false, currentLeader: null },
      configuredSources: ['files', 'mysql', 'socket'],
      sources: [src({ stale: true, errors: ['mysql: connection refused'] }), { ...src(), source: 'socket' }].map(
        (s, i) => (i === 0 ? { ...s, source: 'mysql' } : s),
      ),
    });
    expect(bad.status).toBe(503);
    expect(bad.body.reasons).toEqual([
      'redis: not connected',
      'leader: not known yet (no daemon holds the lease)',
      'source files: not read yet',
      'source mysql: stale (mysql: connection refused)',
    ]);
    expect(readiness({ redisReady: true, role, configuredSources: ['files'], sources: null }).body.reasons).toEqual([
      'source files: health unreadable',
    ]);
  });
});

describe('cron in words', () => {
  it("reads croner's five- and six-field forms; undefined when it cannot", () => {
    expect(describeCron('0 9 * * 1-5')).toBe('At 09:00, Monday through Friday');
    expect(describeCron('*/10 * * * * *')).toBe('Every 10 seconds');
    expect(describeCron('not a cron')).toBeUndefined();
    expect(withCronWords('cron "0 9 * * 1-5" (UTC)', '0 9 * * 1-5')).toBe(
      'cron "0 9 * * 1-5" (UTC): At 09:00, Monday through Friday',
    );
    expect(withCronWords('every 1h', undefined)).toBe('every 1h');
  });

  it('pyrq next prints the words after the trigger', () => {
    expect(
      renderNext({
        id: 'n',
        trigger: 'cron "0 9 * * 1-5" (UTC)',
        cronText: 'At 09:00, Monday through Friday',
        timezone: 'UTC',
        times: [],
      })[0],
    ).toBe('n: cron "0 9 * * 1-5" (UTC): At 09:00, Monday through Friday');
  });
});

const NOW = Date.parse('2026-06-01T12:00:00Z');
const entry = (id: string, over: Partial<RegistryEntry> = {}, spec: Record<string, unknown> = {}): RegistryEntry => ({
  id,
  hash: 'h',
  source: 'files',
  origin: 'a.toml',
  next: NOW + 60_000,
  state: {},
  spec: {
    id,
    function: 'app.tasks.run',
    cron: '0 9 * * *',
    timezone: 'Europe/Berlin',
    enabled: true,
    queue: 'default',
    ...spec,
  } as unknown as RegistryEntry['spec'],
  ...over,
});

describe('the status page (pure)', () => {
  it('states: done, disabled, enabled', () => {
    expect(scheduleState(entry('a', { state: { done: '1' } }))).toBe('done');
    expect(scheduleState(entry('a', {}, { enabled: false }))).toBe('disabled');
    expect(scheduleState(entry('a'))).toBe('enabled');
  });

  it('filters by text, source and state, and sorts', () => {
    const rows: PageRow[] = [
      entry('b', { next: NOW + 5 }),
      entry('a', { source: 'mysql', next: NOW + 9 }),
      entry('c', { next: null }, { enabled: false, description: 'Nightly export' }),
    ].map((e) => pageRow(e));
    expect(filterRows(rows, parsePageQuery(new URLSearchParams(''))).map((r) => r.id)).toEqual(['b', 'a', 'c']);
    expect(filterRows(rows, parsePageQuery(new URLSearchParams('sort=id&dir=desc'))).map((r) => r.id)).toEqual([
      'c',
      'b',
      'a',
    ]);
    expect(filterRows(rows, parsePageQuery(new URLSearchParams('q=NIGHTLY'))).map((r) => r.id)).toEqual(['c']);
    expect(filterRows(rows, parsePageQuery(new URLSearchParams('source=mysql'))).map((r) => r.id)).toEqual(['a']);
    expect(filterRows(rows, parsePageQuery(new URLSearchParams('state=disabled'))).map((r) => r.id)).toEqual(['c']);
  });

  it('shows an overlap policy other than the default under the trigger', () => {
    const rows = [entry('r', {}, { overlap: 'replace' }), entry('a', {}, { overlap: 'allow' })].map((e) => pageRow(e));
    const page = renderStatusPage({
      now: NOW,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [],
      rows,
      query: parsePageQuery(new URLSearchParams('')),
      lastReconcile: null,
    });
    expect(page).toContain('<div class="muted">overlap replace</div>');
    expect(page).not.toContain('overlap allow');
  });

  it('escapes every text that came from a source', () => {
    const evil = '<script>x()</script>';
    const rows = [
      entry(
        'e',
        { origin: `dir/${evil}.toml` },
        { description: evil, kwargs: { k: evil }, function: `m.${evil}`, queue: evil },
      ),
    ].map((e) => pageRow(e));
    const page = renderStatusPage({
      now: NOW,
      role: { leader: false, holderId: `h:${evil}`, currentLeader: evil },
      sources: [{ source: 'files', stale: true, schedules: 1, held: 1, errors: [`b.toml: line 1: ${evil}`], at: NOW }],
      rows,
      query: parsePageQuery(new URLSearchParams(`q=${encodeURIComponent('"><script>')}`)),
      lastReconcile: evil,
    });
    // The page's own script is the only one.
    expect(page.match(/<script>/g)).toHaveLength(1);
    expect(page).not.toContain('<script>x()');
    expect(page).toContain('&lt;script&gt;x()&lt;/script&gt;');
    expect(page).toContain('value="&quot;&gt;&lt;script&gt;"');
    expect(page).toContain('Europe/Berlin');
    expect(page).toContain('At 09:00');
  });

  it('escapes the schedule id wherever it appears: the row, its data attributes, the recent runs', () => {
    // An id is text from a source too; `'e'` alone (above) would not show a missed escape.
    const id = `<b id='x'>&amp;"evil"</b>`;
    const escaped = '&lt;b id=&#39;x&#39;&gt;&amp;amp;&quot;evil&quot;&lt;/b&gt;';
    const rows = [entry(id, { state: { lastRunAt: String(NOW - 1000), lastOutcome: 'enqueued' } })].map((e) =>
      pageRow(e),
    );
    const page = renderStatusPage({
      now: NOW,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [{ source: 'files', stale: false, schedules: 1, held: 0, errors: [], at: NOW }],
      rows,
      query: parsePageQuery(new URLSearchParams('')),
      lastReconcile: null,
    });
    expect(page).not.toContain('<b id=');
    expect(page).not.toContain('&amp;"evil');
    expect(page).toContain(`data-id="${escaped}"`);
    expect(page).toContain(`<strong class="id">${escaped}</strong>`);
    expect(page).toContain(`<td>${escaped}</td><td>enqueued</td>`); // the recent runs table
  });
});

describe('the Grafana dashboard', () => {
  it('queries only metrics pyrq exports', async () => {
    const { readFileSync } = await import('node:fs');
    const { PyrqMetrics } = await import('../../src/http/metrics.js');
    const { ROOT } = await import('../helpers/cli.js');
    const view = {
      startedAt: 0,
      role: () => ({ leader: false, holderId: 'x', currentLeader: null }),
      redisReady: () => false,
      configuredSources: () => [],
      sources: async () => [],
      entries: async () => [],
      index: async () => new Map(),
      specs: async () => new Map(),
      paused: async () => new Set<string>(),
      lastReconcile: () => ({ summary: null }),
    };
    const text = (await new PyrqMetrics(view).text()).body;
    const families = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) =>
        m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]!],
      ),
    );
    const dash = JSON.parse(readFileSync(join(ROOT, 'contrib', 'grafana-pyrq.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const used = new Set(
      dash.panels.flatMap((p) =>
        p.targets.flatMap((t) => [...t.expr.matchAll(/\b((?:pyrq|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)),
      ),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(families.has(name), `${name} is not exported`).toBe(true);
    // The alert rules (no promtool in the CI image): valid YAML of groups of rules, each
    // with a name and an expression over metrics pyrq exports.
    const { parse } = await import('yaml');
    const rules = parse(readFileSync(join(ROOT, 'contrib', 'prometheus-rules.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['PyrqSchedulesFailing', 'PyrqSchedulesOverdue', 'PyrqNoLeader']),
    );
    for (const r of alerts) {
      expect(r.alert).toMatch(/^Pyrq[A-Za-z]+$/);
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
      const names = [...r.expr.matchAll(/\b(pyrq_[a-z0-9_]+)/g)].map((m) => m[1]!);
      expect(names.length, r.alert).toBeGreaterThan(0);
      for (const name of names) expect(families.has(name), `${r.alert}: ${name} is not exported`).toBe(true);
    }
    // With promtool (Debian's prometheus package, or PYRQ_PROMTOOL): the rules check, and
    // their unit tests (contrib/prometheus-rules.test.yml) pass.
    const { execFileSync } = await import('node:child_process');
    const promtool = process.env.PYRQ_PROMTOOL ?? 'promtool';
    let found = true;
    try {
      execFileSync(promtool, ['--version'], { stdio: 'ignore' });
    } catch {
      found = false;
    }
    if (found) {
      const opts = { cwd: join(ROOT, 'contrib'), encoding: 'utf8' as const };
      expect(execFileSync(promtool, ['check', 'rules', 'prometheus-rules.yml'], opts)).toContain('SUCCESS');
      expect(execFileSync(promtool, ['test', 'rules', 'prometheus-rules.test.yml'], opts)).toContain('SUCCESS');
    }
  });
});

describe('fire outcomes as metrics', () => {
  it("counts from the script's reply: enqueued, skipped by reason, conflicts; lateness per job", async () => {
    const { PyrqMetrics } = await import('../../src/http/metrics.js');
    const { parsePrometheusText } = await import('../helpers/prom-text.js');
    const view = {
      startedAt: 0,
      role: () => ({ leader: true, holderId: 'x', currentLeader: 'x' }),
      redisReady: () => true,
      configuredSources: () => [],
      sources: async () => [],
      entries: async () => [],
      index: async () => new Map(),
      specs: async () => new Map(),
      paused: async () => new Set<string>(),
      lastReconcile: () => ({ summary: null }),
    };
    const m = new PyrqMetrics(view);
    const job = { queueName: 'q' } as never;
    const enq = (occurrence: number) => ({
      kind: 'enqueue' as const,
      occurrence,
      jobId: `j${occurrence}`,
      meta: Buffer.alloc(0),
    });
    const item = (over: Record<string, unknown>) => ({
      id: 'x',
      expected: 0,
      hash: 'h',
      next: 'keep' as const,
      overlap: 'allow' as const,
      prevJobId: '',
      job,
      ops: [],
      ...over,
    });
    m.observeFires(
      [
        item({ ops: [enq(1000), enq(2000)] }), // both enqueued, sent at 4000: 3 s and 2 s late
        item({ ops: [{ kind: 'skip', occurrence: 0, outcome: 'skipped:missed', until: 500, count: 7 }, enq(3000)] }),
        item({ ops: [{ kind: 'skip', occurrence: 0, outcome: 'skipped:deadline' }] }),
        item({ overlap: 'forbid', ops: [enq(4000)] }), // the script skipped it: overlap
        item({ ops: [enq(5000)] }), // the job existed: duplicate
        item({ ops: [enq(6000)] }),
        item({ ops: [enq(7000)] }),
      ],
      [2, 1, 0, 0, 0, 'not-due', 'stale-spec'],
      [4000, 3010, 0, 0, 0, 0, 0],
    );
    const p = parsePrometheusText((await m.text()).body);
    expect(p.value('pyrq_occurrences_total', { outcome: 'enqueued', queue: 'q' })).toBe(3);
    expect(p.value('pyrq_occurrences_total', { outcome: 'skipped', reason: 'missed' })).toBe(7);
    expect(p.value('pyrq_occurrences_total', { outcome: 'skipped', reason: 'deadline' })).toBe(1);
    expect(p.value('pyrq_occurrences_total', { outcome: 'skipped', reason: 'overlap' })).toBe(1);
    expect(p.value('pyrq_occurrences_total', { outcome: 'skipped', reason: 'duplicate' })).toBe(1);
    expect(p.value('pyrq_fire_conflicts_total', { reason: 'not_due' })).toBe(1);
    expect(p.value('pyrq_fire_conflicts_total', { reason: 'stale_spec' })).toBe(1);
    // Lateness: 3 s and 2 s for the first item's jobs, 10 ms for the second's.
    expect(p.value('pyrq_fire_lateness_seconds_count')).toBe(3);
    expect(p.value('pyrq_fire_lateness_seconds_sum')).toBeCloseTo(5.01, 5);
    expect(p.value('pyrq_fire_lateness_seconds_bucket', { le: '0.01' })).toBe(1);
    expect(p.value('pyrq_fire_lateness_seconds_bucket', { le: '2.5' })).toBe(2);
  });
});

describe('counting schedules (pyrq_schedules)', () => {
  it('by source and state; specs read once per hash; done one-shots; a scrape never waits', async () => {
    const { ScheduleCounter } = await import('../../src/http/schedule-counts.js');
    let now = 0;
    const index = new Map<string, { hash: string; source: string }>([
      ['a', { hash: 'ha', source: 'files' }],
      ['b', { hash: 'hb', source: 'files' }],
      ['c', { hash: 'hc', source: 'mysql' }],
      ['once', { hash: 'ho', source: 'socket' }],
    ]);
    const specs: Record<string, Record<string, unknown>> = {
      a: { every: 60, enabled: true },
      b: { every: 60, enabled: false },
      c: { cron: '0 * * * *', enabled: true },
      once: { at: '2026-01-01T00:00:00Z', enabled: true },
    };
    const specReads: string[][] = [];
    const counter = new ScheduleCounter(
      {
        index: async () => new Map(index),
        specs: async (ids) => {
          specReads.push([...ids]);
          return new Map(ids.map((id) => [id, specs[id] as never]));
        },
        entries: async (ids) =>
          ids.map((id) => {
            const state: Record<string, string> = id === 'once' ? { done: '1' } : {};
            return { id, hash: '', source: '', origin: '', next: null, state };
          }),
      },
      () => now,
    );
    expect(counter.current()).toBeUndefined(); // started, not awaited
    await counter.settled();
    const sorted = () => (counter.current() ?? []).map((c) => `${c.source}/${c.state}=${c.n}`).sort();
    expect(sorted()).toEqual(['files/disabled=1', 'files/enabled=1', 'mysql/enabled=1', 'socket/done=1']);
    // A change: recounted no sooner than 15 s later; only the new hash's spec is read.
    index.set('d', { hash: 'hd', source: 'files' });
    specs.d = { every: 5 };
    counter.markDirty();
    now = 10_000;
    counter.current();
    await counter.settled();
    expect(sorted()).toContain('files/enabled=1');
    now = 15_000;
    counter.current();
    await counter.settled();
    expect(sorted()).toContain('files/enabled=2');
    expect(specReads).toEqual([['a', 'b', 'c', 'once'], ['d']]);
  });
});
