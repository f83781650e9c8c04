import { existsSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { request } from '../../src/control/client.js';
import type { StatusReport } from '../../src/status/registry-status.js';
import { markClockWarnings } from '../../src/status/daemon-clocks.js';
import { notFoundAmong, scheduleNotFound } from '../../src/registry/not-found.js';
import { BaseCommand } from '../base-command.js';
import { redisFlags, socketFlags } from '../flags.js';
import { renderStatusReport } from '../render/status.js';
import { exitCodes } from '../help.js';

/** How long to wait for a daemon before reading Redis instead. */
const DAEMON_WAIT_MS = 3000;

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the schedules, their next and last runs, source status and the leader.';
  static override description = `Asks the running daemon over its socket when one answers (daemon, leader, source status, last reconcile and its errors, every schedule), and otherwise reads the same from Redis (source status as the daemon, or the last pyrq apply, recorded it).

Each daemon's clock offset from Redis (recorded every 30 s by every daemon), with a warning beyond daemon.clockOffsetWarn: fires go by Redis's clock either way, but a machine whose clock is off should be fixed.

Per schedule: id, trigger, timezone, queue, enabled, next fire time (absolute and relative), last run and its outcome and lateness, and the source that owns it.

Lines fit the terminal (COLUMNS, else the terminal's width): the table then shows the columns that matter, cut with "…". --wide, or output that is not a terminal with COLUMNS unset, shows every column in full.

${exitCodes({ 0: 'shown', 1: 'an id given is not in the registry (NOT_FOUND), neither the daemon nor Redis could be read, or a setting is invalid' })}`;

  static override examples = [
    { description: 'Everything', command: '<%= config.bin %> status' },
    {
      description: 'Some schedules, as JSON, straight from Redis',
      command: '<%= config.bin %> status nightly-invoices weekly-report --no-daemon --json',
    },
  ];

  static override strict = false;
  static override args = { ids: Args.string({ description: 'Only these schedule ids.' }) };
  static override flags = {
    ...redisFlags,
    ...socketFlags,
    'no-daemon': Flags.boolean({ summary: 'Do not ask the daemon; read Redis only.' }),
    wide: Flags.boolean({ summary: 'Every column in full, whatever the terminal width.' }),
  };

  async run(): Promise<StatusReport> {
    const cfg = this.loadSettings();
    const { argv } = await this.parse(Status);
    const ids = (argv as string[]).length > 0 ? (argv as string[]) : undefined;
    let report: StatusReport | undefined;
    let known: string[] | undefined; // every id, when the daemon answered (for "did you mean")
    if (!this.flags['no-daemon'] && existsSync(cfg.daemon.socket)) {
      const reply = await request(cfg.daemon.socket, { op: 'status' }, DAEMON_WAIT_MS).catch(() => undefined);
      if (reply?.ok) {
        const r = reply.result as Omit<StatusReport, 'via' | 'leader'> & { daemon: { currentLeader: string | null } };
        report = {
          via: 'daemon',
          ...r,
          leader: r.daemon.currentLeader,
          schedules: ids ? r.schedules.filter((s) => ids.includes(s.id)) : r.schedules,
        };
        known = r.schedules.map((s) => s.id);
      }
    }
    if (!report) {
      // Only without a daemon: Redis (ioredis, the registry) is loaded then (start-up time).
      // One connection for both; it is opened while the status modules load.
      const [{ statusFromRedis }, redis, registry] = await Promise.all([
        import('../../src/status/registry-status.js'),
        this.openRedis(),
        this.openRegistry(),
      ]);
      report = {
        ...(await statusFromRedis(redis, registry, Date.now(), ids)),
        ...(this.flags['no-daemon'] ? {} : { asked: cfg.daemon.socket }),
      };
    }
    report.clocks = markClockWarnings(report.clocks ?? [], cfg.daemon.clockOffsetWarnMs);
    // No width to fit (--wide, or not a terminal and no COLUMNS): every column in full.
    const width = this.flags.wide ? Infinity : terminalWidth();
    const missing = (ids ?? []).filter((id) => !report.schedules.some((s) => s.id === id));
    if (missing.length > 0)
      throw known ? notFoundAmong(missing, known) : await scheduleNotFound(await this.openRegistry(), missing);
    if (!this.jsonEnabled())
      this.log(renderStatusReport(report, Date.now(), { width, wide: width === Infinity }).join('\n'));
    return report;
  }
}

/** COLUMNS when set, else the terminal's width; no limit when the output is not a terminal. */
function terminalWidth(): number {
  const columns = Number(process.env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return columns;
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Infinity;
}
