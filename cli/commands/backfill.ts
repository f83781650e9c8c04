import { createInterface } from 'node:readline/promises';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { systemClock } from '../../src/clock.js';
import { BACKFILL_CONFIRM_DEFAULT, BACKFILL_MAX } from '../../src/dispatch/backfill-plan.js';
import { type BackfillResult, planBackfillOf, runBackfill } from '../../src/dispatch/backfill.js';
import { PyrqError } from '../../src/errors.js';
import { Keys } from '../../src/redis/keys.js';
import { BaseCommand } from '../base-command.js';
import { redisFlags } from '../flags.js';
import { exitCodes } from '../help.js';
import { renderBackfillPlan } from '../render/backfill.js';

export default class Backfill extends BaseCommand<typeof Backfill> {
  static override summary = "Enqueue a schedule's occurrences of a past range.";
  static override description = `Computes the schedule's occurrences from --from to --to (both included; a time without an offset is wall time in the schedule's timezone, DST included, as the dispatcher computes them), prints them, then enqueues each with its occurrence job id, the id the dispatcher gives that occurrence. Running it twice enqueues nothing new: an occurrence whose RQ job still exists (RQ deletes a finished job after its result_ttl) is recorded as "skipped:duplicate". The schedule's overlap policy applies, occurrence after occurrence in time order (forbid: the first waits and the others are skipped; replace: each replaces the one before). Runs are recorded in the history with trigger "backfill"; the schedule's next fire time does not change. Occurrences after now are left to the dispatcher. Disabled and paused schedules can be backfilled.

Over --limit occurrences it asks on a terminal; otherwise --yes is required. It goes straight to Redis, with or without a running daemon (the fire script makes every write atomic and the job ids are the dispatcher's, so a daemon firing at the same moment never makes a second job); the control socket has the same op ("backfill").

${exitCodes({ 0: 'enqueued (or nothing to enqueue, or --dry-run)', 1: 'no such schedule, a bad --from/--to, not confirmed, more than ' + BACKFILL_MAX + ' occurrences, or any other error (a setting, Redis)' })}`;

  static override examples = [
    {
      description: 'What a day of an hourly schedule would enqueue',
      command: '<%= config.bin %> backfill erp-sync-stock --from 2026-03-29T00:00 --to 2026-03-29T23:59 --dry-run',
    },
    {
      description: 'Run it, from a script',
      command: '<%= config.bin %> backfill erp-sync-stock --from 2026-03-29T00:00 --to 2026-03-29T23:59 --yes --json',
    },
  ];

  static override args = { id: Args.string({ description: 'Schedule id.', required: true }) };
  static override flags = {
    ...redisFlags,
    from: Flags.string({
      summary: "First instant of the range (ISO 8601; no offset: the schedule's timezone).",
      required: true,
    }),
    to: Flags.string({
      summary: "Last instant of the range, included (ISO 8601; no offset: the schedule's timezone).",
      required: true,
    }),
    'dry-run': Flags.boolean({ summary: 'Print the occurrences and enqueue nothing.' }),
    limit: Flags.integer({
      summary: `Over this many occurrences, ask (or require --yes off a terminal). Default ${BACKFILL_CONFIRM_DEFAULT}.`,
      min: 0,
    }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask (required over --limit when not on a terminal).' }),
  };

  async run(): Promise<BackfillResult> {
    const cfg = this.loadSettings();
    const { args } = await this.parse(Backfill);
    const redis = await this.openRedis();
    const deps = { redis, keys: new Keys(cfg.redis.prefix), clock: systemClock, config: cfg };
    const { plan, view } = await planBackfillOf(deps, args.id, this.flags.from, this.flags.to);
    const text = !this.jsonEnabled();
    if (text) this.log(renderBackfillPlan(view).join('\n'));
    const dryRun = this.flags['dry-run'] === true;
    if (dryRun || plan.occurrences.length === 0) return { ...view, dryRun, enqueued: 0 };
    const limit = this.flags.limit ?? BACKFILL_CONFIRM_DEFAULT;
    if (plan.occurrences.length > limit && !this.flags.yes) {
      const n = plan.occurrences.length;
      if (!process.stdin.isTTY || !text)
        throw new PyrqError(
          'CONFIG_INVALID',
          `backfill of "${args.id}" would enqueue ${n} occurrences, more than --limit ${limit}: pass --yes to confirm (not on a terminal)`,
        );
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Enqueue these ${n} occurrences of "${args.id}"? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) throw new PyrqError('CONFIG_INVALID', 'not confirmed: nothing enqueued');
    }
    const enqueued = await runBackfill(deps, plan);
    if (text) {
      const skipped = plan.occurrences.length - enqueued;
      this.log(
        `Enqueued ${enqueued} of ${plan.occurrences.length} occurrence(s)${skipped > 0 ? `; ${skipped} not enqueued (already there, overlap or held: see pyrq history ${args.id})` : ''}.`,
      );
    }
    return { ...view, dryRun, enqueued };
  }
}
