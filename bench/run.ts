/**
 * `npm run bench [-- --quick] [-- --out results.json]`: pyrq's benchmark. A script, not a
 * test: it starts its own redis-server on a free port, runs every scenario with real
 * components (the `pyrq` CLI and daemon as separate processes, files on disk), prints a
 * table of figures against their targets and writes the same as JSON.
 *
 * Each figure is the median of `runs` runs (min and max printed too). `--quick` uses
 * small sizes and short windows (a smoke check for CI, under a minute; its timings mean
 * little). Exit code 0 when the bench ran, whatever the figures; 1 when it failed.
 *
 * Every scenario runs pyrq as the package ships it, the bundle, built before the first
 * scenario; `--form compiled` measures the compiled files in dist/ instead (bench/form.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeSchedules, writeScheduleFiles } from './data.js';
import { type Form, isForm, prepareForm } from './form.js';
import { type Figure, renderTable } from './report.js';
import { runCli } from './proc.js';
import { startBenchRedis } from './redis.js';
import { coldApply, noopReconcile } from './scenario-apply.js';
import { fireBurst } from './scenario-burst.js';
import { floorScenario } from './scenario-floor.js';
import { daemonScenario } from './scenario-daemon.js';
import { startupScenario } from './scenario-startup.js';
import { idleHttp } from './scenario-idle-http.js';
import { punctuality } from './scenario-punctuality.js';
import { churn } from './scenario-churn.js';
import { resyncScenario } from './scenario-resync.js';
import { memoryScenario } from './scenario-memory.js';
import { cliStartup } from './scenario-cli.js';
import { fileStorm } from './scenario-file-storm.js';
import { jitterScenario } from './scenario-jitter.js';
import { outcomesScenario } from './scenario-outcomes.js';
import { takeover } from './scenario-takeover.js';

/** `burst-http` and `idle-http`: the same with the daemon's HTTP listener on, /metrics scraped every second. */
const SCENARIOS = [
  'apply',
  'burst',
  'floor',
  'burst-http',
  'punctuality',
  'daemon',
  'startup',
  'idle-http',
  'resync',
  'churn',
  'cli',
  'memory',
  'storm',
  'jitter',
  'outcomes',
  'takeover',
] as const;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    runs: { type: 'string' },
    schedules: { type: 'string' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'storm-files': { type: 'string' },
    // The storm's floor: the same files written and removed beside the watched directory
    // (the daemon does not see them): what the machine's load alone costs the fires.
    'storm-unwatched': { type: 'boolean', default: false },
    // What every scenario measures: the bundle as shipped (default) or the compiled files (bench/form.ts).
    form: { type: 'string', default: 'bundle' },
  },
});
if (!isForm(values.form)) throw new Error(`--form: expected bundle or compiled, got ${JSON.stringify(values.form)}`);
const form: Form = values.form;

const quick = values.quick === true;
const sizes = quick
  ? // One punctuality run in --quick: each costs a daemon start and its window.
    {
      schedules: 2_000,
      burst: 1_000,
      burstPeriodS: 2,
      punctual: 100,
      windowS: 3,
      runs: 3,
      punctualRuns: 1,
      cpuWindowMs: 1_500,
      churnFiles: 2_000,
      churnS: 4,
      cliRuns: 3,
      stormFiles: 2_000,
      jitterHerd: 2_000,
      jitterS: 60,
    }
  : {
      schedules: 100_000,
      burst: 10_000,
      burstPeriodS: 10,
      punctual: 1_000,
      windowS: 30,
      runs: 3,
      punctualRuns: 3,
      cpuWindowMs: 10_000,
      churnFiles: 2_000,
      churnS: 20,
      cliRuns: 5,
      stormFiles: 100_000,
      jitterHerd: 10_000,
      jitterS: 300,
    };
