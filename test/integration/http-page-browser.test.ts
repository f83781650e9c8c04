/// <reference lib="dom" />
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The status page in a real headless browser: Debian's chromium, driven by
// puppeteer-core (no browser download). A missing chromium fails the test.
const CHROMIUM = process.env.PYRQ_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const EVIL = '<script>window.__pwned = 1; alert("pwned")</script>';

let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let daemon: DaemonProcess;
let browser: Browser;
let base: string;

beforeAll(async () => {
  server = await startRedis();
  dir = tmpDir();
  const schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
  const many = Array.from({ length: 12 }, (_, i) => ({
    id: `report-${i}`,
    function: 'app.reports.build',
    cron: `${i} 6 * * 1-5`,
    timezone: 'Europe/Berlin',
    description: `Report ${i}`,
  }));
  writeFileSync(join(schedules, 'reports.json'), JSON.stringify(many));
  writeFileSync(
    join(schedules, 'evil.json'),
    JSON.stringify([
      {
        id: 'evil',
        function: 'app.tasks.run',
        every: 3600,
        description: EVIL,
        kwargs: { html: '<img src=x onerror="window.__pwned=2">' },
      },
      { id: 'paused-one', function: 'app.tasks.run', every: 60, enabled: false, description: 'switched off' },
    ]),
  );
  writeFileSync(join(schedules, 'broken.yaml'), 'id: [unclosed\n');
  const socket = join(dir.path, 'd.sock');
  daemon = await startDaemon(['--dir', schedules, '--redis-url', server.url, '--http', '127.0.0.1:0'], { socket });
  base = `http://${String((await daemon.waitForLog((l) => l.msg === 'http listener started')).http)}`;
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 'the daemon is ready', 15_000);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop('SIGKILL');
  await server?.close();
  dir?.cleanup();
});

const visibleIds = () =>
  Array.from(document.querySelectorAll<HTMLTableRowElement>('#schedules tbody tr'))
    .filter((r) => !r.hidden)
    .map((r) => r.dataset.id!);

describe('the status page in chromium', () => {
  it('lists the schedules, the filter narrows them, a <script> description is text and runs nothing', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.setViewport({ width: 1400, height: 1000 });
    const res = await page.goto(`${base}/`, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);

    const all = await page.evaluate(visibleIds);
    expect(all).toHaveLength(14);
    expect(all).toEqual(expect.arrayContaining(['evil', 'paused-one', 'report-0', 'report-11']));
    // The cron read out in words, the next fire in the schedule's timezone too.
    const report = await page.$eval('#schedules tr[data-id="report-1"]', (r) => r.textContent ?? '');
    expect(report).toContain('At 06:01, Monday through Friday');
    expect(report).toContain('Europe/Berlin');
    // The broken file, with its position, under the source's health.
    expect(await page.$eval('#sources', (t) => t.textContent ?? '')).toMatch(
      /broken\.yaml: invalid YAML: line \d+, column \d+/,
    );
    expect(await page.$eval('#role', (p) => p.textContent ?? '')).toContain('leader');

    // The description and kwargs are shown as text; nothing ran.
    expect(await page.$eval('#schedules tr[data-id="evil"] .description', (d) => d.textContent)).toBe(EVIL);
    expect(await page.$eval('#schedules tr[data-id="evil"] .kwargs', (d) => d.textContent)).toContain(
      '<img src=x onerror=',
    );
    expect(await page.$$eval('#schedules tbody script, #schedules tbody img', (els) => els.length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);

    // Typing narrows the rows at once (no reload: the input keeps its text).
    await page.type('#filters input[name=q]', 'report-1');
    await page.waitForFunction(() => document.querySelectorAll('#schedules tbody tr:not([hidden])').length === 3);
    expect((await page.evaluate(visibleIds)).sort()).toEqual(['report-1', 'report-10', 'report-11']);
    expect(await page.$eval('#shown', (s) => s.textContent)).toBe('3');
    // The state filter narrows too.
    await page.$eval('#filters input[name=q]', (i) => (i.value = ''));
    await page.select('#filters select[name=state]', 'disabled');
    await page.waitForFunction(() => document.querySelectorAll('#schedules tbody tr:not([hidden])').length === 1);
    expect(await page.evaluate(visibleIds)).toEqual(['paused-one']);
    await page.select('#filters select[name=state]', '');

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'status-page.png');
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('without JavaScript the table is complete, filters by a GET form and sorts by links', async () => {
    const page = await browser.newPage();
    await page.setJavaScriptEnabled(false);
    await page.goto(`${base}/?q=report-1&state=enabled`, { waitUntil: 'load' });
    expect(
      (await page.$$eval('#schedules tbody tr', (rs) => rs.map((r) => (r as HTMLElement).dataset.id))).sort(),
    ).toEqual(['report-1', 'report-10', 'report-11']);
    await page.goto(`${base}/?sort=id&dir=desc`, { waitUntil: 'load' });
    const ids = await page.$$eval('#schedules tbody tr', (rs) => rs.map((r) => (r as HTMLElement).dataset.id));
    expect(ids).toHaveLength(14);
    expect(ids[0]).toBe('report-9');
    expect(ids.at(-1)).toBe('evil');
    await page.close();
  });
});
