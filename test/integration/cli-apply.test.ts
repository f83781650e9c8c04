import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The acceptance of the foundation issue, end to end through the built CLI on real Redis.
let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let env: Record<string, string>;

const FIXTURE_IDS = [
  'cache-warm',
  'cleanup-temp',
  'dunning-reminders',
  'erp-daily-digest',
  'erp-sync-stock',
  'heartbeat',
  'last-friday-review',
  'legacy-export',
  'migrate-archive-2030',
  'monthly-statements',
  'nightly-invoices',
  'sales-digest',
  'weekly-report',
];

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  await server.close();
});
// Every test gets an empty Redis and its own copy of the fixtures: none depends on what
// another one applied or edited, so each passes alone (vitest -t).
beforeEach(async () => {
  await redis.flushall();
  dir = tmpDir();
  cpSync(join(ROOT, 'fixtures', 'schedules'), dir.path, { recursive: true });
  env = {
    PYRQ_REDIS_URL: server.url,
    PYRQ_DIR: dir.path,
    PYRQ_SOCKET: join(dir.path, 'no-daemon.sock'),
    PYRQ_CONFIG: undefined as unknown as string,
  };
});
afterEach(() => dir.cleanup());

/** The fixtures applied, as the starting point of a test. */
async function applied(): Promise<void> {
  const r = await pyrq(['apply'], { env });
  expect(r.code, r.stderr).toBe(0);
  expect(await ids()).toEqual(FIXTURE_IDS);
}

const ids = async () => (await redis.hkeys('pyrq:index')).sort();

