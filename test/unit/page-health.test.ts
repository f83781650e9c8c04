import { describe, expect, it } from 'vitest';
import { HttpListener } from '../../reconcilers/http-listener.js';
import type { PyrqMetrics } from '../../src/http/metrics.js';
import type { Logger } from '../../src/log.js';
import { attentionLines, emptyAttention, renderAttention } from '../../src/http/attention.js';
import { chartSummary, renderFireChart } from '../../src/http/fire-chart.js';
import { actionRefusal, parseActionBody, sameOrigin } from '../../src/http/page-actions.js';
import { pageRow, pageState, parsePageQuery, renderStatusPage } from '../../src/http/status-page.js';
import type { RegistryEntry } from '../../src/registry/registry-port.js';
import { fireSlots, type SlotSchedule } from '../../src/schedule/fire-slots.js';
import type { TriggerSpec } from '../../src/schedule/next-fire.js';
import { lastRunJobId, statusRow } from '../../src/status/status-view.js';

const NOW = Date.parse('2026-06-01T12:05:00Z');
const MIN = 60_000;
const cron = (expr: string, over: Partial<TriggerSpec> = {}): TriggerSpec => ({
  cron: expr,
  timezone: 'UTC',
  enabled: true,
  ...over,
});
const every = (seconds: number): TriggerSpec => ({ every: seconds, timezone: 'UTC', enabled: true });
/** A schedule as the registry holds it: its spec and its stored next fire. */
const at = (spec: TriggerSpec, next: number | null = null, paused = false): SlotSchedule => ({
  spec,
  next: next ?? Date.parse('2026-06-02T00:00:00Z'),
  paused,
});

describe('the next-24h fire chart: slotting', () => {
  it('counts a midnight herd in its slot, every fire of an hourly one, and nothing of paused or unreadable ones', () => {
    const midnight = Date.parse('2026-06-02T00:00:00Z');
    const herd = Array.from({ length: 50 }, () => at(cron('0 0 * * *'), midnight));
    const hourly = at(cron('0 * * * *'), Date.parse('2026-06-01T13:00:00Z'));
    const s = fireSlots(
      [...herd, hourly, at(cron('0 0 * * *'), midnight, true), { spec: undefined, next: midnight }],
      NOW,
    );
    expect(s.slotMs).toBe(15 * MIN);
    expect(s.counts).toHaveLength(97); // 12:00 … 12:15 tomorrow: every slot up to now + 24 h (12:05)
    expect(s.start).toBe(Date.parse('2026-06-01T12:00:00Z')); // aligned to the quarter hour
    const slotOf = (iso: string) => (Date.parse(iso) - s.start) / s.slotMs;
    expect(s.counts[slotOf('2026-06-02T00:00:00Z')]).toBe(50 + 1); // the herd and the hourly one
    expect(s.counts[slotOf('2026-06-01T13:00:00Z')]).toBe(1);
    expect(s.counts[slotOf('2026-06-01T13:15:00Z')]).toBe(0);
    // The stored next fire is 13:00: the hourly fires 13:00 … 12:00 tomorrow (before 12:05 tomorrow).
    expect(s.total).toBe(50 + 24);
    expect(s.estimated).toBe(0);
    expect(chartSummary(s)).toContain('Busiest: 2026-06-02 00:00–00:15 UTC with 51 fires');
  });

  it('shortly after midnight, the next midnight is still within the next 24 hours', () => {
    const now = Date.parse('2026-06-01T00:10:00Z');
    const s = fireSlots([at(cron('0 0 * * *'), Date.parse('2026-06-02T00:00:00Z'))], now);
    expect(s.total).toBe(1);
    expect(chartSummary(s)).toContain('Busiest: 2026-06-02 00:00–00:15 UTC');
  });

  it('a fire already due counts in the first slot; one past the horizon, or none, counts nowhere', () => {
    const s = fireSlots(
      [
        at(every(86_400 * 7), NOW - 10 * MIN),
        at(cron('0 0 1 1 *'), Date.parse('2027-01-01T00:00:00Z')),
        { spec: cron('* * * * *'), next: null },
      ],
      NOW,
      { maxPerSchedule: 10 },
    );
    expect(s.counts[0]).toBe(1);
    expect(s.total).toBe(1);
  });

  it('past the cap a schedule is estimated at its average rate (exact for a per-minute one), and says so', () => {
    const s = fireSlots([at(every(60), Date.parse('2026-06-01T12:06:00Z'))], NOW, { maxPerSchedule: 20 });
    expect(s.estimated).toBe(1);
    expect(s.perSchedule).toBe(20);
    // 12:06 up to the end of the window (12:05 tomorrow): 1,439 minutes.
    expect(Math.abs(s.total - 1439)).toBeLessThanOrEqual(1);
    expect(s.counts.slice(1, -1).every((c) => c === 15)).toBe(true);
    expect(chartSummary(s)).toContain('1 schedule fires more often than 20 times a day: its later fires');
  });

  it('bounds the walk: the cap per schedule shrinks as schedules grow (never below 4)', () => {
    const many = Array.from({ length: 100_000 }, () => at(every(60), NOW + MIN));
    const s = fireSlots(many, NOW);
    expect(s.perSchedule).toBe(5); // 500,000 steps / 100,000 schedules
    expect(s.estimated).toBe(100_000);
    expect(Math.round(s.total / 100_000)).toBe(1439);
    expect(fireSlots(many.slice(0, 10), NOW).perSchedule).toBe(100);
    expect(fireSlots(many, NOW, { budget: 1 }).perSchedule).toBe(4);
  });

  it('renders as SVG with a title, a description and a title per bar; the herd in red', () => {
    const s = fireSlots(
      [...Array.from({ length: 40 }, () => at(cron('0 0 * * *'))), at(cron('0 * * * *'), NOW + 55 * MIN)],
      NOW,
    );
    const svg = renderFireChart(s).text;
    expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('<title id="fire-chart-title">Fires per 15 minutes, next 24 hours</title>');
    expect(svg).toMatch(/<desc id="fire-chart-desc">64 fires in the next 24 hours/);
    expect(svg).toContain('<title>00:00–00:15 UTC: 41 fires</title>');
    expect(svg.match(/class="herd"/g)).toHaveLength(1);
    expect(svg).not.toMatch(/href=|src=|<script/);
    expect(chartSummary(fireSlots([], NOW))).toBe('No fires in the next 24 hours.');
  });
});

