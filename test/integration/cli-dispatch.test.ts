import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, pyrq } from '../helpers/cli.js';
import { dumpEveryKey, type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// tick, trigger, history, next and status through the built CLI, on the shipped fixtures.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  dir = tmpDir();
  cpSync(join(ROOT, 'fixtures', 'schedules'), dir.path, { recursive: true });
  env = {
    PYRQ_REDIS_URL: server.url,
    PYRQ_DIR: dir.path,
    PYRQ_CONFIG: undefined,
    PYRQ_SOCKET: join(dir.path, 'no-daemon.sock'),
  };
});
afterAll(async () => {
  await server.close();
  dir.cleanup();
});
// Every test starts from the fixtures freshly applied to an empty Redis: none depends on
// what another one fired, so each passes alone (vitest -t) and one failure stays one.
beforeEach(async () => {
  await redis.flushall();
  const applied = await pyrq(['apply'], { env });
  expect(applied.code, applied.stderr).toBe(0);
});

/** `20260601T120000Z`: a job id's occurrence suffix (the layout of src/rq/job-id.ts, spelled out here). */
const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace('.000', '');

/** The heartbeat's first fire time (every 5 s) as the apply stored it. */
const firstHeartbeat = async () => Number(await redis.zscore('pyrq:next', 'heartbeat'));

