import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { backfill } from '../../src/dispatch/backfill.js';
import { readHistory } from '../../src/dispatch/history.js';
import { Keys } from '../../src/redis/keys.js';
import { pyrq } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { startWorldDaemon } from '../helpers/daemon-world.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { dumpEveryKey, useRedis } from '../helpers/redis-server.js';
import { applySpecs, dispatchConfig, makeSpec } from '../helpers/schedules.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Backfill over the DST changes of Europe/Berlin in 2026 (29 March: 02:00 CET -> 03:00
// CEST; 25 October: 03:00 CEST -> 02:00 CET). The expected occurrences are spelled out
// in UTC, not computed with the code under test.
const priv = useRedis();
const keys = new Keys();
const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
const BERLIN = { timezone: 'Europe/Berlin' };
const deps = () => ({ redis: priv.redis, keys, clock, config: dispatchConfig() });
const jobOf = (id: string, utc: string) => `pyrq_${id}_${utc.replace(/[-:]/g, '').replace('.000', '')}`;
const queue = () => priv.redis.lrange('rq:queue:default', 0, -1);

beforeEach(async () => {
  await applySpecs(
    priv.redis,
    [
      // An interval job: skips the hour that does not exist, runs in both passes of the repeated one.
      makeSpec({ id: 'hourly', cron: '0 * * * *', ...BERLIN }),
      // A fixed-time job in the gap: once, at 03:00 CEST.
      makeSpec({ id: 'daily', cron: '30 2 * * *', ...BERLIN }),
      makeSpec({ id: 'solo', cron: '0 * * * *', ...BERLIN, overlap: 'forbid' }),
    ],
    clock,
  );
});

describe('backfill', () => {
  it('enqueues the occurrences of a range with a DST change, by the schedule timezone, and nothing new a second time', async () => {
    // Wall times without an offset are Berlin's.
    const r = await backfill(deps(), 'hourly', '2026-10-25T01:00', '2026-10-25T03:00');
    const expected = [
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET, the repeated hour
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ];
    expect(r.occurrences.map((o) => o.occurrence)).toEqual(expected);
    expect(r.enqueued).toBe(4);
    expect(await queue()).toEqual(expected.map((t) => jobOf('hourly', t)));

    const again = await backfill(deps(), 'hourly', '2026-10-25T01:00', '2026-10-25T03:00');
    expect(again.enqueued).toBe(0);
    expect(again.occurrences.every((o) => o.exists)).toBe(true);
    expect(await queue()).toHaveLength(4);
    const history = await readHistory(priv.redis, keys, 'hourly', 20);
    expect(history.map((h) => [h.trigger, h.outcome])).toEqual([
      ...Array(4).fill(['backfill', 'skipped:duplicate']),
      ...Array(4).fill(['backfill', 'enqueued']),
    ]);
    // The schedule's own rhythm is untouched.
    expect(await priv.redis.hget(keys.schedule('hourly'), 'lastRunAt')).toBe(String(Date.parse(expected[3]!)));
  });

  it('skips the hour that does not exist (spring forward); a fixed time in the gap runs once at 03:00', async () => {
    const hourly = await backfill(deps(), 'hourly', '2026-03-29T00:00+01:00', '2026-03-29T04:00+02:00', {
      dryRun: true,
    });
    expect(hourly.occurrences.map((o) => o.occurrence)).toEqual([
      '2026-03-28T23:00:00.000Z', // 00:00 CET
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 does not exist)
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
    ]);
    const daily = await backfill(deps(), 'daily', '2026-03-28', '2026-03-30T23:59', { dryRun: true });
    expect(daily.occurrences.map((o) => [o.occurrence, o.local])).toEqual([
      ['2026-03-28T01:30:00.000Z', '2026-03-28 02:30:00 GMT+1'],
      ['2026-03-29T01:00:00.000Z', '2026-03-29 03:00:00 GMT+2'],
      ['2026-03-30T00:30:00.000Z', '2026-03-30 02:30:00 GMT+2'],
    ]);
  });

  it('applies the overlap policy: forbid enqueues the first and skips the rest while it waits', async () => {
    const r = await backfill(deps(), 'solo', '2026-10-25T01:00', '2026-10-25T03:00');
    expect(r.enqueued).toBe(1);
    expect(await queue()).toEqual([jobOf('solo', '2026-10-24T23:00:00.000Z')]);
    const outcomes = (await readHistory(priv.redis, keys, 'solo', 10)).map((h) => h.outcome);
    expect(outcomes).toEqual(['skipped:overlap', 'skipped:overlap', 'skipped:overlap', 'enqueued']);
  });

  it('leaves occurrences after now to the dispatcher', async () => {
    clock.set(Date.parse('2026-10-25T00:30:00Z'));
    try {
      const r = await backfill(deps(), 'hourly', '2026-10-25T01:00', '2026-10-25T03:00');
      expect(r.clampedTo).toBe('2026-10-25T00:30:00.000Z');
      expect(r.enqueued).toBe(2);
    } finally {
      clock.set(Date.parse('2026-12-01T00:00:00Z'));
    }
  });
});

