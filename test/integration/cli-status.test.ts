import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 17: `pyrq status` fits the terminal, says the last reconcile in words, shows the
// same sources, errors and sentence whether a daemon answered or Redis was read, and
// refuses an unknown id.
let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
let daemon: DaemonProcess;
let socket: string;

beforeAll(async () => {
  server = await startRedis();
  dir = tmpDir();
  schedules = join(dir.path, 'schedules', 'billing', 'customers', 'enterprise');
  mkdirSync(schedules, { recursive: true });
  writeFileSync(
    join(schedules, 'monthly-invoices-for-enterprise-customers.json'),
    JSON.stringify({
      id: 'an-unusually-long-schedule-identifier-for-the-monthly-invoices',
      function: 'erpnext.accounts.doctype.sales_invoice.tasks.send_monthly',
      cron: '0 6 1 * *',
      timezone: 'America/Argentina/Buenos_Aires',
      queue: 'long-running-invoices',
    }),
  );
  writeFileSync(
    join(schedules, 'broken.json'),
    JSON.stringify({ id: 'broken', function: 'app.tasks.run', cron: '61 * * * *', kwargs: { note: 'x'.repeat(120) } }),
  );
  socket = join(dir.path, 'pyrq.sock');
  daemon = await startDaemon(['--dir', join(dir.path, 'schedules'), '--redis-url', server.url], { socket });
  await daemon.waitForLog((l) => l.msg === 'reconcile' && (l.created as number) === 1);
});

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  await server.close();
  dir.cleanup();
});

const status = (args: string[], env: Record<string, string> = {}) =>
  pyrq(['status', '--redis-url', server.url, '--socket', socket, ...args], {
    env: { COLUMNS: '80', ...env },
    timeoutMs: 20_000,
  });

describe('pyrq status', () => {
  it('at COLUMNS=80 no line is longer than 80 characters, from the daemon and from Redis; --wide shows everything', async () => {
    for (const via of [[], ['--no-daemon']]) {
      const r = await status(via);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
      expect(r.stdout).toMatch(/^ID\s+TRIGGER\s+QUEUE\s+NEXT\s+LAST RUN\s+JOB\s+SOURCE$/m);
    }
    const wide = await status(['--wide']);
    expect(wide.stdout).toContain('an-unusually-long-schedule-identifier-for-the-monthly-invoices');
    expect(wide.stdout.split('\n').some((l) => l.length > 80)).toBe(true);
  });

  it('the same sources, errors and last-reconcile sentence from either path', async () => {
    const fromDaemon = await status([]);
    const fromRedis = await status(['--no-daemon']);
    expect(fromDaemon.stdout.split('\n')[0]).toMatch(/^Daemon: pid \d+, leader/);
    expect(fromRedis.stdout.split('\n')[0]).toMatch(/^Not asking a daemon/);
    // Everything below the first line, up to the table, is the same text.
    const body = (t: string) => {
      const lines = t.split('\n');
      // Seconds pass between the two commands: "as of 2s ago" may read "3s ago" (also
      // where a sentence wraps between the number and "ago").
      return lines
        .slice(
          lines.findIndex((l) => l.startsWith('Source ')),
          lines.indexOf(''),
        )
        .join('\n')
        .replace(/\d+s(\s+)ago/g, 'Ns$1ago');
    };
    expect(body(fromDaemon.stdout)).toBe(body(fromRedis.stdout));
    // Wrapped sentences at 80 columns: join their continuation lines.
    const joined = body(fromDaemon.stdout).replace(/\n {2}(?!! )/g, ' ');
    expect(joined).toContain(`Source files (${join(dir.path, 'schedules')}): ok, 1 schedule, 1 error; as of`);
    expect(body(fromDaemon.stdout)).toMatch(/^ {2}! billing\/customers\/enterprise\/broken\.json/m);
    expect(joined).toMatch(
      /^Last reconcile .* ago \(run [0-9a-f]{8}, [\d.]+ ms; became leader\): 1 created, 0 updated, 0 deleted, 0 unchanged,/m,
    );
    expect(joined).toContain(`Source socket (${socket}): ok, 0 schedules`);
    const a = (await status(['--json'])).json<{ lastReconcile: unknown; sources: unknown }>();
    const b = (await status(['--json', '--no-daemon'])).json<{ lastReconcile: unknown; sources: unknown }>();
    expect(a.lastReconcile).toEqual(b.lastReconcile);
    expect(a.sources).toEqual(b.sources);
  });

  it('an unknown id fails with NOT_FOUND, from either path', async () => {
    for (const via of [[], ['--no-daemon']]) {
      const r = await status([
        'an-unusually-long-schedule-identifier-for-the-monthly-invoices',
        'no-such-schedule',
        ...via,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no schedule "no-such-schedule" in the registry');
      const typo = await status(['an-unusually-long-schedule-identifier-for-the-monthly-invoice', ...via]);
      expect(typo.stderr).toContain('(did you mean "an-unusually-long-schedule-identifier-for-the-monthly-invoices"?)');
      const j = await status(['no-such-schedule', '--json', ...via]);
      expect(j.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    }
    expect((await status(['an-unusually-long-schedule-identifier-for-the-monthly-invoices'])).code).toBe(0);
  });
});
