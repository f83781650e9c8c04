/**
 * `npm run demo`: the whole pipeline on this machine in under a minute, touching nothing
 * shared. A private redis-server on a free port; the shipped fixtures plus two fast demo
 * schedules (one plain RQ, one Frappe target) applied; the dispatcher firing for some
 * seconds; a real `rq worker --burst` running the jobs; then what ran and when.
 *
 * Needs redis-server, and Debian's python3-rq for the worker (`/usr/bin/rq`; set
 * PYRQ_DEMO_RQ to use another). Frappe jobs run through the test-only fake `frappe`
 * package in fixtures/python, which records the call and runs the method.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { systemClock } from '../src/clock.js';
import type { Config } from '../src/config/config.js';
import { Dispatcher } from '../reconcilers/dispatcher.js';
import type { Logger } from '../src/log.js';
import { DEFAULT_CONTEXT } from '../src/model/normalize.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { Keys } from '../src/redis/keys.js';
import { Registry } from '../src/registry/registry.js';
import { parseJobId } from '../src/rq/job-id.js';
import { reconcileOnce } from '../reconcilers/reconcile-once.js';
import { FileSource } from '../sources/files/file-source.js';
import { freePort, launchRedisServer, stopRedisServer } from './private-redis.js';

const SECONDS = Number(process.env.PYRQ_DEMO_SECONDS ?? 12);
const REDIS_SERVER = process.env.PYRQ_DEMO_REDIS_SERVER ?? 'redis-server';
const RQ = process.env.PYRQ_DEMO_RQ ?? '/usr/bin/rq';
const BENCH = 'demo-bench';

const FAST_SCHEDULES = `# Added by the demo: two fast schedules, one per target.
- id: demo-echo
  description: Plain RQ job every 2 seconds
  function: pyrq_fixtures.tasks.echo
  every: 2s
  args: [hello]
  kwargs: { from: pyrq-demo }
  catchup: skip
- id: demo-frappe
  description: Frappe-target job every 3 seconds, through execute_job
  target: frappe
  site: demo.localhost
  function: pyrq_fixtures.erp.sync_stock
  every: 3s
  queue: short
  kwargs: { warehouse: Demo Stores }
  catchup: skip
`;

/** The logger the dispatcher gets: prints each fire, ignores the rest. */
function demoLogger(t0: number): Logger {
  const logger = {
    info(obj: Record<string, unknown>, msg?: string) {
      if (msg === 'fired')
        console.log(
          `  +${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  fired ${String(obj.now)}: ${String(obj.enqueued)} job(s) enqueued, ${String(obj.skipped)} skipped`,
        );
    },
    warn: () => undefined,
    error: (obj: unknown, msg?: string) => console.error(`  ! ${msg ?? ''}`, obj),
    debug: () => undefined,
    child: () => logger,
  };
  return logger as unknown as Logger;
}

interface Call {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  job_id: string | null;
  ran_at: number;
}

async function main(): Promise<void> {
  if (!existsSync(RQ))
    throw new Error(`${RQ} not found: install python3-rq (apt-get install python3-rq) or set PYRQ_DEMO_RQ`);
  const work = mkdtempSync(join(tmpdir(), 'pyrq-demo-'));
  const schedules = join(work, 'schedules');
  const out = join(work, 'ran');
  cpSync(join(PACKAGE_ROOT, 'fixtures', 'schedules'), schedules, { recursive: true });
  writeFileSync(join(schedules, 'demo-fast.yaml'), FAST_SCHEDULES);

  const port = await freePort();
  const server = (await launchRedisServer(REDIS_SERVER, port)).proc;
  const url = `redis://127.0.0.1:${port}`;
  const redis = new Redis(url);
  try {
    console.log(`Private redis-server on ${url} (data in memory only).`);
    const applied = await reconcileOnce({
      sources: [new FileSource({ dir: schedules, ctx: DEFAULT_CONTEXT })],
      registry: new Registry(redis),
      clock: systemClock,
    });
    console.log(
      `Applied fixtures/schedules + demo-fast.yaml: ${applied.applied!.created.length} schedules (pyrq apply --dir ...).`,
    );

    console.log(`Dispatching for ${SECONDS} s (what pyrq daemon does while it is the leader):`);
    const config: Pick<Config, 'dispatch' | 'frappe'> = {
      dispatch: { catchup: 'latest', overlap: 'allow', historyLength: 50, batchSize: 1000, graceMs: 5_000 },
      frappe: { benchId: BENCH, user: 'Administrator' },
    };
    const t0 = Date.now();
    const dispatcher = new Dispatcher({ redis, keys: new Keys(), clock: systemClock, logger: demoLogger(t0), config });
    await dispatcher.start();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    await dispatcher.stop();

    const queues = (await redis.smembers('rq:queues')).map((k) => k.slice('rq:queue:'.length)).sort();
    console.log(`\nRunning ${RQ} worker --burst ${queues.join(' ')}`);
    await new Promise<void>((resolve, reject) => {
      execFile(
        RQ,
        ['worker', '--burst', '--url', url, '--quiet', ...queues],
        {
          env: { ...process.env, PYTHONPATH: join(PACKAGE_ROOT, 'fixtures', 'python'), PYRQ_FIXTURE_OUT: out },
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, _stdout, stderr) => (err ? reject(new Error(`rq worker failed: ${err.message}\n${stderr}`)) : resolve()),
      );
    });

    const calls: Call[] = existsSync(out)
      ? readdirSync(out)
          .filter((n) => n.endsWith('.json'))
          .map((n) => JSON.parse(readFileSync(join(out, n), 'utf8')) as Call)
          .sort((a, b) => a.ran_at - b.ran_at)
      : [];
    console.log(`\nWhat ran (${calls.length} Python calls recorded by the fixture tasks):`);
    console.log(`  ${'RAN AT (UTC)'.padEnd(24)}  ${'SCHEDULE'.padEnd(16)}  ${'OCCURRENCE'.padEnd(20)}  CALL`);
    for (const c of calls) {
      const job = c.job_id ? parseJobId(c.job_id) : null;
      const call = `${c.task}(${[...c.args.map((a) => JSON.stringify(a)), ...Object.entries(c.kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`)].join(', ')})`;
      console.log(
        `  ${new Date(c.ran_at * 1000).toISOString().padEnd(24)}  ${(job?.scheduleId ?? '?').padEnd(16)}  ${(job ? new Date(job.time).toISOString().slice(0, 19) + 'Z' : '?').padEnd(20)}  ${call.length > 110 ? `${call.slice(0, 107)}...` : call}`,
      );
    }
    const failed = (await Promise.all(queues.map((q) => redis.zcard(`rq:failed:${q}`)))).reduce((a, b) => a + b, 0);
    console.log(
      `\n${failed === 0 ? 'No failed jobs.' : `${failed} failed job(s): see rq info --url ${url}`} Frappe jobs ran through the fake frappe package in fixtures/python (queues ${BENCH}:*).`,
    );
    console.log('Next: "pyrq history demo-echo", "pyrq status", "pyrq next --cron ..." against your own Redis.');
  } finally {
    redis.disconnect();
    await stopRedisServer(server, true);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exitCode = 1;
});
