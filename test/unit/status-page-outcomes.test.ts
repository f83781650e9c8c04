import { describe, expect, it } from 'vitest';
import type { RegistryEntry } from '../../src/registry/registry-port.js';
import { healthCounts, pageRow, parsePageQuery, renderStatusPage } from '../../src/http/status-page.js';

// The page's "Last job" cell (issue 23): outcome, run time, failing/overdue, the failure
// summary (text from a job's exception: escaped like any other), the strip of last runs.
const NOW = Date.parse('2026-06-01T12:00:00Z');
const entry = (id: string, state: Record<string, string>, spec: Record<string, unknown> = {}): RegistryEntry => ({
  id,
  hash: 'h',
  source: 'files',
  origin: 'a.toml',
  next: NOW + 60_000,
  state,
  spec: {
    id,
    function: 'app.tasks.run',
    every: 60,
    timezone: 'UTC',
    enabled: true,
    queue: 'default',
    timeout: 180,
    ...spec,
  } as unknown as RegistryEntry['spec'],
});

describe('job outcomes on the status page', () => {
  const evil = '<script>x()</script>';
  const rows = [
    entry('failing', {
      jobOutcome: 'failed',
      jobDurationMs: '1250',
      failureSummary: `ValueError: ${evil}`,
      consecutiveFailures: '3',
      recentOutcomes: 'sfff',
      lastSuccessAt: String(NOW - 120_000),
    }),
    entry('overdue', { firstRunAt: String(NOW - 3_600_000) }),
    entry('fine', {
      jobOutcome: 'finished',
      jobDurationMs: '40',
      lastSuccessAt: String(NOW - 1000),
      recentOutcomes: 's',
    }),
    entry('off', { firstRunAt: String(NOW - 3_600_000) }, { enabled: false }),
  ].map((e) => pageRow(e));

  it('counts failing and overdue (a disabled schedule is never overdue)', () => {
    expect(healthCounts(rows, NOW)).toEqual({ failing: 1, overdue: 1 });
  });

  it('shows the outcome, run time, health, escaped failure and the strip', () => {
    const page = renderStatusPage({
      now: NOW,
      role: { leader: true, holderId: 'h', currentLeader: 'h' },
      sources: [],
      rows,
      query: parsePageQuery(new URLSearchParams('')),
      lastReconcile: null,
    });
    const row = (id: string) =>
      page.slice(page.indexOf(`data-id="${id}"`), page.indexOf('</tr>', page.indexOf(`data-id="${id}"`)));
    expect(row('failing')).toContain('<span class="outcome failed">failed</span> <span class="muted">1.3 s</span>');
    expect(row('failing')).toContain('failing (3 in a row)');
    expect(row('failing')).toContain('ValueError: &lt;script&gt;x()&lt;/script&gt;');
    expect(page).not.toContain('<script>x()');
    expect(row('failing').match(/<rect /g)).toHaveLength(4);
    expect(row('failing')).toMatch(/<title>finished<\/title>.*<title>failed<\/title>/s);
    expect(row('overdue')).toContain('<span class="bad">overdue</span>');
    expect(row('fine')).toContain('<span class="outcome finished">finished</span> <span class="muted">40 ms</span>');
    expect(row('fine')).not.toContain('class="bad"');
    expect(row('off')).not.toContain('overdue');
  });
});
