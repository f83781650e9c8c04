import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { parsePrometheusText, type Exposition } from '../helpers/prom-text.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import type { tmpDir } from '../helpers/tmp-dir.js';
import { startDaemonWorld, stopDaemonWorld } from '../helpers/daemon-world.js';

// The HTTP listener of a real daemon: metrics move with fires, skips and reconciles;
// readiness follows Redis; the token guards the page and the metrics.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  ({ server, redis, dir, schedules } = await startDaemonWorld());
});

afterEach(() => stopDaemonWorld({ server, dir }, daemons));

async function daemon(
  name: string,
  opts: { http?: string; env?: Record<string, string>; extra?: string } = {},
): Promise<{ d: DaemonProcess; base: string }> {
  const socket = join(dir.path, `${name}.sock`);
  const cfg = join(dir.path, `${name}.toml`);
  writeFileSync(
    cfg,
    `${opts.extra ?? ''}[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${socket}"\nleaseTtl = "2s"\n`,
  );
  const d = await startDaemon(['--config', cfg, '--http', opts.http ?? '127.0.0.1:0'], { socket, env: opts.env });
  daemons.push(d);
  const line = await d.waitForLog((l) => l.msg === 'http listener started');
  return { d, base: `http://${String(line.http)}` };
}

async function metrics(base: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await fetch(`${base}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

async function probe(
  base: string,
  path: string,
): Promise<{ status: number; body: { status: string; reasons: string[]; role?: string } }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons: string[]; role?: string } };
}

describe('/metrics', () => {
  it('parses as Prometheus text; counters move after fires, overlap skips and reconciles', async () => {
    // No worker runs: "busy"'s first job stays queued, so overlap forbid skips every later occurrence.
    writeFileSync(
      join(schedules, 'a.json'),
      JSON.stringify([
        { id: 'tick', function: 'app.tasks.run', every: 1, queue: 'fast' },
        { id: 'busy', function: 'app.tasks.run', every: 1, queue: 'slow', overlap: 'forbid' },
        { id: 'off', function: 'app.tasks.run', every: 1, enabled: false },
      ]),
    );
    const { base } = await daemon('m');
    await eventually(
      async () => (await probe(base, '/readyz')).status === 200,
      'ready: the first reconcile is done',
      10_000,
    );
    const first = await metrics(base);
    // prom-client's default process and Node.js metrics are there, and pyrq's build info.
    expect(first.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(first.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(first.samples.find((s) => s.name === 'pyrq_build_info')?.labels.node_version).toBe(process.versions.node);
    for (const [name, type] of [
      ['pyrq_occurrences_total', 'counter'],
      ['pyrq_fire_lateness_seconds', 'histogram'],
      ['pyrq_dispatcher_tick_duration_seconds', 'histogram'],
      ['pyrq_reconcile_duration_seconds', 'histogram'],
      ['pyrq_reconcile_changes_total', 'counter'],
      ['pyrq_reconciles_total', 'counter'],
      ['pyrq_source_up', 'gauge'],
      ['pyrq_source_last_success_timestamp_seconds', 'gauge'],
      ['pyrq_source_errors', 'gauge'],
      ['pyrq_schedules', 'gauge'],
      ['pyrq_leader', 'gauge'],
      ['pyrq_leadership_changes_total', 'counter'],
      ['pyrq_redis_up', 'gauge'],
    ]) {
      expect(first.types.get(name!.replace(/_total$/, '')) ?? first.types.get(name!), name).toBe(type);
    }

    const fired = await eventually(
      async () => {
        const m = await metrics(base);
        return m.sum('pyrq_occurrences_total', { outcome: 'enqueued', queue: 'fast' }) >= 2 &&
          m.sum('pyrq_occurrences_total', { outcome: 'skipped', reason: 'overlap', queue: 'slow' }) >= 1 &&
          m.value('pyrq_schedules', { source: 'files', state: 'enabled' }) !== undefined
          ? m
          : undefined;
      },
      'fires on "fast" and overlap skips on "slow" counted, and the schedules (counted in the background)',
      15_000,
    );
    // What the counters say is what Redis holds: jobs in the queue, one "busy" job.
    expect(await redis.llen('rq:queue:slow')).toBe(1);
    expect(fired.sum('pyrq_occurrences_total', { outcome: 'enqueued', queue: 'slow' })).toBe(1);
    expect(fired.value('pyrq_fire_lateness_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(fired.value('pyrq_dispatcher_tick_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(fired.value('pyrq_leader')).toBe(1);
    expect(fired.value('pyrq_leadership_changes_total')).toBe(1);
    expect(fired.value('pyrq_redis_up')).toBe(1);
    expect(fired.value('pyrq_source_up', { source: 'files' })).toBe(1);
    expect(fired.value('pyrq_schedules', { source: 'files', state: 'enabled' })).toBe(2);
    expect(fired.value('pyrq_schedules', { source: 'files', state: 'disabled' })).toBe(1);
    expect(fired.value('pyrq_reconcile_changes_total', { operation: 'create', source: 'files' })).toBe(3);
    // No schedule id ever becomes a label.
    for (const s of fired.samples) expect(Object.values(s.labels)).not.toContain('tick');

    // A new file: a reconcile runs and creates one schedule; a broken file: the source reports an error.
    const before = fired.value('pyrq_reconciles_total', { result: 'success' })!;
    writeFileSync(
      join(schedules, 'b.json'),
      JSON.stringify([{ id: 'later', function: 'app.tasks.run', cron: '0 3 * * *' }]),
    );
    writeFileSync(join(schedules, 'broken.json'), '[{"id": "x", ');
    const after = await eventually(
      async () => {
        const m = await metrics(base);
        return m.value('pyrq_reconcile_changes_total', { operation: 'create', source: 'files' }) === 4 &&
          m.value('pyrq_source_errors', { source: 'files' })! >= 1
          ? m
          : undefined;
      },
      "the new file's create and the broken file's error counted",
      15_000,
    );
    expect(after.value('pyrq_reconciles_total', { result: 'success' })).toBeGreaterThan(before);
    expect(after.value('pyrq_reconcile_duration_seconds_count', { kind: 'event' })).toBeGreaterThanOrEqual(1);
    // A broken file is held, not a stale source: still up and ready.
    expect(after.value('pyrq_source_up', { source: 'files' })).toBe(1);
    expect((await probe(base, '/readyz')).status).toBe(200);
  });
});

describe('/healthz and /readyz', () => {
  it('readyz turns 503 naming Redis when it stops, and 200 when it is back; healthz stays 200', async () => {
    writeFileSync(join(schedules, 'a.json'), JSON.stringify([{ id: 'a', function: 'app.tasks.run', every: 60 }]));
    const { base } = await daemon('r');
    const ready = await eventually(
      async () => {
        const p = await probe(base, '/readyz');
        return p.status === 200 ? p : undefined;
      },
      'ready after the first reconcile',
      10_000,
    );
    expect(ready.body).toMatchObject({ status: 'ok', reasons: [], role: 'leader' });

    await server.stop();
    const down = await eventually(
      async () => {
        const p = await probe(base, '/readyz');
        return p.status === 503 ? p : undefined;
      },
      '/readyz 503 while Redis is down',
      10_000,
    );
    expect(down.body.status).toBe('fail');
    expect(down.body.reasons).toContain('redis: not connected');
    expect((await probe(base, '/healthz')).status).toBe(200);
    const m = await metrics(base);
    expect(m.value('pyrq_redis_up')).toBe(0);

    await server.restart();
    await eventually(
      async () => (await probe(base, '/readyz')).status === 200,
      '/readyz 200 once Redis is back',
      20_000,
    );
    expect((await metrics(base)).value('pyrq_redis_up')).toBe(1);
  });
});

describe('the token', () => {
  it('guards / and /metrics when set (Bearer, or Basic for browsers); the probes stay open; a standby says so', async () => {
    writeFileSync(join(schedules, 'a.json'), JSON.stringify([{ id: 'a', function: 'app.tasks.run', every: 60 }]));
    await daemon('leader');
    const tokenFile = join(dir.path, 'token');
    writeFileSync(tokenFile, 's3cret-token\n');
    const { base, d } = await daemon('standby', { env: { PYRQ_HTTP_TOKEN_FILE: tokenFile } });
    const ready = await eventually(
      async () => {
        const p = await probe(base, '/readyz');
        return p.status === 200 ? p : undefined;
      },
      'the standby is ready once it knows the leader and the leader recorded the sources',
      15_000,
    );
    expect(ready.body.role).toBe('standby');
    for (const path of ['/', '/metrics']) {
      expect((await fetch(`${base}${path}`)).status, `${path} without a token`).toBe(401);
      expect(
        (await fetch(`${base}${path}`, { headers: { authorization: 'Bearer wrong' } })).status,
        `${path} with a wrong token`,
      ).toBe(401);
      expect(
        (await fetch(`${base}${path}`, { headers: { authorization: 'Bearer s3cret-token' } })).status,
        `${path} with the token`,
      ).toBe(200);
      expect(
        (
          await fetch(`${base}${path}`, {
            headers: { authorization: `Basic ${Buffer.from('any:s3cret-token').toString('base64')}` },
          })
        ).status,
        `${path} with Basic`,
      ).toBe(200);
    }
    expect((await fetch(`${base}/`)).headers.get('www-authenticate')).toMatch(/Basic/);
    expect(
      (await fetch(`${base}/metrics`, { method: 'POST', headers: { authorization: 'Bearer s3cret-token' } })).status,
    ).toBe(405);
    expect((await probe(base, '/healthz')).status).toBe(200);
    expect((await metrics(base, { authorization: 'Bearer s3cret-token' })).value('pyrq_leader')).toBe(0);
    const page = await (await fetch(`${base}/`, { headers: { authorization: 'Bearer s3cret-token' } })).text();
    expect(page).toContain('<strong>standby</strong>');
    // The token never reaches the log.
    expect(JSON.stringify(d.logs)).not.toContain('s3cret-token');
  });
});

describe('start-up errors', () => {
  let blocker: Server | undefined;
  afterEach(() => blocker?.close());

  it('a port in use, a bad address and a missing token file each stop the daemon with a clear message', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const run = (http: string, env: Record<string, string> = {}) =>
      pyrq(
        ['daemon', '--dir', schedules, '--redis-url', server.url, '--socket', join(dir.path, 'e.sock'), '--http', http],
        { env: { PYRQ_CONFIG: '', ...env }, timeoutMs: 20_000 },
      );
    const inUse = await run(`127.0.0.1:${port}`);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`http.listen: cannot listen on 127.0.0.1:${port}: the port is in use`);
    const bad = await run('localhost:http');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('http.listen: "localhost:http": the port must be a number');
    const missing = await run('127.0.0.1:0', { PYRQ_HTTP_TOKEN_FILE: join(dir.path, 'nope') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/http\.tokenFile: cannot read .*nope: ENOENT/);
  });
});
