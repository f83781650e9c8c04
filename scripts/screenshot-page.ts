/**
 * Regenerates docs/status-page.png, the status page shown in docs/observability.md:
 * `npm run build && node dist/scripts/screenshot-page.js [out.png]`.
 *
 * Everything is private and thrown away: a redis-server on a free port, a schedules
 * directory with a few realistic schedules (and a midnight herd, so the chart shows
 * one), a `pyrq daemon` with a token, two schedules paused and three run through the
 * page's own actions (`POST /action`, as the buttons do), a real `rq worker --burst`
 * over them (one task succeeds, one raises: failing; one queue has no worker: overdue),
 * then Debian's chromium
 * (puppeteer-core, no browser download; PYRQ_CHROMIUM to use another) opens the page
 * with the token and takes the picture.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { PACKAGE_ROOT } from '../src/paths.js';
import { freePort, launchRedisServer, stopRedisServer } from './private-redis.js';

const CHROMIUM = process.env.PYRQ_CHROMIUM ?? '/usr/bin/chromium';
const OUT = process.argv[2] ?? join(PACKAGE_ROOT, 'docs', 'status-page.png');
const TOKEN = 'screenshot-token';

const SCHEDULES = [
  {
    id: 'nightly-invoices',
    description: 'Build and send the day’s invoices',
    function: 'billing.tasks.send_invoices',
    cron: '30 2 * * *',
    timezone: 'Europe/Berlin',
    queue: 'billing',
  },
  {
    id: 'erp-sync-stock',
    description: 'Pull stock levels from the ERP',
    // The fixture tasks (fixtures/python) run for real, so the page shows real outcomes.
    function: 'pyrq_fixtures.tasks.succeed',
    every: '15m',
    queue: 'default',
  },
  {
    id: 'payment-reconcile',
    description: 'Reconcile card payments (raises every time)',
    function: 'pyrq_fixtures.tasks.explode',
    every: '1h',
    queue: 'default',
    failAfter: 2,
  },
  {
    id: 'mail-digest',
    description: 'Daily digest mail (its queue has no worker)',
    function: 'pyrq_fixtures.tasks.succeed',
    every: '1h',
    queue: 'mail',
    alertAfter: '1s',
  },
  {
    id: 'cache-warmup',
    description: 'Warm the product cache',
    function: 'shop.cache.warm',
    cron: '*/30 * * * *',
    timezone: 'UTC',
    queue: 'default',
  },
  {
    id: 'weekly-report',
    description: 'Weekly sales report',
    function: 'reports.weekly',
    cron: '0 7 * * 1',
    timezone: 'Europe/Berlin',
    queue: 'reports',
  },
  {
    id: 'legacy-export',
    description: 'Old export, switched off',
    function: 'legacy.export',
    every: '1h',
    enabled: false,
  },
  // A thundering herd: every tenant's cleanup at midnight UTC.
  ...Array.from({ length: 9 }, (_, i) => ({
    id: `tenant-${i + 1}-cleanup`,
    description: `Nightly cleanup of tenant ${i + 1}`,
    function: 'tenants.cleanup',
    cron: '0 0 * * *',
    timezone: 'UTC',
    kwargs: { tenant: i + 1 },
  })),
];

/** `rq worker --burst` on "default" (Debian's python3-rq), with the fixture tasks importable. */
function runWorker(url: string, dir: string): Promise<void> {
  const rq = spawn('/usr/bin/python3', ['-m', 'rq.cli', 'worker', '--burst', '--url', url, 'default'], {
    env: { ...process.env, PYTHONPATH: join(PACKAGE_ROOT, 'fixtures', 'python'), PYRQ_FIXTURE_OUT: join(dir, 'out') },
    stdio: 'ignore',
  });
  return new Promise((resolve, reject) => {
    rq.on('error', reject);
    rq.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rq worker exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pyrq-shot-'));
  const port = await freePort();
  const redis = await launchRedisServer(process.env.PYRQ_REDIS_SERVER ?? 'redis-server', port);
  const schedules = join(dir, 'schedules');
  mkdirSync(schedules);
  writeFileSync(join(schedules, 'jobs.json'), JSON.stringify(SCHEDULES, null, 2));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const daemon = spawn(
    process.execPath,
    [
      join(PACKAGE_ROOT, 'bin', 'run.js'),
      'daemon',
      '--dir',
      schedules,
      '--redis-url',
      `redis://127.0.0.1:${port}`,
      '--http',
      '127.0.0.1:0',
      '--socket',
      join(dir, 'd.sock'),
    ],
    {
      env: { ...process.env, PYRQ_CONFIG: '', PYRQ_STATE_DIR: dir, PYRQ_HTTP_TOKEN_FILE: join(dir, 'token') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let buf = '';
      daemon.stdout.setEncoding('utf8');
      daemon.stdout.on('data', (d: string) => {
        buf += d;
        const m = /"http":"([^"]+)"[^\n]*"msg":"http listener started"/.exec(buf);
        if (m) resolve(`http://${m[1]}`);
      });
      daemon.on('exit', (code) => reject(new Error(`the daemon exited with ${code}`)));
    });
    for (let i = 0; (await fetch(`${base}/readyz`)).status !== 200; i++) {
      if (i > 200) throw new Error('the daemon did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const act = async (action: string, id: string, reason = '') => {
      const res = await fetch(`${base}/action`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ action, id, ...(reason ? { reason } : {}) }).toString(),
      });
      if (res.status !== 200) throw new Error(`${action} ${id}: ${res.status} ${await res.text()}`);
    };
    await act('pause', 'weekly-report', 'report template being reworked');
    await act('pause', 'tenant-3-cleanup', 'tenant migrating');
    await act('run', 'erp-sync-stock');
    await act('run', 'payment-reconcile');
    await new Promise((r) => setTimeout(r, 5)); // a manual run's job id holds its millisecond
    await act('run', 'payment-reconcile');
    await act('run', 'mail-digest');
    // A stock RQ worker runs what is on "default" ("mail" has none), then the page waits
    // for the leader's outcome reader (about a second) to have seen every job end.
    await runWorker(`redis://127.0.0.1:${port}`, dir);
    for (let i = 0; ; i++) {
      const html = await (await fetch(`${base}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      if (/schedules? failing/.test(html) && /overdue \(/.test(html) && /class="outcome finished"/.test(html)) break;
      if (i > 300) throw new Error('the outcomes did not reach the page in 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      await page.authenticate({ username: 'operator', password: TOKEN });
      await page.setViewport({ width: 1400, height: 900, deviceScaleFactor: 1 });
      const res = await page.goto(`${base}/`, { waitUntil: 'load' });
      if (res?.status() !== 200) throw new Error(`the page answered ${res?.status()}`);
      await page.screenshot({ path: OUT, fullPage: true });
      console.log(`wrote ${OUT}`);
    } finally {
      await browser.close();
    }
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await stopRedisServer(redis.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