describe('the banner', () => {
  it('healthy when nothing needs attention', () => {
    expect(attentionLines(emptyAttention())).toEqual([]);
    expect(renderAttention({ ...emptyAttention(), queuesWithoutWorker: [] }).text).toContain(
      'Healthy:</strong> nothing needs attention.',
    );
    expect(renderAttention(emptyAttention()).text).toContain('RQ workers not checked');
  });

  it('lists failing, overdue, stale sources, queues without a worker, orphans and paused, names cut at five', () => {
    const lines = attentionLines({
      failing: ['f1'],
      overdue: ['o1', 'o2'],
      staleSources: ['mysql'],
      queuesWithoutWorker: ['reports'],
      orphans: [{ source: 'btu', schedules: 3 }],
      paused: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
    });
    expect(lines).toEqual([
      '1 schedule failing: f1',
      '2 schedules overdue (no success within the alert window): o1, o2',
      '1 source stale (the last read failed; its schedules are held as they were): mysql',
      'no live RQ worker on 1 queue that enabled schedules use (their jobs wait): reports',
      '1 source not configured here owns schedules that keep firing: btu (3); "pyrq prune --source NAME" removes them',
      '7 schedules paused: p1, p2, p3, p4, p5 and 2 more',
    ]);
    const html = renderAttention({ ...emptyAttention(), paused: ['<b>x</b>'] }).text;
    expect(html).toContain('Needs attention (1):');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});

const entry = (id: string, state: Record<string, string> = {}, spec: Record<string, unknown> = {}): RegistryEntry =>
  ({
    id,
    hash: 'h',
    source: 'files',
    origin: 'a.json',
    next: NOW + 6_000,
    state,
    spec: { id, function: 'app.f', queue: 'default', cron: '* * * * *', timezone: 'UTC', enabled: true, ...spec },
  }) as unknown as RegistryEntry;

describe('paused, failing and overdue rows; skipped runs', () => {
  it('a paused schedule reads paused, with no next fire; done and disabled win; failing and overdue from the outcome reader', () => {
    const paused = new Map([['p', { since: NOW - MIN, reason: 'maintenance' }]]);
    const row = pageRow(entry('p'), { paused });
    expect(row).toMatchObject({ state: 'paused', next: null, paused: { reason: 'maintenance' } });
    expect(pageRow(entry('e'), { paused }).next).toBe(NOW + 6_000);
    expect(pageState(entry('p', { done: '1' }), { paused })).toBe('done');
    expect(pageState(entry('p', {}, { enabled: false }), { paused })).toBe('disabled');
    expect(pageState(entry('f'), { failing: new Set(['f']), overdue: new Set(['f']) })).toBe('failing');
    expect(pageState(entry('o'), { overdue: new Set(['o']) })).toBe('overdue');
    const page = renderStatusPage({
      now: NOW,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [],
      rows: [row],
      query: parsePageQuery(new URLSearchParams('')),
      lastReconcile: null,
    });
    const tr = /<tr class="paused"[^]*?<\/tr>/.exec(page)![0];
    expect(tr).toContain('data-state="paused"');
    expect(tr).toContain('maintenance');
    expect(tr).not.toMatch(/in \d+s/);
    expect(page).toMatch(/<option value="paused">paused<\/option>/);
    expect(page).not.toContain('value="failing"');
  });

  it('the state filter offers failing and overdue when there are some', () => {
    const page = renderStatusPage({
      now: NOW,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [],
      rows: [],
      query: parsePageQuery(new URLSearchParams('')),
      lastReconcile: null,
      attention: { ...emptyAttention(), failing: ['a'], overdue: ['b'] },
    });
    expect(page).toContain('<option value="failing">failing</option>');
    expect(page).toContain('<option value="overdue">overdue</option>');
    expect(page).toContain('1 schedule failing: a');
  });

  it('a skipped last run shows no job id (the stored lastJobId is the previous enqueued job)', () => {
    const skipped = { lastOutcome: 'skipped:paused', lastJobId: 'job-of-an-earlier-run', lastRunAt: String(NOW) };
    expect(lastRunJobId(skipped)).toBeNull();
    expect(lastRunJobId({ lastOutcome: 'skipped:overlap', lastJobId: 'x' })).toBeNull();
    expect(lastRunJobId({ lastOutcome: 'enqueued', lastJobId: 'j1' })).toBe('j1');
    expect(statusRow(entry('s', skipped), NOW).lastJobId).toBeNull();
    expect(pageRow(entry('s', skipped)).lastJobId).toBeNull();
    const page = renderStatusPage({
      now: NOW,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [],
      rows: [pageRow(entry('s', skipped))],
      query: parsePageQuery(new URLSearchParams('')),
      lastReconcile: null,
    });
    expect(page).not.toContain('job-of-an-earlier-run');
  });
});

describe('actions on the page', () => {
  const base = {
    now: NOW,
    role: { leader: true, holderId: 'h', currentLeader: 'h' },
    sources: [],
    rows: [pageRow(entry('a')), pageRow(entry('p'), { paused: new Map([['p', { since: NOW }]]) })],
    query: parsePageQuery(new URLSearchParams('')),
    lastReconcile: null,
  };

  it('without a token the page is read-only and says how to enable actions', () => {
    const page = renderStatusPage(base);
    expect(page).not.toContain('method="post"');
    expect(page).toContain('id="read-only"');
    expect(page).toContain('http.tokenFile');
  });

  it('with a token: a POST form per action, the token nowhere in the page', () => {
    const page = renderStatusPage({ ...base, actions: true });
    expect(page).not.toContain('id="read-only"');
    const forms = page.match(/<form class="act" method="post" action="action">.*?<\/form>/g) ?? [];
    expect(
      forms.map((f) => [/name="id" value="([^"]+)"/.exec(f)![1], /value="(pause|resume|run)"/.exec(f)![1]]),
    ).toEqual([
      ['a', 'pause'],
      ['a', 'run'],
      ['p', 'resume'],
      ['p', 'run'],
    ]);
  });

  it('acts only with the token, from the same origin', () => {
    const same = { host: '127.0.0.1:9464', origin: 'http://127.0.0.1:9464' };
    expect(actionRefusal(same, { hasToken: false, auth: null })).toMatchObject({ status: 403 });
    expect(actionRefusal(same, { hasToken: true, auth: null })).toMatchObject({ status: 401 });
    expect(actionRefusal(same, { hasToken: true, auth: 'basic' })).toBeNull();
    expect(actionRefusal({ ...same, 'sec-fetch-site': 'same-origin' }, { hasToken: true, auth: 'basic' })).toBeNull();
    expect(actionRefusal({ ...same, 'sec-fetch-site': 'cross-site' }, { hasToken: true, auth: 'basic' })).toMatchObject(
      { status: 403 },
    );
    expect(actionRefusal({ ...same, 'sec-fetch-site': 'same-site' }, { hasToken: true, auth: 'basic' })).toMatchObject({
      status: 403,
    });
    expect(actionRefusal({ host: same.host }, { hasToken: true, auth: 'basic' })).toMatchObject({ status: 403 });
    expect(actionRefusal({ host: same.host }, { hasToken: true, auth: 'bearer' })).toBeNull();
    expect(
      actionRefusal({ host: same.host, origin: 'http://evil.example' }, { hasToken: true, auth: 'bearer' }),
    ).toMatchObject({ status: 403 });
    expect(actionRefusal({ host: same.host, origin: 'null' }, { hasToken: true, auth: 'basic' })).toMatchObject({
      status: 403,
    });
  });

  it('same origin: host and port match (any of http and https, for a TLS proxy in front)', () => {
    expect(sameOrigin('http://127.0.0.1:9464', '127.0.0.1:9464')).toBe(true);
    expect(sameOrigin('http://127.0.0.1:9465', '127.0.0.1:9464')).toBe(false);
    expect(sameOrigin('https://pyrq.example.com', 'pyrq.example.com')).toBe(true);
    expect(sameOrigin('http://pyrq.example.com', 'PYRQ.example.com')).toBe(true);
    expect(sameOrigin('https://pyrq.example.com.evil.io', 'pyrq.example.com')).toBe(false);
    expect(sameOrigin('http://[::1]:9464', '[::1]:9464')).toBe(true);
    expect(sameOrigin('http://localhost:9464', undefined)).toBe(false);
    expect(sameOrigin('file://', 'localhost')).toBe(false);
  });

  it('reads the form: action and id, a bounded reason', () => {
    expect(parseActionBody('action=pause&id=a%20b&reason=%20why%20')).toEqual({
      action: 'pause',
      id: 'a b',
      reason: 'why',
    });
    expect(parseActionBody('action=run&id=x')).toEqual({ action: 'run', id: 'x' });
    expect(parseActionBody('action=delete&id=x')).toEqual({ error: expect.stringContaining('unknown action') });
    expect(parseActionBody('action=resume')).toEqual({ error: 'no schedule id' });
  });
});

describe('the listener without a token', () => {
  it('refuses every action (403, saying how to enable them) and never calls the daemon; the page says read-only', async () => {
    const called: string[] = [];
    const silent = { info() {}, warn() {}, debug() {}, error() {} } as unknown as Logger;
    const listener = new HttpListener({
      host: '127.0.0.1',
      port: 0,
      view: {
        startedAt: NOW,
        role: () => ({ leader: true, holderId: 'h', currentLeader: 'h' }),
        redisReady: () => true,
        configuredSources: () => ['files'],
        sources: () => Promise.resolve([]),
        entries: () => Promise.resolve([entry('a')]),
        index: () => Promise.resolve(new Map()),
        specs: () => Promise.resolve(new Map()),
        paused: () => Promise.resolve(new Set<string>()),
        lastReconcile: () => ({ summary: null }),
      },
      actions: {
        pause: (id) => (called.push(`pause ${id}`), Promise.resolve({ paused: [id], already: [], missing: [] })),
        resume: (id) => (called.push(`resume ${id}`), Promise.resolve({ resumed: [id], notPaused: [] })),
        runNow: (id) => (called.push(`run ${id}`), Promise.reject(new Error('not here'))),
      },
      metrics: {} as PyrqMetrics,
      logger: silent,
    });
    await listener.start();
    try {
      const base = `http://127.0.0.1:${listener.port}`;
      const res = await fetch(`${base}/action`, {
        method: 'POST',
        headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'action=pause&id=a',
      });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('set http.tokenFile or http.token');
      expect(called).toEqual([]);
      const page = await (await fetch(`${base}/`)).text();
      expect(page).toContain('id="read-only"');
      expect(page).not.toContain('method="post"');
    } finally {
      await listener.close();
    }
  });
});
