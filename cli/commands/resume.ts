import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PyrqError } from '../../src/errors.js';
import { type ResumeOutcome, resumeSchedules } from '../../src/registry/pauses.js';
import { Keys } from '../../src/redis/keys.js';
import { BaseCommand } from '../base-command.js';
import { exitCodes } from '../help.js';
import { redisFlags } from '../flags.js';

export default class Resume extends BaseCommand<typeof Resume> {
  static override summary = 'Resume paused schedules from their next occurrence.';
  static override description = `Removes the pause "pyrq pause" set. The schedule continues from its next occurrence; the occurrences that fell due while it was paused stay recorded as "skipped:paused" and are not run ("pyrq trigger ID" runs one now). With --catchup, the schedule's catch-up policy decides about them instead (catchup "all" runs each, "latest" the newest, "skip" those within the grace period), as after downtime. Works with or without a running daemon.

${exitCodes({ 0: 'resumed (also when an id was not paused: it is reported)', 1: 'any other error (a setting, Redis)' })}`;

  static override examples = [
    { description: 'Resume one schedule', command: '<%= config.bin %> resume nightly-invoices' },
    { description: 'Resume everything that is paused', command: '<%= config.bin %> resume --all' },
    { description: 'Resume, running what was missed by policy', command: '<%= config.bin %> resume sync --catchup' },
  ];

  static override strict = false;
  static override args = { ids: Args.string({ description: 'Schedule ids.' }) };
  static override flags = {
    ...redisFlags,
    all: Flags.boolean({ summary: 'Every paused schedule.' }),
    catchup: Flags.boolean({
      summary: "Handle the occurrences missed while paused by the schedule's catch-up policy.",
    }),
  };

  async run(): Promise<ResumeOutcome> {
    const cfg = this.loadSettings();
    const { argv } = await this.parse(Resume);
    const ids = argv as string[];
    if (this.flags.all === ids.length > 0)
      throw new PyrqError('CONFIG_INVALID', 'name the schedules to resume, or pass --all (not both)');
    const redis = await this.openRedis();
    const r = await resumeSchedules(redis, new Keys(cfg.redis.prefix), this.flags.all ? 'all' : ids, {
      catchup: this.flags.catchup,
      historyLength: cfg.dispatch.historyLength,
    });
    if (!this.jsonEnabled()) {
      for (const id of r.resumed) this.log(`resumed ${id}`);
      for (const id of r.notPaused) this.log(`${id} was not paused`);
    }
    return r;
  }
}
