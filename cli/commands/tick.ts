import * as Flags from '@oclif/core/flags';
import { ManualClock, systemClock } from '../../src/clock.js';
import { Dispatcher, type TickResult } from '../../reconcilers/dispatcher.js';
import { PyrqError } from '../../src/errors.js';
import { parseTimestamp } from '../../src/model/datetime.js';
import { Keys } from '../../src/redis/keys.js';
import { reconcileOnce } from '../../reconcilers/reconcile-once.js';
import { sourcesFromConfig } from '../../reconcilers/sources-from-config.js';
import { Registry } from '../../src/registry/registry.js';
import { readLeaseHolder } from '../../src/redis/commands/lease.js';
import { BaseCommand } from '../base-command.js';
import { frappeFlags, redisFlags, sourceFlags } from '../flags.js';
import { renderTick } from '../render/tick.js';
import { exitCodes } from '../help.js';
import { ownerCheck } from '../owner-guard.js';

export default class Tick extends BaseCommand<typeof Tick> {
  static override summary = 'Fire every schedule that is due, once, and exit.';
  static override description = `Does one round of what the daemon's dispatcher does continuously: every due occurrence becomes an RQ job (or is recorded as skipped by its catch-up or overlap policy), and each schedule's next fire time moves on. For cron-driven setups (run it every minute from cron or a systemd timer) and for tests and demos.

Before firing, tick reconciles the configured sources (--dir, --mysql-url, --postgres-url or the config file) as "pyrq apply" does, so a schedule deleted or changed since the last apply never fires in its old form. With no source configured it fires the registry as it stands, and says so on stderr unless a daemon holds the lease (the daemon keeps the registry in step with its sources).

Safe to run beside a daemon or another tick: each occurrence is enqueued exactly once (a compare-and-set on the stored next fire time), whoever gets there first.

--at later than now is a dry run: it prints what would fire as of that time and writes nothing (firing it would move each schedule's next fire time past it, silencing the schedule until then). --force fires anyway. --at in the past fires what was due then.

A source that a running daemon owns is the daemon's to write: when tick reads it from another place (another --dir, database or table) and its reconcile would change that source's entries, tick refuses before firing anything (exit 3), as "pyrq apply" does; --force reconciles anyway (the daemon then restores its own schedules).

${exitCodes({ 0: 'fired (or nothing due)', 1: 'some due schedule could not be read (the others were fired), or any other error (--at, a setting, Redis)', 3: 'refused: a running daemon owns a source this would change, reading it from elsewhere (--force overrides)' })}`;

  static override examples = [
    { description: 'Fire what is due now', command: '<%= config.bin %> tick' },
    {
      description: 'What would fire at a later time (a dry run)',
      command: '<%= config.bin %> tick --at 2026-06-01T08:00:00Z',
    },
    {
      description: 'Fire as of a later time (demos, tests)',
      command: '<%= config.bin %> tick --at 2026-06-01T08:00:00Z --force --json',
    },
    {
      description: 'From cron, every minute',
      command: '* * * * * <%= config.bin %> tick --config /etc/pyrq/pyrq.toml',
    },
  ];

  static override flags = {
    ...redisFlags,
    ...sourceFlags,
    ...frappeFlags,
    at: Flags.string({
      summary:
        '[default: now] Fire as of this time (ISO 8601; without an offset: the configured timezone). Later than now: a dry run unless --force.',
    }),
    force: Flags.boolean({
      summary:
        'With --at later than now: fire as of that time instead of a dry run. Also: reconcile a source that a running daemon owns with another configuration.',
    }),
  };

  async run(): Promise<Omit<TickResult, 'now'> & { now: string; dryRun: boolean }> {
    const cfg = this.loadSettings();
    let clock = systemClock;
    let dryRun = false;
    if (this.flags.at !== undefined) {
      const t = parseTimestamp(this.flags.at, cfg.timezone);
      if (typeof t !== 'number') throw new PyrqError('CONFIG_INVALID', `--at: ${t.reason}`);
      clock = new ManualClock(t);
      dryRun = t > Date.now() && !this.flags.force;
    }
    const redis = await this.openRedis();
    const keys = new Keys(cfg.redis.prefix);
    if (!dryRun) await this.reconcileFirst(redis, keys);
    // Without --at, fires go by Redis's clock (as the daemon's do); --at is the time given.
    const dispatcher = new Dispatcher({
      redis,
      keys,
      clock,
      logger: await this.log_(),
      config: cfg,
      redisClock: this.flags.at === undefined,
    });
    const r = dryRun ? await dispatcher.previewOnce(clock.now()) : await dispatcher.tickOnce();
    if (r.problems.length > 0) process.exitCode = 1;
    if (!this.jsonEnabled()) this.log(renderTick(r, { dryRun }).join('\n'));
    return { ...r, now: new Date(r.now).toISOString(), dryRun };
  }

  /**
   * Start-up safety without a daemon: reconcile the configured sources before firing.
   * No source configured: fire the registry as it stands, saying why on stderr unless a
   * daemon (which reconciles continuously) holds the lease.
   */
  private async reconcileFirst(redis: Parameters<typeof readLeaseHolder>[0], keys: Keys): Promise<void> {
    const cfg = this.loadSettings();
    let sources;
    try {
      sources = sourcesFromConfig(cfg, { logger: await this.log_() });
    } catch (e) {
      if (!(e instanceof PyrqError) || e.code !== 'NO_SOURCES') throw e;
      if ((await readLeaseHolder(redis, keys.leader)) === null) {
        this.logToStderr(
          'pyrq tick: no source configured and no daemon running: firing the registry as last applied. A schedule changed or deleted in its source since then fires in its applied form; pass --dir/--mysql-url/--postgres-url (or run "pyrq apply" first).',
        );
      }
      return;
    }
    this.onClose(async () => {
      for (const s of sources) await s.close();
    });
    const check = await ownerCheck(redis, keys, sources, 'tick', this.flags.force);
    await reconcileOnce(
      { sources, registry: new Registry(redis, cfg.redis.prefix), logger: await this.log_() },
      { reason: 'pyrq tick', check },
    );
  }
}
