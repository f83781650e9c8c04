/// <reference lib="dom" />
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { Keys } from '../../src/redis/keys.js';

// The status page's actions (issue 23): pause, resume and run now from a real headless
// browser (Debian's chromium through puppeteer-core, no browser download) against a
// real daemon with a token, checked in Redis; refused without the token and from
// another origin (plain HTTP requests: a browser would not even send those).
const CHROMIUM = process.env.PYRQ_TEST_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'page-actions-token';
const keys = new Keys('pyrq:');

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let daemon: DaemonProcess;
let browser: Browser;
let base: string;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  const schedules = join(dir.path, 'schedules');
  mkdirSync(schedules);
  writeFileSync(
    join(schedules, 'jobs.json'),
    JSON.stringify([
      { id: 'nightly', function: 'app.tasks.nightly', cron: '30 2 * * *', timezone: 'UTC', queue: 'page-q' },
      { id: 'held', function: 'app.tasks.held', every: 3600, queue: 'page-q' },
      // A herd: ten schedules at midnight UTC.
      ...Array.from({ length: 10 }, (_, i) => ({
        id: `herd-${i}`,
        function: 'app.tasks.herd',
        cron: '0 0 * * *',
        timezone: 'UTC',
        queue: 'page-q',
      })),
    ]),
  );
  const tokenFile = join(dir.path, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  daemon = await startDaemon(['--dir', schedules, '--redis-url', server.url, '--http', '127.0.0.1:0'], {
    socket: join(dir.path, 'd.sock'),
    env: { PYRQ_HTTP_TOKEN_FILE: tokenFile },
  });
  base = `http://${String((await daemon.waitForLog((l) => l.msg === 'http listener started')).http)}`;
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 'the daemon is ready', 20_000);
  // Paused before the page is opened (as `pyrq pause` would, through the socket).
  await daemon.ask({ op: 'pause', id: 'held', reason: 'before the test' });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop('SIGKILL');
  redis?.disconnect();
  await server?.close();
  dir?.cleanup();
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  // The browser's own Basic prompt, answered with the token as the password.
  await page.authenticate({ username: 'operator', password: TOKEN });
  const res = await page.goto(`${base}/`, { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  return page;
}

/** Clicks a row's button and waits for the action's answer. */
async function click(page: Page, id: string, action: string): Promise<string> {
  const button = await page.$(`#schedules tr[data-id="${id}"] button[value="${action}"]`);
  expect(button, `${action} button of ${id}`).not.toBeNull();
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button!.click()]);
  return page.$eval('#result', (p) => p.textContent ?? '');
}

describe('actions from the status page', () => {
  it('pause, resume and run now work from chromium with the token, and each is logged', async () => {
    const page = await openPage();
    // The banner says what needs attention: the paused schedule, and no worker on page-q.
    const banner = await page.$eval('#attention', (d) => d.textContent ?? '');
    expect(banner).toContain('1 schedule paused: held');
    expect(banner).toContain('no live RQ worker on 1 queue');
    expect(banner).toContain('page-q');
    // Paused reads paused, with no countdown to a fire that will not happen.
    const held = await page.$eval('#schedules tr[data-id="held"]', (r) => ({
      state: (r as HTMLElement).dataset.state,
      text: r.textContent ?? '',
    }));
    expect(held.state).toBe('paused');
    expect(held.text).toContain('before the test');
    expect(held.text).not.toMatch(/in \d+[smh]/);
    expect(await page.$$eval('#filters select[name=state] option', (os) => os.map((o) => o.textContent))).toContain(
      'paused',
    );
    // The chart: an SVG with its text summary, the midnight herd in it.
    expect(await page.$eval('#fire-chart-summary', (f) => f.textContent ?? '')).toMatch(/Busiest: .* 00:00–00:15 UTC/);

    expect(await click(page, 'nightly', 'pause')).toBe('paused nightly');
    expect(await redis.hexists(keys.paused, 'nightly')).toBe(1);
    await page.goto(`${base}/`, { waitUntil: 'load' });
    expect(await page.$eval('#schedules tr[data-id="nightly"]', (r) => (r as HTMLElement).dataset.state)).toBe(
      'paused',
    );

    expect(await click(page, 'held', 'resume')).toBe('resumed held');
    expect(await redis.hexists(keys.paused, 'held')).toBe(0);

    const before = await redis.llen('rq:queue:page-q');
    await page.goto(`${base}/`, { waitUntil: 'load' });
    expect(await click(page, 'nightly', 'run')).toMatch(/^enqueued \S+ on queue page-q/);
    expect(await redis.llen('rq:queue:page-q')).toBe(before + 1);
    const run = JSON.parse((await redis.lindex(keys.runs('nightly'), 0))!) as { trigger: string; outcome: string };
    expect(run).toMatchObject({ trigger: 'manual', outcome: 'enqueued' });

    // Logged like the CLI's words, with who asked.
    const logged = daemon.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('http action: '));
    expect(logged.map((l) => [l.action, l.id, l.remote])).toEqual([
      ['pause', 'nightly', '127.0.0.1'],
      ['resume', 'held', '127.0.0.1'],
      ['run', 'nightly', '127.0.0.1'],
    ]);
    expect(JSON.stringify(daemon.logs)).not.toContain(TOKEN);
    await page.close();
  });

  it('refuses without the token, from another origin, and cross-site; nothing changes in Redis', async () => {
    const form = 'action=pause&id=herd-1';
    const basic = `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`;
    const host = new URL(base).host;
    const post = (headers: Record<string, string>, body = form) =>
      fetch(`${base}/action`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    expect((await post({ origin: base })).status, 'no token').toBe(401);
    expect((await post({ origin: base, authorization: 'Bearer wrong' })).status, 'a wrong token').toBe(401);
    expect((await post({ origin: 'http://evil.example', authorization: basic })).status, 'another origin').toBe(403);
    expect(
      (await post({ origin: `http://${host}`, authorization: basic, 'sec-fetch-site': 'cross-site' })).status,
      'cross-site',
    ).toBe(403);
    expect((await post({ authorization: basic })).status, 'Basic credentials without an Origin').toBe(403);
    expect((await fetch(`${base}/action?action=pause&id=herd-1`, { headers: { authorization: basic } })).status).toBe(
      405,
    );
    expect(await redis.hexists(keys.paused, 'herd-1')).toBe(0);
    // A script with the bearer token needs no Origin; an unknown schedule or action is said so.
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const missing = await post(bearer, 'action=run&id=no-such-schedule');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('no schedule &quot;no-such-schedule&quot; in the registry');
    expect((await post(bearer, 'action=delete&id=herd-1')).status).toBe(400);
    // The same request from the page's origin acts (so the refusals above were for their reason).
    expect((await post({ origin: base, authorization: basic })).status).toBe(200);
    expect(await redis.hexists(keys.paused, 'herd-1')).toBe(1);
  });
});