describe('pyrq backfill (the CLI) and the socket op', { timeout: 120_000 }, () => {
  const dir = tmpDir();
  afterAll(() => dir.cleanup());
  const env = () => ({
    PYRQ_REDIS_URL: priv.server.url,
    PYRQ_CONFIG: undefined,
    PYRQ_SOCKET: join(dir.path, 'no-daemon.sock'),
  });
  const RANGE = ['--from', '2026-03-28T22:00', '--to', '2026-03-29T04:00'];

  it('prints the plan; --dry-run writes nothing; over --limit it is refused without --yes off a terminal', async () => {
    const before = await dumpEveryKey(priv.redis);
    const dry = await pyrq(['backfill', 'hourly', ...RANGE, '--dry-run'], { env: env() });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('hourly: 6 occurrence(s)');
    expect(dry.stdout).toContain('2026-03-29T01:00:00.000Z  2026-03-29 03:00:00 GMT+2  pyrq_hourly_20260329T010000Z');
    expect(await dumpEveryKey(priv.redis)).toEqual(before);

    // Not on a terminal (stdin is a pipe) and over the limit: refused, nothing written.
    const refused = await pyrq(['backfill', 'hourly', ...RANGE, '--limit', '3'], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/6 occurrences, more than --limit 3: pass --yes/);
    expect(await dumpEveryKey(priv.redis)).toEqual(before);

    const done = await pyrq(['backfill', 'hourly', ...RANGE, '--limit', '3', '--yes', '--json'], { env: env() });
    expect(done.code, done.stderr).toBe(0);
    expect(done.json()).toMatchObject({ enqueued: 6, dryRun: false });
    expect(await queue()).toHaveLength(6);
  });

  it('the socket op backfills through a running daemon, refusing over its limit without "yes"', async () => {
    const schedules = join(dir.path, 'schedules');
    const world = { server: priv.server, dir };
    const track: DaemonProcess[] = [];
    try {
      mkdirSync(schedules, { recursive: true });
      writeFileSync(
        join(schedules, 'h.yaml'),
        '- {id: h, function: app.tasks.run, cron: "0 * * * *", timezone: Europe/Berlin}\n',
      );
      const d = await startWorldDaemon(world, 'sock', {}, track);
      await eventually(async () => (await priv.redis.hexists(keys.index, 'h')) === 1, { message: 'h applied' });
      const req = { op: 'backfill', id: 'h', from: '2026-03-29T00:00', to: '2026-03-29T04:00' };
      const refused = await d.ask({ ...req, limit: 2 });
      expect(refused.error?.message).toMatch(/4 occurrences, more than 2/);
      const ok = await d.ask({ ...req, limit: 2, yes: true });
      expect(ok.ok, JSON.stringify(ok)).toBe(true);
      expect(ok.result).toMatchObject({ enqueued: 4 });
      expect((await queue()).filter((j) => j.startsWith('pyrq_h_'))).toEqual([
        'pyrq_h_20260328T230000Z',
        'pyrq_h_20260329T000000Z',
        'pyrq_h_20260329T010000Z',
        'pyrq_h_20260329T020000Z',
      ]);
    } finally {
      for (const d of track) await d.stop('SIGKILL');
    }
  });
});
