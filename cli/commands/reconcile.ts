import { BaseCommand } from '../base-command.js';
import { askDaemon } from '../daemon-client.js';
import { ignoredRedisFlags, socketFlags } from '../flags.js';
import { renderResync } from '../render/plan.js';
import { exitCodes } from '../help.js';

/** A full re-sync reads every source and every entry: wait far longer than for a ping before calling the daemon gone. */
const RESYNC_WAIT_MS = 120_000;

export default class Reconcile extends BaseCommand<typeof Reconcile> {
  static override summary = 'Ask the running daemon for a full re-sync now.';
  static override description = `Sends "reconcile" over the control socket: the daemon re-reads every source from scratch, checks every registry entry for drift, applies the plan, and replies with what it did.

${exitCodes({ 0: 'applied cleanly', 1: 'some input had errors (the rest was applied), no daemon answered, or a setting is invalid' })}`;

  static override examples = [
    { description: 'Re-sync now', command: '<%= config.bin %> reconcile' },
    {
      description: 'Against a daemon on a custom socket, as JSON',
      command: '<%= config.bin %> reconcile --socket /tmp/pyrq.sock --json',
    },
  ];

  static override flags = { ...socketFlags, ...ignoredRedisFlags };

  async run(): Promise<unknown> {
    const cfg = this.loadSettings();
    const r = (await askDaemon(cfg.daemon.socket, { op: 'reconcile' }, RESYNC_WAIT_MS)) as {
      summary: Record<string, number>;
      errors: string[];
      durationMs: number;
    };
    if (!this.jsonEnabled()) this.log(renderResync(r).join('\n'));
    if (r.errors.length > 0) process.exitCode = 1;
    return r;
  }
}