// Each test spawns the CLI up to six times, its own setup included: on a loaded two-core
// machine a spawn took up to 15 s, so these get twice the default timeout.
describe('pyrq tick / trigger / history / next / status', { timeout: 120_000 }, () => {
  it('tick --at fires what is due as of that time, once, by the catch-up policy', async () => {
    // An hour after the first heartbeat: 721 occurrences due, the last one exactly at `at`.
    const first = await firstHeartbeat();
    const at = new Date(first + 3_600_000).toISOString();
    const r = await pyrq(['tick', '--at', at, '--force', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.now).toBe(at);
    const hb = out.schedules.find((s: { id: string }) => s.id === 'heartbeat');
    // catchup "skip": the two occurrences within the 5 s grace (at - 5 s, at) fire; the
    // other 719 of the hour are recorded as skipped. ("all" would fire the newest 100.)
    expect(hb).toMatchObject({ result: 'fired', enqueued: 2, skipped: 719 });
    expect(hb.jobIds).toEqual([
      `pyrq_heartbeat_${compact(first + 3_595_000)}`,
      `pyrq_heartbeat_${compact(first + 3_600_000)}`,
    ]);
    expect((await redis.lrange('rq:queue:default', 0, -1)).filter((j) => j.startsWith('pyrq_heartbeat_'))).toEqual(
      hb.jobIds,
    );

    const again = await pyrq(['tick', '--at', at, '--force'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing due at /m);
  });

  it('tick --at later than now is a dry run: it prints what would fire and leaves Redis byte for byte unchanged', async () => {
    const first = await firstHeartbeat();
    const at = new Date(first + 30 * 86_400_000).toISOString(); // a month ahead, as in issue 12
    const before = await dumpEveryKey(redis);
    const r = await pyrq(['tick', '--at', at, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ now: at, dryRun: true });
    expect(out.schedules.find((s: { id: string }) => s.id === 'heartbeat')).toMatchObject({
      enqueued: 2,
      jobIds: [expect.stringMatching(/^pyrq_heartbeat_/), expect.stringMatching(/^pyrq_heartbeat_/)],
    });
    const text = await pyrq(['tick', '--at', at], { env });
    expect(text.stdout).toMatch(/^Dry run as of .*nothing was written/m);
    expect(text.stdout).toMatch(/heartbeat: would enqueue 2, skip \d+/);
    expect(await dumpEveryKey(redis)).toEqual(before);
  });

  it('apply --deep repairs a next fire time that does not follow from the spec (tick --at a month ahead --force)', async () => {
    const first = await firstHeartbeat();
    const ahead = first + 30 * 86_400_000;
    expect((await pyrq(['tick', '--at', new Date(ahead).toISOString(), '--force'], { env })).code).toBe(0);
    expect(Number(await redis.zscore('pyrq:next', 'heartbeat'))).toBeGreaterThan(ahead);
    const shallow = await pyrq(['apply', '--json'], { env });
    expect(shallow.json().plan.changes).toEqual([]);
    const deep = await pyrq(['apply', '--deep', '--json'], { env });
    expect(deep.code, deep.stderr).toBe(0);
    const fix = deep.json().plan.changes.find((c: { id: string }) => c.id === 'heartbeat');
    expect(fix).toMatchObject({
      action: 'update',
      repair: true,
      reason: expect.stringMatching(/^repair: stored next fire time .* skips occurrences/),
    });
    const next = Number(await redis.zscore('pyrq:next', 'heartbeat'));
    expect(next).toBeGreaterThan(Date.now() - 5_000);
    expect(next).toBeLessThanOrEqual(Date.now() + 5_000 + 1_000);
    expect(next % 5_000).toBe(first % 5_000); // on the schedule's grid
    // Repaired: a second deep apply finds nothing to do for it.
    expect(
      (await pyrq(['apply', '--deep', '--json'], { env })).json().plan.changes.map((c: { id: string }) => c.id),
    ).not.toContain('heartbeat');
  });

  it('tick reconciles its sources first: a schedule deleted from its file since the last apply does not fire', async () => {
    const first = await firstHeartbeat();
    const file = join(dir.path, 'maintenance.json');
    const saved = readFileSync(file, 'utf8');
    const doc = JSON.parse(saved) as { schedules: { id: string }[] };
    writeFileSync(file, JSON.stringify({ ...doc, schedules: doc.schedules.filter((s) => s.id !== 'heartbeat') }));
    try {
      const r = await pyrq(['tick', '--at', new Date(first + 10_000).toISOString(), '--force', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().schedules.map((s: { id: string }) => s.id)).not.toContain('heartbeat');
      expect(await redis.hexists('pyrq:index', 'heartbeat')).toBe(0);
      expect((await redis.lrange('rq:queue:default', 0, -1)).filter((j) => j.startsWith('pyrq_heartbeat_'))).toEqual(
        [],
      );
      // Without a source and without a daemon, tick says what it fires from.
      const bare = await pyrq(['tick'], { env: { ...env, PYRQ_DIR: undefined } });
      expect(bare.code, bare.stderr).toBe(0);
      expect(bare.stderr).toMatch(/no source configured and no daemon running: firing the registry as last applied/);
    } finally {
      writeFileSync(file, saved);
    }
  });

  it('trigger enqueues one manual run; history shows it with its RQ status', async () => {
    const t = await pyrq(['trigger', 'weekly-report', '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    const job = t.json();
    expect(job).toMatchObject({ id: 'weekly-report', queue: 'reports', function: 'pyrq_fixtures.tasks.build_report' });
    expect(await redis.lrange('rq:queue:reports', 0, -1)).toContain(job.jobId);

    const h = await pyrq(['history', 'weekly-report', '--json'], { env });
    expect(h.code, h.stderr).toBe(0);
    expect(h.json().runs[0]).toMatchObject({
      trigger: 'manual',
      outcome: 'enqueued',
      jobId: job.jobId,
      jobStatus: 'queued',
      latenessMs: 0,
    });
    const text = await pyrq(['history', 'weekly-report'], { env });
    expect(text.stdout).toMatch(/OCCURRENCE\s+HANDLED\s+LATENESS\s+TRIGGER\s+OUTCOME\s+JOB\s+STATUS/);
    expect(text.stdout).toContain(job.jobId);
  });

  it('history of an unknown schedule is a NOT_FOUND error; trigger too', async () => {
    for (const cmd of [
      ['history', 'nope', '--json'],
      ['trigger', 'nope', '--json'],
    ]) {
      const r = await pyrq(cmd, { env });
      expect(r.code).toBe(1);
      expect(r.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('next lists fire times of a schedule, in UTC and local time', async () => {
    const r = await pyrq(['next', 'nightly-invoices', '-n', '3', '--from', '2026-03-28T12:00:00Z', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      id: 'nightly-invoices',
      timezone: 'Europe/Berlin',
      times: [
        { utc: '2026-03-29T01:00:00Z', local: '2026-03-29 03:00:00 GMT+2' }, // 02:00 does not exist that night
        { utc: '2026-03-30T00:00:00Z', local: '2026-03-30 02:00:00 GMT+2' },
        { utc: '2026-03-31T00:00:00Z', local: '2026-03-31 02:00:00 GMT+2' },
      ],
    });
    const off = await pyrq(['next', 'legacy-export', '--json'], { env });
    expect(off.json()).toMatchObject({ times: [], note: 'disabled: it never fires', stored: null });
  });

  it('next --cron needs no registry, and explains a bad expression', async () => {
    const r = await pyrq(
      ['next', '--cron', '30 1 * * *', '--tz', 'America/New_York', '--from', '2026-10-31T12:00:00Z', '-n', '2'],
      { env: { ...env, PYRQ_REDIS_URL: 'redis://127.0.0.1:1' } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2026-11-01T05:30:00Z  2026-11-01 01:30:00 EDT');
    expect(r.stdout).toContain('2026-11-02T06:30:00Z  2026-11-02 01:30:00 EST');
    const bad = await pyrq(['next', '--cron', '61 * * * *', '--json'], { env });
    expect(bad.code).toBe(1);
    expect(bad.json().error.message).toMatch(/minute out of range/);
  });

  it('status shows last run, outcome and lateness', async () => {
    const first = await firstHeartbeat();
    const at = new Date(first).toISOString();
    expect((await pyrq(['tick', '--at', at, '--force'], { env })).code).toBe(0);
    expect((await pyrq(['trigger', 'weekly-report'], { env })).code).toBe(0);
    const r = await pyrq(['status', 'heartbeat', 'weekly-report', '--no-daemon', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.json().schedules;
    expect(rows.find((x: { id: string }) => x.id === 'heartbeat')).toMatchObject({
      lastRun: at,
      lastOutcome: 'enqueued',
      lastLatenessMs: 0,
    });
    expect(rows.find((x: { id: string }) => x.id === 'weekly-report')).toMatchObject({
      lastOutcome: 'enqueued',
      lastLatenessMs: 0,
    });
    const text = await pyrq(['status', '--no-daemon'], { env });
    expect(text.stdout).toMatch(/LAST RUN\s+LAST OUTCOME/);
  });

  it('every new command has --help with examples', async () => {
    for (const cmd of ['tick', 'trigger', 'history', 'next']) {
      const r = await pyrq([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/EXAMPLES/);
    }
  });
});
