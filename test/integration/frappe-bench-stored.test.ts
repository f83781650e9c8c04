import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 26 point 2: the Frappe bench id is part of the desired state. It is resolved when
// the source is read and stored with the schedule, so plan and status show the real queue,
// and `trigger` (like `tick`, another daemon, a standby) fires there without the flag.
describe('the Frappe bench id is stored with the schedule', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let dir: ReturnType<typeof tmpDir>;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    dir = tmpDir();
    writeFileSync(
      join(dir.path, 'frappe.json'),
      JSON.stringify({
        schedules: [
          { id: 'nightly', function: 'app.tasks.nightly', cron: '0 3 * * *', target: 'frappe', queue: 'long' },
        ],
      }),
    );
    env = {
      PYRQ_REDIS_URL: server.url,
      PYRQ_DIR: dir.path,
      PYRQ_CONFIG: undefined,
      PYRQ_FRAPPE_SITE: 'site1.local',
      PYRQ_FRAPPE_BENCH_ID: undefined,
      PYRQ_MYSQL_URL: undefined,
      PYRQ_POSTGRES_URL: undefined,
      PYRQ_SOCKET: join(dir.path, 'no-daemon.sock'),
    };
  });
  afterAll(async () => {
    await server?.close();
    dir?.cleanup();
  });

  it('apply --frappe-bench-id benchx, then trigger with no flag enqueues on benchx:long', async () => {
    await redis.flushall();
    const applied = await pyrq(['apply', '--frappe-bench-id', 'benchx'], { env });
    expect(applied.code, applied.stderr).toBe(0);

    const status = await pyrq(['status', 'nightly', '--no-daemon', '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().schedules[0]).toMatchObject({ id: 'nightly', queue: 'benchx:long' });

    const t = await pyrq(['trigger', 'nightly', '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    const job = t.json();
    expect(await redis.lrange('rq:queue:benchx:long', 0, -1)).toContain(job.jobId);
    expect(await redis.exists('rq:queue:long')).toBe(0);
  });

  it('changing the bench id is a plan change like any other', async () => {
    // Its own applied state (tests run in any order): the schedule stored with benchx.
    await redis.flushall();
    expect((await pyrq(['apply', '--frappe-bench-id', 'benchx'], { env })).code).toBe(0);
    const plan = await pyrq(['diff', '--frappe-bench-id', 'benchy'], { env });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/~ update nightly/);
    expect(plan.stdout).toMatch(/benchx:long/);
    expect(plan.stdout).toMatch(/benchy:long/);
    // The same bench id: nothing to do.
    expect((await pyrq(['diff', '--frappe-bench-id', 'benchx'], { env })).code).toBe(0);
  });
});
