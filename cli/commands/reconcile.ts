import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { askDaemon } from '../daemon-client.js';

export default class Reconcile extends BaseCommand<typeof Reconcile> {
  static override summary = 'Ask the running daemon for a full re-sync now.';
  static override description = `Sends "reconcile" over the control socket: the daemon re-reads every source from scratch, checks every registry entry for drift, applies the plan, and replies with what it did. Exit code 0 when it applied cleanly, 1 when some input had errors or the daemon did not answer.`;

  static override examples = [
    { description: 'Re-sync now', command: '<%= config.bin %> reconcile' },
    { description: 'Against a daemon on a custom socket, as JSON', command: '<%= config.bin %> reconcile --socket /tmp/pyrq.sock --json' },
  ];

  static override flags = { socket: Flags.string({ summary: 'Control socket path (default from PYRQ_SOCKET or the config).' }) };

  async run(): Promise<unknown> {
    const cfg = this.loadSettings({ socket: this.flags.socket });
    const r = (await askDaemon(cfg.daemon.socket, { op: 'reconcile' }, 120_000)) as { summary: Record<string, number>; errors: string[]; durationMs: number };
    if (!this.jsonEnabled()) {
      for (const e of r.errors) this.log(`! ${e}`);
      const s = r.summary;
      this.log(`Re-sync done in ${r.durationMs} ms: ${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged${s.held ? `, ${s.held} held` : ''}.`);
    }
    if (r.errors.length > 0) process.exitCode = 1;
    return r;
  }
}
