import { Flags } from '@oclif/core';
import { ManualClock, systemClock } from '../../src/clock.js';
import { Dispatcher, type TickResult } from '../../src/dispatch/dispatcher.js';
import { PyrqError } from '../../src/errors.js';
import { parseTimestamp } from '../../src/model/datetime.js';
import { Keys } from '../../src/redis/keys.js';
import { BaseCommand } from '../base-command.js';

/** Lines printed per schedule before the rest is summarised. */
const MAX_LINES = 50;

export default class Tick extends BaseCommand<typeof Tick> {
  static override summary = 'Fire every schedule that is due, once, and exit.';
  static override description = `Does one round of what the daemon's dispatcher does continuously: every due occurrence becomes an RQ job (or is recorded as skipped by its catch-up or overlap policy), and each schedule's next fire time moves on. For cron-driven setups (run it every minute from cron or a systemd timer) and for tests and demos.

Safe to run beside a daemon or another tick: each occurrence is enqueued exactly once (a compare-and-set on the stored next fire time), whoever gets there first.

--at fires as of another time, e.g. to try a schedule out: occurrences up to that time are treated as due, and jobs are stamped with it. Exit code 1 when some due schedule could not be read (the others were fired).`;

  static override examples = [
    { description: 'Fire what is due now', command: '<%= config.bin %> tick' },
    { description: 'Fire as of a given time (demos, tests)', command: '<%= config.bin %> tick --at 2026-06-01T08:00:00Z --json' },
    { description: 'From cron, every minute', command: '* * * * * <%= config.bin %> tick --config /etc/pyrq/pyrq.toml' },
  ];

  static override flags = {
    at: Flags.string({ summary: 'Fire as of this time (ISO 8601; without an offset: the configured timezone) instead of now.' }),
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
    const dispatcher = new Dispatcher({ redis, keys: new Keys(cfg.redis.prefix), clock, logger: this.log_(), config: cfg });
    const r = await dispatcher.tickOnce();
    if (r.problems.length > 0) process.exitCode = 1;
    if (!this.jsonEnabled()) this.log(render(r).join('\n'));
    return { ...r, now: new Date(r.now).toISOString() };
  }
}

function render(r: TickResult): string[] {
  const when = new Date(r.now).toISOString();
  const lines: string[] = [];
  for (const p of r.problems) lines.push(`! ${p.id}: ${p.message}`);
  if (r.schedules.length === 0) return [...lines, `Nothing due at ${when}.`];
  for (const s of r.schedules.slice(0, MAX_LINES)) {
    if (s.result === 'not-due') lines.push(`  ${s.id}: already fired by another dispatcher`);
    else lines.push(`  ${s.id}: ${s.enqueued} enqueued${s.skipped ? `, ${s.skipped} skipped` : ''}${s.enqueued > 0 && s.enqueued === s.jobIds.length ? `  ${s.jobIds.join(' ')}` : ''}`);
  }
  if (r.schedules.length > MAX_LINES) lines.push(`  ... and ${r.schedules.length - MAX_LINES} more schedules`);
  lines.push(`Fired at ${when}: ${r.enqueued} job(s) enqueued, ${r.skipped} occurrence(s) skipped, ${r.schedules.length} schedule(s), ${r.durationMs} ms. See "pyrq history ID".`);
  return lines;
}