// Each test spawns the CLI up to six times, its own setup included: on a loaded two-core
// machine a spawn took up to 15 s, so these get twice the default timeout.
describe('pyrq apply / diff on the shipped fixtures', { timeout: 120_000 }, () => {
  it('creates every schedule on an empty registry', async () => {
    const r = await pyrq(['apply', '--json'], { env });
    expect(r.code).toBe(0);
    expect(r.json().summary).toEqual({ create: 13, update: 0, delete: 0, unchanged: 0, held: 0, errors: 0 });
    expect(await ids()).toEqual(FIXTURE_IDS);
  });

  it('a second apply prints no changes and exits 0; diff agrees', async () => {
    await applied();
    const r = await pyrq(['apply'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Apply complete: 0 created, 0 updated, 0 deleted, 13 unchanged\./);
    const d = await pyrq(['diff'], { env });
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/No changes/);
  });

  it('diff after editing one file shows exactly that change, exits 2, and changes nothing', async () => {
    await applied();
    const file = join(dir.path, 'billing.toml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('cron = "0 2 * * *"', 'cron = "15 2 * * *"'));
    const d = await pyrq(['diff'], { env });
    expect(d.code).toBe(2);
    expect(d.stdout).toContain('~ update nightly-invoices  (files: billing.toml)');
    expect(d.stdout).toContain('cron: "0 2 * * *" -> "15 2 * * *"');
    expect(d.stdout).toMatch(/Plan: 0 to create, 1 to update, 0 to delete, 12 unchanged\./);
    const j = await pyrq(['diff', '--json'], { env });
    expect(j.code).toBe(2);
    const plan = j.json().plan;
    expect(
      plan.changes.map((c: { action: string; id: string; fields: { field: string }[] }) => [
        c.action,
        c.id,
        c.fields.map((f) => f.field),
      ]),
    ).toEqual([['update', 'nightly-invoices', ['cron']]]);
    expect(JSON.parse((await redis.hget('pyrq:schedule:nightly-invoices', 'spec'))!).cron).toBe('0 2 * * *');
    expect((await pyrq(['apply'], { env })).code).toBe(0);
    expect(JSON.parse((await redis.hget('pyrq:schedule:nightly-invoices', 'spec'))!).cron).toBe('15 2 * * *');
  });

  it('deleting a file and applying deletes exactly its schedules', async () => {
    await applied();
    rmSync(join(dir.path, 'reports.yaml'));
    const r = await pyrq(['apply', '--json'], { env });
    expect(r.code).toBe(0);
    expect(r.json().applied.deleted).toEqual(['last-friday-review', 'sales-digest', 'weekly-report']);
    expect(await ids()).toEqual(
      FIXTURE_IDS.filter((id) => !['last-friday-review', 'sales-digest', 'weekly-report'].includes(id)),
    );
  });

  it('a file truncated mid-way deletes nothing and exits non-zero naming the file', async () => {
    await applied();
    const file = join(dir.path, 'maintenance.json');
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    const before = await ids();
    const r = await pyrq(['apply'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/! maintenance\.json: invalid JSON: line \d+, column \d+: unexpected end of input/);
    expect(r.stdout).toMatch(/4 held/);
    expect(await ids()).toEqual(before);
    const d = await pyrq(['diff', '--json'], { env });
    expect(d.code).toBe(1);
    expect(d.json().plan.errors[0]).toMatchObject({ source: 'files', origin: 'maintenance.json' });
  });

  it('status lists every schedule with trigger, timezone, queue, enabled, next fire time and source', async () => {
    await applied();
    const r = await pyrq(['status', '--json'], { env });
    expect(r.code).toBe(0);
    const rows = r.json().schedules as Record<string, unknown>[];
    const nightly = rows.find((x) => x.id === 'nightly-invoices')!;
    expect(nightly).toMatchObject({
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      queue: 'billing',
      enabled: true,
      source: 'files',
      origin: 'billing.toml',
    });
    expect(Date.parse(nightly.next as string)).toBeGreaterThan(Date.now());
    expect(nightly.nextRelative).toMatch(/^in /);
    expect(rows.find((x) => x.id === 'legacy-export')).toMatchObject({
      enabled: false,
      next: null,
      nextRelative: 'disabled',
    });
    const text = await pyrq(['status'], { env });
    expect(text.stdout).toMatch(/^No daemon answered at \S+; from Redis/);
    expect(text.stdout).toMatch(/^ID\s+TRIGGER\s+QUEUE\s+ENABLED\s+NEXT/m);
    // The cron expression is also read out in words (cronstrue) after the trigger.
    expect(text.stdout).toMatch(
      /nightly-invoices\s+cron "0 2 \* \* \*" \(Europe\/Berlin\): At 02:00\s+billing\s+yes\s+\S+Z\s+in /,
    );
  });
});

describe('pyrq validate', () => {
  it('accepts the shipped fixtures', async () => {
    const r = await pyrq(['validate', join(ROOT, 'fixtures', 'schedules')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok: 13 schedules in 5 files/);
  });

  it('reports every error with file, position, id and field, and exits 1', async () => {
    const bad = tmpDir();
    writeFileSync(
      join(bad.path, 'billing.toml'),
      '[[schedules]]\nid = "ok"\nfunction = "a.b"\nevery = 5\n\n[[schedules]]\nid = "x"\nfunction = "a.b"\nevery = 5\n\n[[schedules]]\nid = "nightly-invoices"\nfunction = "a.b"\ncron = "61 * * * *"\n',
    );
    const r = await pyrq(['validate', join(bad.path, 'billing.toml'), '--json']);
    bad.cleanup();
    expect(r.code).toBe(1);
    expect(r.json().errors.map((e: { text: string }) => e.text.replace(bad.path, 'DIR'))).toEqual([
      'DIR/billing.toml: schedules[2] (id "nightly-invoices"): cron: "61 * * * *": minute out of range',
    ]);
  });
});

describe('errors and help', () => {
  it('an unreachable Redis is a clear error with the password redacted', async () => {
    const r = await pyrq(['status', '--redis-url', 'redis://:s3cret-pw@127.0.0.1:1/0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0/);
    expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
    const j = await pyrq(['status', '--json', '--redis-url', 'redis://:s3cret-pw@127.0.0.1:1/0']);
    expect(j.json().error.code).toBe('REDIS_UNAVAILABLE');
    expect(j.stdout + j.stderr).not.toContain('s3cret-pw');
  });

  it('no source configured is a clear error', async () => {
    const r = await pyrq(['diff'], {
      env: { PYRQ_REDIS_URL: server.url, PYRQ_DIR: undefined, PYRQ_CONFIG: undefined },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no source is configured: pass --dir PATH/);
  });

  it('every command has --help with an example', async () => {
    const list = await pyrq(['--help']);
    const commands = [...list.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['apply', 'diff', 'status', 'validate']));
    for (const c of commands) {
      const h = await pyrq([c, '--help']);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/EXAMPLES\n\s+\S/);
    }
  });
});
