import * as Args from '@oclif/core/args';
import { systemClock } from '../../src/clock.js';
import { type ManualRunResult, manualRun } from '../../src/dispatch/manual-run.js';
import { Keys } from '../../src/redis/keys.js';
import { BaseCommand } from '../base-command.js';
import { redisFlags } from '../flags.js';
import { exitCodes } from '../help.js';

export default class Trigger extends BaseCommand<typeof Trigger> {
  static override summary = 'Enqueue one run of a schedule now, outside its schedule.';
  static override description = `Enqueues the schedule's job right away, exactly as a scheduled occurrence would be (same function, arguments, queue and target), with a job id of its own. The run is recorded in the history as "manual"; the schedule's next fire time does not change. Disabled and finished schedules can be triggered too; an overlap "forbid" schedule treats the manual job as its previous job.

${exitCodes({ 0: 'enqueued', 1: 'no such schedule, or any other error (a setting, Redis)' })}`;

  static override examples = [
    { description: 'Run the nightly invoices now', command: '<%= config.bin %> trigger nightly-invoices' },
    { description: 'Machine-readable, to follow the job', command: '<%= config.bin %> trigger erp-sync-stock --json' },
  ];

  static override args = { id: Args.string({ description: 'Schedule id.', required: true }) };
  static override flags = { ...redisFlags };

  async run(): Promise<ManualRunResult> {
    const cfg = this.loadSettings();
    const { args } = await this.parse(Trigger);
    const redis = await this.openRedis();
    const r = await manualRun({ redis, keys: new Keys(cfg.redis.prefix), clock: systemClock, config: cfg }, args.id);
    if (!this.jsonEnabled()) this.log(`Enqueued ${r.jobId} on queue ${r.queue} (${r.function}) at ${r.enqueuedAt}.`);
    return r;
  }
}
