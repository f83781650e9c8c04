import { scheduleNotFound } from '../../src/registry/not-found.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { SETTINGS } from '../../src/config/settings.js';
import { PyrqError } from '../../src/errors.js';
import { parseTimestamp } from '../../src/model/datetime.js';
import { cronProblem, normalizeCron } from '../../src/model/cron.js';
import { timezoneHint } from '../../src/model/suggest.js';
import { isValidTimezone } from '../../src/model/timezone.js';
import { describeCron } from '../../src/schedule/describe-cron.js';
import { describeTrigger, isOneShot } from '../../src/schedule/triggers/index.js';
import type { TriggerSpec } from '../../src/schedule/next-fire.js';
import { fireTimes } from '../../src/schedule/next-times.js';
import { BaseCommand } from '../base-command.js';
import { countFlag, redisFlags } from '../flags.js';
import { type NextResult, renderNext } from '../render/next.js';
import { exitCodes } from '../help.js';

export default class Next extends BaseCommand<typeof Next> {
  static override summary = 'Show the next fire times of a schedule, or of a cron expression.';
  static override description = `With a schedule id, reads its trigger from the registry; with --cron, evaluates an expression without touching anything (Redis is not needed). Times are shown in UTC and as wall time in the timezone, so DST changes are visible: a fixed time inside a spring-forward gap fires at the first valid instant, one inside a repeated fall-back hour fires once.

${exitCodes({ 0: 'shown', 1: 'no such schedule, an invalid --cron, --tz or --from, or any other error (a setting, Redis)' })}`;

  static override examples = [
    { description: 'The next 5 runs of a schedule', command: '<%= config.bin %> next nightly-invoices' },
    {
      description: 'Try an expression across a DST change',
      command: '<%= config.bin %> next --cron "30 2 * * *" --tz America/New_York --from 2026-03-06T00:00:00Z -n 4',
    },
    { description: 'As JSON', command: '<%= config.bin %> next weekly-report -n 10 --json' },
  ];

  static override args = { id: Args.string({ description: 'Schedule id (or use --cron).' }) };
  static override flags = {
    ...redisFlags,
    cron: Flags.string({ summary: 'A cron expression to evaluate instead of a schedule.' }),
    tz: Flags.string({
      summary: `[default: the timezone setting (${SETTINGS.timezone.env}), else ${SETTINGS.timezone.default}] Timezone for --cron (IANA name).`,
    }),
    count: countFlag('How many fire times.', 5, { max: 1000 }),
    from: Flags.string({ summary: '[default: now] Start from this time (ISO 8601).' }),
  };

  async run(): Promise<NextResult> {
    const cfg = this.loadSettings();
    const { args } = await this.parse(Next);
    let from = Date.now();
    if (this.flags.from !== undefined) {
      const t = parseTimestamp(this.flags.from, cfg.timezone);
      if (typeof t !== 'number') throw new PyrqError('CONFIG_INVALID', `--from: ${t.reason}`);
      from = t;
    }
    let result: NextResult;
    if (this.flags.cron !== undefined && args.id !== undefined)
      throw new PyrqError('CONFIG_INVALID', 'give either a schedule id or --cron, not both');
    if (this.flags.cron !== undefined) {
      const timezone = this.flags.tz ?? cfg.timezone;
      if (!isValidTimezone(timezone))
        throw new PyrqError(
          'CONFIG_INVALID',
          `--tz: unknown timezone ${JSON.stringify(timezone)} (${timezoneHint(timezone)})`,
        );
      const cron = normalizeCron(this.flags.cron);
      const problem = cronProblem(cron);
      if (problem) throw new PyrqError('CONFIG_INVALID', `--cron ${JSON.stringify(this.flags.cron)}: ${problem}`);
      const spec: TriggerSpec = { cron, timezone, enabled: true };
      result = {
        trigger: describeTrigger(spec),
        cronText: describeCron(cron),
        timezone,
        times: fireTimes(spec, from, this.flags.count),
      };
    } else {
      if (args.id === undefined) throw new PyrqError('CONFIG_INVALID', 'give a schedule id, or --cron EXPR');
      const registry = await this.openRegistry();
      const [entry] = await registry.readEntries([args.id]);
      if (!entry) throw await scheduleNotFound(registry, [args.id]);
      if (!entry.spec)
        throw new PyrqError('NOT_FOUND', `schedule "${args.id}" has an unreadable spec (run apply --deep to repair)`);
      const s = entry.spec;
      const fired = Number(entry.state.fired ?? 0);
      const note = !s.enabled
        ? 'disabled: it never fires'
        : entry.state.done === '1'
          ? s.times !== undefined && !isOneShot(s)
            ? `done: ${fired} of ${s.times} runs fired (times)`
            : 'done: the one-shot has fired'
          : undefined;
      // `times`: only the runs left are listed.
      const count = s.times === undefined ? this.flags.count : Math.min(this.flags.count, Math.max(s.times - fired, 0));
      result = {
        id: args.id,
        trigger: describeTrigger(s),
        ...(s.cron !== undefined ? { cronText: describeCron(s.cron) } : {}),
        timezone: s.timezone,
        overlap: s.overlap,
        stored: entry.next === null ? null : new Date(entry.next).toISOString().replace('.000Z', 'Z'),
        times: note ? [] : fireTimes(s, from, count),
      };
      if (note) result.note = note;
    }
    if (!this.jsonEnabled()) this.log(renderNext(result).join('\n'));
    return result;
  }
}