if (values.schedules) sizes.schedules = Math.max(1, Number(values.schedules));
// --storm-files: a smaller storm on a busy machine (100,000 files take minutes).
if (values['storm-files']) sizes.stormFiles = Math.max(1, Number(values['storm-files']));
if (values.runs) sizes.runs = sizes.punctualRuns = sizes.cliRuns = Math.max(1, Number(values.runs));
const only = new Set((values.only ?? SCENARIOS.join(',')).split(','));

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pyrq-bench-'));
  const redis = await startBenchRedis();
  const admin = redis.client();
  const figures: Figure[] = [];
  const loadBefore = loadavg();
  log(
    `redis-server pid ${redis.pid} at ${redis.url}; work dir ${work}; load ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
  );
  try {
    prepareForm(form, log);
    const perFile = 100;
    const schedules = makeSchedules(sizes.schedules);
    const dir = join(work, 'schedules');
    const files = writeScheduleFiles(dir, schedules, perFile);
    const valid = schedules.length;
    log(`${valid} schedules in ${files.length} files (JSON, YAML, TOML in turn)`);
    const common = { redis, admin, runs: sizes.runs, log };
    if (only.has('apply')) {
      const jsonDir = join(work, 'schedules-json');
      writeScheduleFiles(jsonDir, schedules, perFile, ['json']);
      figures.push(...(await coldApply({ ...common, dir, jsonDir, files, count: valid })));
      figures.push(...(await noopReconcile({ ...common, dir, files, count: valid })));
    }
    if (only.has('burst'))
      figures.push(...(await fireBurst({ ...common, work, count: sizes.burst, periodS: sizes.burstPeriodS })));
    if (only.has('floor'))
      figures.push(...(await floorScenario({ ...common, work, count: sizes.burst, runs: Math.max(sizes.runs, 5) })));
    if (only.has('burst-http'))
      figures.push(
        ...(await fireBurst({ ...common, work, count: sizes.burst, periodS: sizes.burstPeriodS, http: true })),
      );
    if (only.has('punctuality'))
      figures.push(
        ...(await punctuality({
          ...common,
          runs: sizes.punctualRuns,
          work,
          count: sizes.punctual,
          windowS: sizes.windowS,
        })),
      );
    if (only.has('daemon')) {
      // The daemon starts on a registry that already holds the files' schedules (as after
      // an apply); the burst and punctuality scenarios replaced it with their own.
      if (!only.has('apply') || only.has('burst') || only.has('punctuality')) {
        await admin.flushall();
        const r = await runCli(['apply', '--dir', dir, '--redis-url', redis.url]);
        if (r.code !== 0) throw new Error(`apply before the daemon scenario failed: ${r.stderr.slice(-1000)}`);
      }
      figures.push(
        ...(await daemonScenario({
          ...common,
          work,
          dir,
          files,
          schedules,
          perFile,
          windowMs: sizes.cpuWindowMs,
          waitForQuiet: !quick,
        })),
      );
    }
    if (only.has('startup'))
      figures.push(
        ...(await startupScenario({
          ...common,
          work,
          dir,
          count: valid,
          // Each start waits for the first half of a minute: five starts take ~3 minutes.
          runs: quick ? 1 : Math.max(5, sizes.runs),
          waitForQuiet: !quick,
        })),
      );
    if (only.has('idle-http')) {
      // The files' schedules in the registry, as for the daemon scenario.
      if (
        only.has('burst') ||
        only.has('burst-http') ||
        only.has('punctuality') ||
        (!only.has('apply') && !only.has('daemon'))
      ) {
        await admin.flushall();
        const r = await runCli(['apply', '--dir', dir, '--redis-url', redis.url]);
        if (r.code !== 0) throw new Error(`apply before the idle-http scenario failed: ${r.stderr.slice(-1000)}`);
      }
      figures.push(
        ...(await idleHttp({ ...common, work, dir, count: valid, windowMs: sizes.cpuWindowMs, waitForQuiet: !quick })),
      );
    }
    if (only.has('resync')) {
      // A registry holding the files' schedules (the daemon's start-up applies them).
      await admin.flushall();
      figures.push(...(await resyncScenario({ redis, admin, work, dir, count: valid, runs: sizes.runs, log })));
    }
    if (only.has('churn'))
      figures.push(
        ...(await churn({ redis, admin, work, files: sizes.churnFiles, opsPerSecond: 50, seconds: sizes.churnS, log })),
      );
    if (only.has('memory')) figures.push(...(await memoryScenario({ redis, admin, dir, count: valid, log })));
    if (only.has('cli')) figures.push(...(await cliStartup({ redis, runs: sizes.cliRuns, log })));
    if (only.has('takeover'))
      figures.push(...(await takeover({ redis, work, runs: quick ? 2 : Math.max(5, sizes.runs), log })));
    if (only.has('outcomes'))
      figures.push(...(await outcomesScenario({ redis, admin, runs: sizes.runs, seconds: quick ? 5 : 20, log })));
    if (only.has('storm'))
      figures.push(
        ...(await fileStorm({
          redis,
          admin,
          work,
          files: sizes.stormFiles,
          unwatched: values['storm-unwatched'] === true,
          log,
        })),
      );
    if (only.has('jitter'))
      figures.push(
        ...(await jitterScenario({ redis, admin, work, count: sizes.jitterHerd, windowS: sizes.jitterS, log })),
      );
  } finally {
    admin.disconnect();
    await redis.close();
    // --keep: leave the work directory (schedule files, daemon logs) for a look afterwards.
    if (values.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const table = renderTable(figures);
  process.stdout.write(`\n${table}\n\n`);
  const loadAfter = loadavg();
  log(
    `done in ${((Date.now() - t0) / 1000).toFixed(0)} s; load average before ${loadBefore[0]!.toFixed(2)}, after ${loadAfter[0]!.toFixed(2)}`,
  );
  if (values.out) {
    const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadBefore, loadAfter };
    writeFileSync(
      values.out,
      `${JSON.stringify({ quick, form, sizes, startedAt: new Date(t0).toISOString(), durationS: (Date.now() - t0) / 1000, machine, figures }, null, 2)}\n`,
    );
    log(`wrote ${values.out}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
