import { scheduleNotFound } from '../../src/registry/not-found.js';
import * as Args from '@oclif/core/args';
import { type HistoryRow, readHistory } from '../../src/dispatch/history.js';
import { SETTINGS } from '../../src/config/settings.js';
import { readPauses } from '../../src/registry/pauses.js';
import { Registry } from '../../src/registry/registry.js';
import { BaseCommand } from '../base-command.js';
import { countFlag, redisFlags } from '../flags.js';
import { renderHistory } from '../render/history.js';
import { exitCodes } from '../help.js';
import { statusRow, type StatusRow } from '../../src/status/status-view.js';
import { healthText, jobText } from '../render/status.js';

export default class History extends BaseCommand<typeof History> {
  static override summary = "Show a schedule's last runs, with each job's current status in RQ.";
  static override description = `Per run, newest first: the occurrence, when it was handled, how late, whether it was scheduled, manual or backfill, the outcome (enqueued, with "replaced <job id>" under overlap replace; buffered; skipped:missed, skipped:deadline, skipped:overlap, skipped:duplicate, skipped:paused, skipped:limit) and the RQ job with its status now (queued, started, finished, failed, ...; "expired" once RQ has deleted the job after its result or failure TTL) and its result as the daemon's outcome reader recorded it (finished, failed with the exception, stopped, canceled, unknown; with its run time), which outlives RQ's TTLs. A first line says whether the schedule is failing or overdue (docs/observability.md). The registry keeps the last dispatch.historyLength runs (default ${SETTINGS['dispatch.historyLength'].default}).

${exitCodes({ 0: 'shown (also when no run is recorded yet)', 1: 'no such schedule, or any other error (a setting, Redis)' })}`;

  static override examples = [
    { description: 'The runs of one schedule', command: '<%= config.bin %> history nightly-invoices' },
    { description: 'The last 5, as JSON', command: '<%= config.bin %> history heartbeat -n 5 --json' },
  ];

  static override args = { id: Args.string({ description: 'Schedule id.', required: true }) };
  static override flags = {
    ...redisFlags,
    // --limit was this flag's name before -n meant "how many" on every command.
    count: countFlag('How many runs, newest first.', 50, { aliases: ['limit'] }),
  };

  async run(): Promise<{
    id: string;
    runs: HistoryRow[];
    paused?: { since: string; reason: string | null };
    health?: Pick<
      StatusRow,
      'jobOutcome' | 'jobDurationMs' | 'failure' | 'lastSuccess' | 'consecutiveFailures' | 'failing' | 'overdue'
    >;
  }> {
    const cfg = this.loadSettings();
    const { args } = await this.parse(History);
    const redis = await this.openRedis();
    const registry = new Registry(redis, cfg.redis.prefix);
    const runs = await readHistory(redis, registry.keys, args.id, this.flags.count, cfg.dispatch.historyLength);
    if (runs.length === 0 && !(await registry.has(args.id))) {
      throw await scheduleNotFound(registry, [args.id]);
    }
    const pause = (await readPauses(redis, registry.keys, [args.id])).get(args.id);
    const paused = pause ? { since: new Date(pause.since).toISOString(), reason: pause.reason ?? null } : undefined;
    const [entry] = await registry.readEntries([args.id]);
    const row = entry ? statusRow(entry, Date.now(), pause) : undefined;
    const health = row && {
      jobOutcome: row.jobOutcome,
      jobDurationMs: row.jobDurationMs,
      failure: row.failure,
      lastSuccess: row.lastSuccess,
      consecutiveFailures: row.consecutiveFailures,
      failing: row.failing,
      overdue: row.overdue,
    };
    if (!this.jsonEnabled()) {
      if (paused)
        this.log(
          `Paused since ${paused.since}${paused.reason ? ` (${paused.reason})` : ''}: due occurrences are recorded as skipped:paused ("pyrq resume ${args.id}" ends it).`,
        );
      if (row)
        this.log(
          `Health: ${healthText(row)}; last job ${jobText(row)}; last success ${row.lastSuccess ?? 'never'}${row.failure ? `; last failure: ${row.failure}` : ''}`,
        );
      this.log(renderHistory(args.id, runs).join('\n'));
    }
    return { id: args.id, runs, ...(paused ? { paused } : {}), ...(health ? { health } : {}) };
  }
}
