import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PyrqError } from '../../src/errors.js';
import { type PauseOutcome, pauseSchedules } from '../../src/registry/pauses.js';
import { Keys } from '../../src/redis/keys.js';
import { BaseCommand } from '../base-command.js';
import { exitCodes } from '../help.js';
import { redisFlags } from '../flags.js';

export default class Pause extends BaseCommand<typeof Pause> {
  static override summary = 'Pause schedules: their due occurrences are recorded as skipped.';
  static override description = `A pause is an override kept in Redis, not an edit of the schedule's source: it survives reconciles, deep re-syncs, updates of the schedule and daemon restarts, and it goes away when the schedule is deleted. Works with or without a running daemon (the daemon's dispatcher sees it at its next fire).

While paused, every due occurrence is recorded in the history as "skipped:paused" and the next fire time moves on; "pyrq resume" continues from the next occurrence (the ones missed while paused are not run; "pyrq trigger ID" runs one now). "pyrq status", "diff" and "history" show the pause, since when and why.

Pausing a schedule that is paused already keeps its first pause and reason.

${exitCodes({ 0: 'paused', 1: 'some id is not in the registry (the others were paused), or any other error (a setting, Redis)' })}`;

  static override examples = [
    {
      description: 'Pause one schedule, saying why',
      command: '<%= config.bin %> pause nightly-invoices --reason "billing migration"',
    },
    { description: 'Pause everything', command: '<%= config.bin %> pause --all --reason "maintenance window"' },
  ];

  static override strict = false;
  static override args = { ids: Args.string({ description: 'Schedule ids.' }) };
  static override flags = {
    ...redisFlags,
    all: Flags.boolean({ summary: 'Every schedule in the registry.' }),
    reason: Flags.string({ summary: 'Why (shown by status, diff and history).' }),
  };

  async run(): Promise<PauseOutcome> {
    const cfg = this.loadSettings();
    const { argv } = await this.parse(Pause);
    const ids = argv as string[];
    if (this.flags.all === ids.length > 0)
      throw new PyrqError('CONFIG_INVALID', 'name the schedules to pause, or pass --all (not both)');
    const redis = await this.openRedis();
    const r = await pauseSchedules(redis, new Keys(cfg.redis.prefix), this.flags.all ? 'all' : ids, {
      now: Date.now(),
      reason: this.flags.reason,
    });
    if (!this.jsonEnabled()) {
      for (const id of r.paused) this.log(`paused ${id}`);
      for (const id of r.already) this.log(`${id} was paused already (its first pause is kept)`);
      for (const id of r.missing) this.logToStderr(`Error: no schedule "${id}" in the registry (see pyrq status)`);
    }
    if (r.missing.length > 0) process.exitCode = 1;
    return r;
  }
}
