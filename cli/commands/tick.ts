import { Flags } from '@oclif/core';
import { ManualClock, systemClock } from '../../src/clock.js';
import { Dispatcher, type TickResult } from '../../reconcilers/dispatcher.js';
import { PyrqError } from '../../src/errors.js';
import { parseTimestamp } from '../../src/model/datetime.js';
import { Keys } from '../../src/redis/keys.js';
import { BaseCommand } from '../base-command.js';
import { redisFlags } from '../flags.js';
import { renderTick } from '../render/tick.js';

export default class Tick extends BaseCommand<typeof Tick> {
  static override summary = 'Fire every schedule that is due, once, and exit.';
  static override description = `Does one round of what the daemon's dispatcher does continuously: every due occurrence becomes an RQ job (or is recorded as skipped by its catch-up or overlap policy), and each schedule's next fire time moves on. For cron-driven setups (run it every minute from cron or a systemd timer) and for tests and demos.

Safe to run beside a daemon or another tick: each occurrence is enqueued exactly once (a compare-and-set on the stored next fire time), whoever gets there first.

--at fires as of another time, e.g. to try a schedule out: occurrences up to that time are treated as due, and jobs are stamped with it.

Exit codes: 0 fired (or nothing due); 1 some due schedule could not be read (the others were fired), or any other error (--at, a setting, Redis).`;

  static override examples = [
    { description: 'Fire what is due now', command: '<%= config.bin %> tick' },
    { description: 'Fire as of a given time (demos, tests)', command: '<%= config.bin %> tick --at 2026-06-01T08:00:00Z --json' },
    { description: 'From cron, every minute', command: '* * * * * <%= config.bin %> tick --config /etc/pyrq/pyrq.toml' },
  ];

  static override flags = {
    ...redisFlags,
    at: Flags.string({ summary: '[default: now] Fire as of this time (ISO 8601; without an offset: the configured timezone).' }),
  };

  async run(): Promise<Omit<TickResult, 'now'> & { now: string }> {
    const cfg = this.loadSettings();
    let clock = systemClock;
    if (this.flags.at !== undefined) {
      const t = parseTimestamp(this.flags.at, cfg.timezone);
      if (typeof t !== 'number') throw new PyrqError('CONFIG_INVALID', `--at: ${t.reason}`);
      clock = new ManualClock(t);
    }
    const redis = await this.openRedis();
    // Without --at, fires go by Redis's clock (as the daemon's do); --at is the time given.
    const dispatcher = new Dispatcher({ redis, keys: new Keys(cfg.redis.prefix), clock, logger: await this.log_(), config: cfg, redisClock: this.flags.at === undefined });
    const r = await dispatcher.tickOnce();
    if (r.problems.length > 0) process.exitCode = 1;
    if (!this.jsonEnabled()) this.log(renderTick(r).join('\n'));
    return { ...r, now: new Date(r.now).toISOString() };
  }
}
